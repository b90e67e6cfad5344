"""Short-chunk ResNet: the strongest classic tagger in Won, Ferraro, Bogdanov & Serra (2020).

"Evaluation of CNN-based automatic music tagging models" (SMC 2020) trained
the taggers of the literature under one protocol and found that a plain VGG
-ish 2-D CNN on *short* chunks, with residual blocks, did best on
MagnaTagATune (ROC-AUC 0.913): seven residual blocks of two 3x3 convolutions
each (the first strided by 2 in both axes, a strided 3x3 conv on the shortcut;
128-128-256-256-256-256-512 channels) on a 128-band log-mel of 59,049 samples
(3.69 s at 16 kHz, n_fft 512, hop 256: 231 frames), a global max pool, and a
dense head (512 units, BatchNorm, ReLU, dropout 0.5).  Adam at 1e-4, batch
16, up to 200 epochs, as in their code; the recipe keeps those (mtag's
trainer uses AdamW with warm-up and early stopping).

Kept: blocks, widths, strides, head and the input above.
Changed, and why: the paper used torchaudio's HTK mel filters; mtag's general
log-mel uses Slaney filters (same dB compression).  The global max pool runs
over frequency *and* time (the paper's 128 bands end at one band, other
``n_mels`` may not), so any number of frames from 1 on works
(:attr:`ShortRes.min_frames`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mtag.nets.common import PENULTIMATE, ClassifierHead, as_image, check_count, check_fraction, checked_widths
from mtag.nets.recipes import Recipe

#: The transfer point before the dense layer (the other is the dense layer's output).
POOLED = "pooled"
#: The paper's chunk: 3^10 samples at 16 kHz.
CHUNK_SAMPLES, PAPER_RATE = 59049, 16000


class ResBlock2d(nn.Module):
    """conv(stride 2) -> BN -> ReLU -> conv -> BN, plus a strided conv -> BN shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
        return (y + self.shortcut(x)).relu()


class ShortRes(ClassifierHead):
    """Log-mel ``(B, frames, n_mels)`` -> logits ``(B, n_labels)``; any number of frames >= 1."""

    RECIPE = Recipe(
        frontend={"kind": "logmel", "sample_rate": PAPER_RATE, "n_fft": 512, "hop_length": 256, "n_mels": 128},
        window_seconds=CHUNK_SAMPLES / PAPER_RATE,
        lr=1e-4,
        batch_size=16,
        epochs=200,
    )

    def __init__(
        self,
        n_labels: int = 50,
        n_mels: int = 128,
        widths: Sequence[int] = (128, 128, 256, 256, 256, 256, 512),
        dropout: float = 0.5,
    ) -> None:
        """``widths``: output channels of each residual block (each halves time and frequency)."""
        super().__init__()
        check_count("n_labels", n_labels)
        check_count("n_mels", n_mels)
        check_fraction("dropout", dropout)
        widths = checked_widths("widths", widths)
        self.min_frames = 1
        self.input_bn = nn.BatchNorm2d(1)
        self.blocks = nn.Sequential(*(ResBlock2d(c_in, c_out) for c_in, c_out in zip([1, *widths[:-1]], widths)))
        self.dense = nn.Linear(widths[-1], widths[-1])
        self.dense_bn = nn.BatchNorm1d(widths[-1])
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(widths[-1], n_labels)

    #: Where a new head can sit (mtag.train.transfer): the dense layer's output (default) or the pooled blocks.
    TRANSFER_POINTS = (PENULTIMATE, POOLED)

    def embed(self, logmel: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        """The last block's channels max-pooled over frequency and time, then (``penultimate``) the dense layer."""
        pooled = self.blocks(self.input_bn(as_image(logmel))).amax(dim=(2, 3))
        return pooled if point == POOLED else self.penultimate(pooled)

    def penultimate(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.dense_bn(self.dense(pooled)).relu()

    def head(self, embedding: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        hidden = self.penultimate(embedding) if point == POOLED else embedding
        return self.classifier(self.dropout(hidden))

    @staticmethod
    def head_modules(point: str = PENULTIMATE) -> tuple[str, ...]:
        return ("dense", "dense_bn", "classifier") if point == POOLED else ("classifier",)
