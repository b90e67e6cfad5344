"""The VGG-like baseline shipped with musicnn: five 3x3 conv blocks on the log-mel.

It is the "computer vision" counterpart of :mod:`mtag.nets.musicnn` and needs
exactly ``n_frames`` frames because its dense layer reads the flattened map.
The design follows Choi, Fazekas and Sandler 2016 ("Automatic tagging using
deep convolutional neural networks": 3x3 convolutions, BatchNorm, max-pooling
in five blocks), as the musicnn authors' baseline trains it: their input,
3-second (187-frame) patches.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mtag.nets.common import TF_BN_EPS, ConvReluBn, layer_widths
from mtag.nets.musicnn import MUSICNN_FRONTEND, MUSICNN_WINDOW
from mtag.nets.recipes import Recipe

#: (kernel, stride) of each block's max-pool, in (time, frequency).  The first
#: pool is 4x1 with stride 2x2: non-square and overlapping, as in the original.
POOLS = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4)))


def _pooled_size(size: int, dim: int) -> int:
    for kernel, stride in POOLS:
        size = (size - kernel[dim]) // stride[dim] + 1
    return size


def pooled_cells(n_frames: int, n_mels: int) -> int:
    """Time x frequency cells of the last pooled map: the classifier reads each channel at each."""
    return _pooled_size(n_frames, 0) * _pooled_size(n_mels, 1)


class Vgg(nn.Module):
    """Log-mel patches ``(B, n_frames, n_mels)`` -> logits ``(B, n_labels)``."""

    #: From scratch as musicnn's vgg baseline: its input and 187-frame window (fixed), Adam at 1e-3, batches of 32.
    RECIPE = Recipe(
        frontend=MUSICNN_FRONTEND, window_seconds=MUSICNN_WINDOW, lr=1e-3, batch_size=32, epochs=30, fixed_length=True
    )

    def __init__(
        self,
        n_labels: int = 50,
        n_mels: int = 96,
        n_frames: int = 187,
        filters: int | Sequence[int] = 128,
        dropout: float = 0.5,
    ) -> None:
        """``filters``: one width for every block (the paper's 128) or one per block (dead channels removed)."""
        super().__init__()
        widths = layer_widths(filters, len(POOLS))
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPS)
        self.blocks = nn.ModuleList(
            ConvReluBn(nn.Conv2d(channels, width, 3, padding=1), TF_BN_EPS, fold_constants=i > 0)
            for i, (channels, width) in enumerate(zip([1, *widths[:-1]], widths))
        )
        self.pools = nn.ModuleList(nn.MaxPool2d(kernel, stride) for kernel, stride in POOLS)
        self.block_dropout = nn.Dropout(0.25)
        flat = pooled_cells(n_frames, n_mels) * widths[-1]
        self.classifier = nn.Linear(flat, n_labels)
        self.dropout = nn.Dropout(dropout)

    #: Where a new head can sit (mtag.train.transfer): the flattened last conv block.
    TRANSFER_POINTS = ("penultimate",)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(logmel, "penultimate"), "penultimate")

    def embed(self, logmel: torch.Tensor, point: str = "penultimate") -> torch.Tensor:
        """The flattened map the classifier reads."""
        x = self.input_bn(logmel.unsqueeze(1))
        for block, pool in zip(self.blocks, self.pools):
            x = self.block_dropout(pool(block(x)))
        # TensorFlow flattened (time, frequency, channel): NHWC, not torch's NCHW.
        return x.permute(0, 2, 3, 1).flatten(1)

    def head(self, embedding: torch.Tensor, point: str = "penultimate") -> torch.Tensor:
        return self.classifier(self.dropout(embedding))

    @staticmethod
    def head_modules(point: str = "penultimate") -> tuple[str, ...]:
        return ("classifier",)
