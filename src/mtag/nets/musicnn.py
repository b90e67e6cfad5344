"""musicnn (Pons and Serra 2019): a musically motivated CNN for audio tagging.

The front end has two kinds of filters shaped after musical knowledge: *timbral*
filters spanning many mel bands over a few frames, and *temporal* filters
spanning one band over many frames.  A residual, densely connected mid end and a
pooled back end follow.  The layer order and padding reproduce the original
TensorFlow graph exactly (SPEC.md section 2); the comments name the pitfalls.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mtag.nets.common import TF_BN_EPS, ConvReluBn, layer_widths
from mtag.nets.recipes import Recipe

TIMBRAL_KERNELS = ((7, 0.4), (7, 0.7))  # (frames, share of the mel bands)
TEMPORAL_KERNELS = (128, 64, 32)  # frames, one band wide

#: Transfer points (see ``embed``): the pooled mid-end features, or the dense layer's output.
POOLED, PENULTIMATE = "pooled", "penultimate"

#: The input both shipped musicnn-family models were trained on (Pons et al. 2018, "End-to-end learning for
#: music audio tagging at scale"; Pons and Serra 2019): 16 kHz, 96 mel bands, 512-sample FFT, hop 256,
#: log10(10000 x + 1), 3-second patches of 187 frames.
MUSICNN_FRONTEND = {"kind": "musicnn-logmel", "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 96}
MUSICNN_WINDOW = 187 * 256 / 16000


class Musicnn(nn.Module):
    """Log-mel patches ``(B, frames, n_mels)`` -> logits ``(B, n_labels)``; any number of frames."""

    #: From scratch as in Pons et al. 2018 / Pons and Serra 2019: Adam at 1e-3, batches of 32, 3 s patches.
    RECIPE = Recipe(frontend=MUSICNN_FRONTEND, window_seconds=MUSICNN_WINDOW, lr=1e-3, batch_size=32, epochs=30)

    def __init__(
        self,
        n_labels: int = 50,
        n_mels: int = 96,
        timbral_filters: int | Sequence[int] = 204,
        temporal_filters: int | Sequence[int] = 51,
        midend_filters: int | Sequence[int] = 64,
        backend_units: int = 200,
        dropout: float = 0.5,
    ) -> None:
        """Filter counts are one per layer group (the paper's 204, 51, 64) or a list with one per layer.

        Per-layer lists describe a converted model whose dead channels were
        removed; the mid end's widths must not shrink, because each residual
        layer adds its input to the first channels of its output.
        """
        super().__init__()
        timbral = layer_widths(timbral_filters, len(TIMBRAL_KERNELS))
        temporal = layer_widths(temporal_filters, len(TEMPORAL_KERNELS))
        midend = layer_widths(midend_filters, 3)
        if midend != sorted(midend):
            raise ValueError(f"mid-end widths must not shrink (residual sums): {midend}")
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPS)
        self.timbral = nn.ModuleList(
            ConvReluBn(nn.Conv2d(1, width, (frames, int(share * n_mels))), TF_BN_EPS)
            for width, (frames, share) in zip(timbral, TIMBRAL_KERNELS)
        )
        self.temporal = nn.ModuleList(
            ConvReluBn(nn.Conv2d(1, width, (frames, 1)), TF_BN_EPS) for width, frames in zip(temporal, TEMPORAL_KERNELS)
        )
        front_channels = sum(timbral) + sum(temporal)
        self.midend = nn.ModuleList(
            ConvReluBn(nn.Conv1d(channels, width, 7, padding=3), TF_BN_EPS, fold_constants=True)
            for channels, width in zip([front_channels, *midend[:-1]], midend)
        )
        pooled = front_channels + sum(midend)
        self.pool_bn = nn.BatchNorm1d(2 * pooled, eps=TF_BN_EPS)
        self.dense = nn.Linear(2 * pooled, backend_units)
        self.dense_bn = nn.BatchNorm1d(backend_units, eps=TF_BN_EPS)
        self.classifier = nn.Linear(backend_units, n_labels)
        self.dropout = nn.Dropout(dropout)

    def front_end(self, logmel: torch.Tensor) -> torch.Tensor:
        """``(B, T, n_mels)`` -> ``(B, channels, T)``: timbral and temporal features, max over frequency."""
        # Padding comes after the input BN, so it pads with the normalised zero.
        x = self.input_bn(logmel.unsqueeze(1))
        timbral = [layer(F.pad(x, (0, 0, 3, 3))).amax(dim=3) for layer in self.timbral]
        # TF 'same' padding for an even kernel k puts the extra zero at the end:
        # (k - 1) // 2 before, k // 2 after.  Swapping them moves logits by ~2.
        temporal = [
            layer(F.pad(x, (0, 0, (k - 1) // 2, k // 2))).amax(dim=3)
            for layer, k in zip(self.temporal, TEMPORAL_KERNELS)
        ]
        return torch.cat(timbral + temporal, dim=1)

    def mid_end(self, front: torch.Tensor) -> torch.Tensor:
        """Three temporal conv layers, residual from the second on, densely concatenated.

        A residual layer may be wider than its input (channels that were
        constant in the input were removed): the input adds to its first channels.
        """
        outputs = [front]
        x = front
        for i, layer in enumerate(self.midend):
            y = layer(x)
            x = y + F.pad(x, (0, 0, 0, y.shape[1] - x.shape[1])) if i > 0 else y
            outputs.append(x)
        return torch.cat(outputs, dim=1)

    def back_end(self, features: torch.Tensor) -> torch.Tensor:
        """Pooled features through the dense layer to the logits."""
        return self.head(self.pooled(features), POOLED)

    def pooled(self, features: torch.Tensor) -> torch.Tensor:
        """Global max and mean over time, interleaved (max_0, mean_0, max_1, ...) as TF flattened them."""
        return torch.stack([features.amax(dim=2), features.mean(dim=2)], dim=2).flatten(1)

    def penultimate(self, pooled: torch.Tensor) -> torch.Tensor:
        """The dense layer's (normalised) activations: the 200 values the classifier reads."""
        return self.dense_bn(self.dense(self.dropout(self.pool_bn(pooled))).relu())

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.back_end(self.mid_end(self.front_end(logmel)))

    #: Where a new head can sit on the trained network (mtag.train.transfer); the first is the default.
    TRANSFER_POINTS = (PENULTIMATE, POOLED)

    def embed(self, logmel: torch.Tensor, point: str) -> torch.Tensor:
        """The network's activations at a transfer ``point``: ``pooled`` or ``penultimate``."""
        pooled = self.pooled(self.mid_end(self.front_end(logmel)))
        return pooled if point == POOLED else self.penultimate(pooled)

    def head(self, embedding: torch.Tensor, point: str) -> torch.Tensor:
        """The layers after ``point``: ``embed`` then ``head`` is ``forward``."""
        hidden = self.penultimate(embedding) if point == POOLED else embedding
        return self.classifier(self.dropout(hidden))

    @staticmethod
    def head_modules(point: str) -> tuple[str, ...]:
        """The submodules ``head`` uses at ``point``: what a new head re-initialises and trains."""
        return ("pool_bn", "dense", "dense_bn", "classifier") if point == POOLED else ("classifier",)
