"""The log-mel front end, in plain torch, faithful to musicnn's preprocessing.

musicnn computed ``librosa.feature.melspectrogram`` (periodic Hann, power 2,
Slaney mel scale and area normalisation), rounded the mel power to float16 and
compressed it with ``log10(10000 x + 1)``.  The models only give their reported
accuracy on exactly that input, so each step is reproduced here, including the
float16 rounding (see ``../shared/reference/musicnn/SPEC.md``, pitfall 1).

The front end works on *chunks*: a window of ``F`` frames is computed from
``(F - 1) * hop + n_fft`` samples that already carry the centre padding (reflect at the
file's edges, real neighbouring samples elsewhere; see
:mod:`mtag.audio.windows`).  Every window is then independent of the others,
which is what lets the engine stream a file of any length in bounded memory and
batch windows of different tracks together.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mtag.cards import MelSpec, MusicnnLogMelSpec

#: Largest finite float16.  The original overflowed to inf above it (NumPy 2)
#: or kept it (NumPy 1); clamping keeps a pathological file from producing NaN.
FLOAT16_MAX = 65504.0


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's auditory-toolbox mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_region = hz >= 1000.0
    mel[log_region] = 15.0 + np.log(hz[log_region] / 1000.0) / (np.log(6.4) / 27.0)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    log_region = mel >= 15.0
    hz[log_region] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[log_region] - 15.0))
    return hz


def mel_edges(spec: MelSpec) -> np.ndarray:
    """The ``n_mels + 2`` edge frequencies (Hz) of the mel filters: filter *i* spans edges *i* to *i + 2*.

    Lets a report name the frequencies of a range of mel bands ("mid: 700-2800 Hz").
    """
    mel_lo, mel_hi = _hz_to_mel(np.array([spec.fmin, spec.top_hz]))
    return _mel_to_hz(np.linspace(mel_lo, mel_hi, spec.n_mels + 2))


def slaney_mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Triangular mel filters with area normalisation, shape ``(n_mels, n_fft // 2 + 1)``.

    Built here rather than taken from librosa so that mtag needs no librosa;
    the arithmetic follows ``librosa.filters.mel(htk=False, norm='slaney')``
    step by step (float64 edges, float32 weights) so the filters agree to ~1e-9.
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    fft_freqs = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    mel_lo, mel_hi = _hz_to_mel(np.array([fmin, fmax]))
    edges = _mel_to_hz(np.linspace(mel_lo, mel_hi, n_mels + 2))
    widths = np.diff(edges)
    ramps = np.subtract.outer(edges, fft_freqs)
    weights = np.zeros((n_mels, fft_freqs.size), dtype=np.float32)
    for i in range(n_mels):
        rising = -ramps[i] / widths[i]
        falling = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2 : n_mels + 2] - edges[:n_mels]))[:, np.newaxis]
    return weights


class MelPower(nn.Module):
    """Pre-padded sample chunks ``(B, samples)`` -> mel power ``(B, frames, n_mels)``, always in float32."""

    window: torch.Tensor
    filters: torch.Tensor

    def __init__(self, spec: MelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.register_buffer("window", torch.hann_window(spec.n_fft, periodic=True), persistent=False)
        filters = slaney_mel_filterbank(spec.sample_rate, spec.n_fft, spec.n_mels, spec.fmin, spec.fmax)
        self.register_buffer("filters", torch.from_numpy(filters), persistent=False)

    def forward(self, chunks: torch.Tensor) -> torch.Tensor:
        # The chunks carry their centre padding already (see mtag.audio.windows), hence center=False.
        spec = torch.stft(
            chunks.float(),
            n_fft=self.spec.n_fft,
            hop_length=self.spec.hop_length,
            window=self.window,
            center=False,
            return_complex=True,
        )
        power = spec.real.square() + spec.imag.square()
        return torch.matmul(self.filters, power).transpose(1, 2)


class MusicnnLogMel(nn.Module):
    """musicnn's network input: float16-rounded mel power compressed with ``log10(10000 x + 1)``."""

    def __init__(self, spec: MusicnnLogMelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.mel = MelPower(spec)

    def forward(self, chunks: torch.Tensor) -> torch.Tensor:
        mel = self.mel(chunks)
        # The float16 rounding is part of the models' definition (SPEC.md pitfall 1); reduced precision
        # anywhere else in the front end is not, which is why MelPower always computes in float32.
        if self.spec.float16_rounding:
            mel = mel.clamp(max=FLOAT16_MAX).half().float()
        return torch.log10(10000.0 * mel + 1.0)
