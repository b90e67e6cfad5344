"""FCN: the fully convolutional tagger of Choi, Fazekas & Sandler (2016).

"Automatic tagging using deep convolutional neural networks" (ISMIR 2016)
tags with nothing but 3x3 convolutions and max-pools on a log-mel, the pools
shrinking a 96-band x 1366-frame (29.1 s at 12 kHz) input to one cell, which a
dense layer reads.  The paper's best MagnaTagATune model had 4 layers; on
the larger Million Song Dataset deeper ones did better.  The sizes here are
the 5-layer FCN of the authors' released Keras tagger, which Won et al.
(2020) also re-trained for their comparison: 64-128-128-128-64 channels,
pools (2,4) (2,4) (2,4) (3,5) (4,4) in frequency x time, batch normalisation
and ELU (~0.45 M parameters for 50 labels).  ``widths`` and ``pools`` give
any other depth.

Kept: the layers, widths, pools and the paper's input (12 kHz, n_fft 512,
hop 256, 96 mel bands, 29.1 s).
Changed, and why:

- Each pool shrinks to the map where the map is smaller, and a global max
  pool over what is left feeds the dense layer (:func:`mtag.nets.common.pool_within`):
  on the paper's input this is the paper's network, and any other window or
  number of bands the user's front-end options give still works.  Any number
  of frames from 1 on is accepted (:attr:`Fcn.min_frames`).
- The log-mel is the general dB one with Slaney mel filters (the paper used
  librosa's, the same) and a learned input BatchNorm in place of fixed
  data-set statistics.
- Dropout 0.5 before the classifier, as Won et al. (2020) trained it when
  they re-evaluated FCN; the paper's optimiser settings are not all stated,
  so the recipe uses AdamW at 1e-3 (mtag's trainer), batch 16.
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
from mtag.nets.recipes import Recipe

#: The released MagnaTagATune FCN's input: 1366 frames of 256 samples at 12 kHz (29.1 s).
PAPER_FRAMES, PAPER_RATE, PAPER_HOP = 1366, 12000, 256

#: The input and schedule of Choi et al.'s released Keras taggers: the FCN (2016) and the CRNN (2017,
#: :mod:`mtag.nets.crnn`) read the same 96-band log-mel of 29.1 s at 12 kHz and train alike.
CHOI_RECIPE = Recipe(
    frontend={"kind": "logmel", "sample_rate": PAPER_RATE, "n_fft": 512, "hop_length": PAPER_HOP, "n_mels": 96},
    window_seconds=PAPER_FRAMES * PAPER_HOP / PAPER_RATE,
    lr=1e-3,
    batch_size=16,
    epochs=50,
)


class Fcn(ClassifierHead):
    """Log-mel ``(B, frames, n_mels)`` -> logits ``(B, n_labels)``; any number of frames >= 1."""

    RECIPE = CHOI_RECIPE

    def __init__(
        self,
        n_labels: int = 50,
        n_mels: int = 96,
        widths: Sequence[int] = (64, 128, 128, 128, 64),
        pools: Sequence[Sequence[int]] = ((2, 4), (2, 4), (2, 4), (3, 5), (4, 4)),
        dropout: float = 0.5,
    ) -> None:
        """``widths``: channels per conv layer; ``pools``: its (frequency, time) max-pool, one per layer."""
        super().__init__()
        check_count("n_labels", n_labels)
        check_count("n_mels", n_mels)
        check_fraction("dropout", dropout)
        widths = checked_widths("widths", widths)
        pairs = checked_pools(pools, len(widths))
        self.min_frames = 1
        self.input_bn = nn.BatchNorm2d(1)
        self.blocks = nn.Sequential(
            *(ConvBnPool2d(c_in, c_out, pool) for c_in, c_out, pool in zip([1, *widths[:-1]], widths, pairs))
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(widths[-1], n_labels)

    def embed(self, logmel: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        """The last block's channels, max-pooled over what is left of frequency and time."""
        return self.blocks(self.input_bn(as_image(logmel))).amax(dim=(2, 3))
