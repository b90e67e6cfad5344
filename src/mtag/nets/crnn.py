"""CRNN: the convolutional recurrent tagger of Choi, Fazekas, Sandler & Cho (2017).

"Convolutional recurrent neural networks for music classification" (ICASSP
2017) keeps a small CNN for local features and lets a recurrent network
summarise them over time: four 3x3 conv blocks (64-128-128-128 channels,
max-pools (2,2) (3,3) (4,4) (4,4) in frequency x time, BatchNorm, ELU, dropout
0.1) reduce a 96-band log-mel to one band and a sequence of 15 steps; two
GRU layers of 32 units read that sequence, and the last step's state feeds the
classifier (dropout 0.3).  Sizes and the input (12 kHz, n_fft 512, hop 256,
96 mel bands, 29.1 s) are those of the authors' released Keras model
(0.39 M parameters for 50 labels; the paper compares sizes from 0.1 to 3 M).

Changed, and why:

- The paper zero-padded the 1366 frames to 1440 so the pools divide them;
  here each pool shrinks to the map where it is smaller and a max over the
  bands that remain feeds the GRU (:func:`mtag.nets.common.pool_within`), so
  any window from 1 frame on, and any number of bands, works
  (:attr:`Crnn.min_frames`); the GRU takes sequences of any length anyway.
- General dB log-mel and a learned input BatchNorm instead of data-set
  statistics; AdamW at 1e-3 (mtag's trainer), batch 16, as the paper does not
  state every optimiser setting.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mtag.nets.common import (
    PENULTIMATE,
    ClassifierHead,
    ConvBnPool2d,
    as_image,
    check_count,
    check_fraction,
    checked_pools,
    checked_widths,
)
from mtag.nets.fcn import CHOI_RECIPE


class Crnn(ClassifierHead):
    """Log-mel ``(B, frames, n_mels)`` -> logits ``(B, n_labels)``; any number of frames >= 1."""

    RECIPE = CHOI_RECIPE

    def __init__(
        self,
        n_labels: int = 50,
        n_mels: int = 96,
        widths: Sequence[int] = (64, 128, 128, 128),
        pools: Sequence[Sequence[int]] = ((2, 2), (3, 3), (4, 4), (4, 4)),
        conv_dropout: float = 0.1,
        gru_units: int = 32,
        gru_layers: int = 2,
        dropout: float = 0.3,
    ) -> None:
        """``widths``/``pools``: the conv blocks; ``gru_units``/``gru_layers``: the recurrent part (32, 2)."""
        super().__init__()
        for name, value in {
            "n_labels": n_labels,
            "n_mels": n_mels,
            "gru_units": gru_units,
            "gru_layers": gru_layers,
        }.items():
            check_count(name, value)
        check_fraction("conv_dropout", conv_dropout)
        check_fraction("dropout", dropout)
        widths = checked_widths("widths", widths)
        pairs = checked_pools(pools, len(widths))
        self.min_frames = 1
        self.input_bn = nn.BatchNorm2d(1)
        self.blocks = nn.Sequential(
            *(
                ConvBnPool2d(c_in, c_out, pool, conv_dropout)
                for c_in, c_out, pool in zip([1, *widths[:-1]], widths, pairs)
            )
        )
        self.gru = nn.GRU(widths[-1], gru_units, num_layers=gru_layers, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(gru_units, n_labels)

    def embed(self, logmel: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        """The top GRU layer's state after the last step."""
        features = self.blocks(self.input_bn(as_image(logmel)))  # (B, C, bands, steps)
        sequence = features.amax(dim=2).transpose(1, 2)  # (B, steps, C)
        _, hidden = self.gru(sequence)  # hidden: (layers, B, units)
        return hidden[-1]
