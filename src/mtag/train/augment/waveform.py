"""Waveform augmentations in torch, on a batch ``(B, samples)`` on the CPU or the GPU.

Each function takes its per-example parameters explicitly (a tensor of SNRs,
gains, offsets; a factor), so what it promises can be checked on a known
signal; :class:`~mtag.train.augment.augmenter.Augmenter` draws them.

Stretch and pitch change the signal's length on the way; :func:`fit_length`
brings a segment back to the length the network takes: the first
``length`` samples of a longer one, a shorter one repeated to fill it (as
the trainer fills a track shorter than a segment).
"""

from __future__ import annotations

import math

import torch


def add_noise(x: torch.Tensor, snr_db: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """White Gaussian noise at ``snr_db[b]`` dB below segment ``b``'s own mean power (silence stays silent)."""
    power = x.pow(2).mean(dim=-1, keepdim=True)
    scale = torch.sqrt(power / 10.0 ** (snr_db[:, None] / 10.0))
    noise = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
    # Scaled to exactly unit power, so the SNR is the one asked, not one up to the noise's sampling error.
    noise = noise / noise.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp(min=1e-12)
    return x + scale * noise


def apply_gain(x: torch.Tensor, db: torch.Tensor) -> torch.Tensor:
    """Segment ``b`` times ``db[b]`` dB (no clipping: the front end takes floats beyond full scale)."""
    return x * 10.0 ** (db[:, None] / 20.0)


def shift(x: torch.Tensor, offsets: torch.Tensor, circular: bool) -> torch.Tensor:
    """Segment ``b`` moved ``offsets[b]`` samples later: rolled round (circular), or with zeros coming in (pad)."""
    length = x.shape[-1]
    source = torch.arange(length, device=x.device)[None, :] - offsets[:, None].to(x.device)
    if circular:
        return torch.gather(x, 1, source % length)
    inside = (source >= 0) & (source < length)
    return torch.gather(x, 1, source.clamp(0, length - 1)) * inside


#: How far (in bins) a bin looks for the peak whose phase it follows.
LOCK_BINS = 2


def _stft_frame(sample_rate: int) -> int:
    """An STFT size of ~64 ms: long enough to resolve the harmonics the phase vocoder keeps in place."""
    return 1 << max(8, round(math.log2(sample_rate * 0.064)))


def time_stretch(x: torch.Tensor, factor: float, sample_rate: int = 16000) -> torch.Tensor:
    """``x`` (``(B, samples)``) ``factor`` times as long at the same pitch: ``round(samples * factor)`` samples."""
    ones = torch.ones(x.shape[0], device=x.device)
    return vocode_rows(x, ones * factor, ones * 0.0, sample_rate, fit=False)


def pitch_shift(x: torch.Tensor, semitones: float, sample_rate: int = 16000) -> torch.Tensor:
    """``x`` ``semitones`` higher (lower if negative) at the same length: stretched by the ratio, resampled back."""
    ones = torch.ones(x.shape[0], device=x.device)
    return vocode_rows(x, ones, ones * semitones, sample_rate, fit=False)


def vocode_rows(
    x: torch.Tensor, factors: torch.Tensor, semitones: torch.Tensor, sample_rate: int, fit: bool = True
) -> torch.Tensor:
    """Row ``b`` stretched ``factors[b]`` times and shifted ``semitones[b]``, in one phase-vocoder pass.

    A pitch shift by ratio ``r`` is a stretch by ``r`` (same pitch, longer)
    resampled back to the length it should have (every frequency times ``r``),
    so a row both stretched and shifted is vocoded once, by ``factor * r``.
    ``fit`` brings every row back to the batch's length (:func:`fit_length`);
    without it the rows keep their new length (all rows must then share one).
    """
    ratios = 2.0 ** (semitones / 12.0)
    if bool(((factors == 1) & (ratios == 1)).all()):
        return x
    stretched, lengths = vocoder(x, factors * ratios, sample_rate)
    wanted = [round(x.shape[-1] * float(f)) for f in factors]
    rows = [
        row[:have] if have == want else resample(row[:have], want)
        for row, have, want in zip(stretched, lengths, wanted)
    ]
    if not fit:
        return torch.stack(rows)
    padded = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)
    return fit_length(padded, x.shape[-1], wanted)


def vocoder(x: torch.Tensor, factors: torch.Tensor, sample_rate: int) -> tuple[torch.Tensor, list[int]]:
    """Row ``b`` of ``x`` stretched ``factors[b]`` times at the same pitch: a phase vocoder on the STFT, batched.

    Returns the rows (zero after each one's end) and each row's length,
    ``round(samples * factors[b])``.  Each output frame interpolates the
    magnitudes of the two nearest input frames and advances every bin's phase
    by the input's measured increment (Flanagan & Golden 1966), with the bins
    round each peak locked to it (Laroche & Dolson 1999) so partials keep
    their frequency and their level.
    """
    n_fft = _stft_frame(sample_rate)
    hop = n_fft // 4
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(x, n_fft, hop, window=window, return_complex=True, pad_mode="constant").transpose(1, 2)
    batch, frames, bins = spec.shape  # frames first: bins are the contiguous axis the locking scans
    # Two empty frames after the end: a row whose steps ran out interpolates silence.
    magnitudes = torch.nn.functional.pad(spec.abs(), (0, 0, 0, 2))
    angles = torch.nn.functional.pad(spec.angle(), (0, 0, 0, 2))
    count = math.ceil(frames * float(factors.max()))
    steps = torch.arange(count, device=x.device, dtype=x.dtype)[None, :] / factors[:, None].to(x.dtype)
    steps = steps.clamp(max=frames)
    low = steps.floor().long()
    weight = (steps - low)[:, :, None]
    index = low[:, :, None].expand(batch, count, bins)
    magnitude = (1 - weight) * magnitudes.gather(1, index) + weight * magnitudes.gather(1, index + 1)
    before, after = angles.gather(1, index), angles.gather(1, index + 1)
    expected = torch.linspace(0, math.pi * hop, bins, device=x.device, dtype=x.dtype)
    increment = after - before - expected
    increment = increment - 2 * math.pi * torch.round(increment / (2 * math.pi)) + expected
    phase = torch.cat([angles[:, :1], increment[:, :-1]], dim=1).cumsum(dim=1)
    stretched = torch.polar(magnitude, _locked(phase, before, magnitude)).transpose(1, 2)
    lengths = [round(x.shape[-1] * float(f)) for f in factors]
    return torch.istft(stretched, n_fft, hop, window=window, length=max(lengths)), lengths


def _locked(phase: torch.Tensor, analysis: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
    """Phase locking (after Laroche & Dolson 1999): each bin keeps its input phase offset to the peak near it.

    ``(B, frames, bins)`` in and out.  The peak of bin ``k`` is the loudest
    bin within :data:`LOCK_BINS` of it (a Hann window's main lobe is 4 bins
    wide), so a partial's lobe moves as one.  Accumulated alone, one bad
    increment (a frame at the signal's edge) leaves each bin off by its own
    constant, and the lobe's bins partly cancel: a tone loses up to 6 dB.
    """
    bins = magnitude.shape[-1]
    nearby = torch.nn.functional.pad(magnitude, (LOCK_BINS, LOCK_BINS), value=-1.0).unfold(-1, 2 * LOCK_BINS + 1, 1)
    peak = nearby.argmax(dim=-1) + torch.arange(-LOCK_BINS, bins - LOCK_BINS, device=magnitude.device)
    return phase.gather(2, peak) + analysis - analysis.gather(2, peak)


def resample(x: torch.Tensor, length: int) -> torch.Tensor:
    """``x`` resampled to ``length`` samples over the same span, band-limited (FFT: what does not fit is cut)."""
    have = x.shape[-1]
    if length == have:
        return x
    spectrum = torch.fft.rfft(x)
    bins = length // 2 + 1
    spectrum = (
        spectrum[..., :bins]
        if spectrum.shape[-1] >= bins
        else torch.nn.functional.pad(spectrum, (0, bins - spectrum.shape[-1]))
    )
    return torch.fft.irfft(spectrum, n=length) * (length / have)


def fit_length(x: torch.Tensor, length: int, lengths: list[int] | None = None) -> torch.Tensor:
    """Rows of ``length`` samples: the first ``length`` of a longer row, a shorter one repeated to fill it.

    ``lengths[b]`` is how much of row ``b`` is signal (default: all of it).
    """
    have = torch.tensor(lengths or [x.shape[-1]] * x.shape[0], device=x.device).clamp(min=1)
    index = torch.arange(length, device=x.device)[None, :] % have[:, None]
    return x.gather(-1, index)
