"""The torch modules that compute each front end a model card can declare.

Every module takes pre-padded sample chunks ``(B, samples)`` (see
:mod:`mtag.audio.windows`) and returns the network's input with time on
axis 1: ``(B, frames, features)`` for spectrogram-like inputs, ``(B, samples)``
for a waveform.  :func:`build_frontend` picks the module for a card's
:class:`~mtag.cards.FrontEndSpec`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from mtag.cards import FrontEndSpec, LogMelSpec, MfccSpec, MusicnnLogMelSpec, WaveformSpec
from mtag.cards.frontend import DB_FLOOR
from mtag.nets.melspec import MelPower, MusicnnLogMel


class LogMel(nn.Module):
    """A general log-mel: mel power in dB (floored, so silence stays finite) or ``log1p``."""

    def __init__(self, spec: LogMelSpec | MfccSpec) -> None:
        super().__init__()
        self.mel = MelPower(spec)
        self.compression = getattr(spec, "compression", "db")

    def forward(self, chunks: torch.Tensor) -> torch.Tensor:
        mel = self.mel(chunks)
        if self.compression == "log1p":
            return torch.log1p(mel)
        return 10.0 * torch.log10(mel.clamp(min=DB_FLOOR))


def dct_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """Orthonormal DCT-II as a ``(n_in, n_out)`` matrix: ``x @ D`` gives the first ``n_out`` coefficients."""
    n = torch.arange(n_in, dtype=torch.float64)[:, None]
    k = torch.arange(n_out, dtype=torch.float64)[None, :]
    basis = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    basis[:, 0] /= math.sqrt(2.0)
    return basis.float()


class Mfcc(nn.Module):
    """MFCCs: the DCT of the dB log-mel over bands."""

    dct: torch.Tensor

    def __init__(self, spec: MfccSpec) -> None:
        super().__init__()
        self.logmel = LogMel(spec)
        self.register_buffer("dct", dct_matrix(spec.n_mels, spec.n_mfcc), persistent=False)

    def forward(self, chunks: torch.Tensor) -> torch.Tensor:
        return self.logmel(chunks) @ self.dct


class Waveform(nn.Module):
    """The samples as they are (float32): the network learns its own front end."""

    def forward(self, chunks: torch.Tensor) -> torch.Tensor:
        return chunks.float()


_BUILDERS: dict[type[FrontEndSpec], Callable[..., nn.Module]] = {
    MusicnnLogMelSpec: MusicnnLogMel,
    LogMelSpec: LogMel,
    MfccSpec: Mfcc,
    WaveformSpec: lambda spec: Waveform(),
}


def build_frontend(spec: FrontEndSpec) -> nn.Module:
    """The module that computes ``spec``'s front end."""
    return _BUILDERS[type(spec)](spec)
