"""SampleCNN: the sample-level raw-waveform tagger of Lee, Park, Kim & Nam (2017), optionally with SE blocks.

"Sample-level deep convolutional neural networks for music auto-tagging
using raw waveforms" (SMC 2017) learns its own front end from the samples
with filters of three samples: the "3^9 model" takes 59,049 = 3^10 samples
(2.68 s at 22,050 Hz), a strided conv (3 samples, stride 3, 128 channels)
makes 19,683 frames, nine blocks of conv 3 -> BatchNorm -> ReLU -> max-pool 3
(128-128-256-256-256-256-256-256-512 channels) reduce them to one, a 512-wide
conv and dropout 0.5 feed the classifier.  Lee et al. trained with SGD
(Nesterov momentum, lr 0.01) and batch 23; the recipe keeps the batch and
uses AdamW at 1e-4, the rate Won et al. (2020) re-trained SampleCNN with,
because mtag's trainer is AdamW.  The recipe uses the 22,050 Hz of the paper;
Won et al. ran the same 59,049 samples at 16 kHz (3.69 s): set the front
end's sample rate to 16000 for that.

``se=True`` gives the squeeze-and-excitation variant of Kim, Lee & Nam
(2018), "Sample-level CNN architectures for music auto-tagging using raw
waveforms" (ICASSP 2018): after each block, the channels' mean over time goes
through a bottleneck of ``se_ratio`` x channels (ReLU) and a sigmoid, and
rescales the channels.  ``se_ratio`` 0.125 is the authors' released setting
for MagnaTagATune (tae-jun/resemul).

Changed, and why: the last conv reads the single remaining frame, so it has
a kernel of 1, as in Won et al.'s re-implementation (3 taps would only add
two that read zero padding).  The SE variant keeps the basic head; Kim et al.
also concatenated the last three blocks' pooled outputs (multi-level
aggregation), which is not reproduced here.

The network is fixed-length: the blocks reduce exactly ``n_frames`` =
3^(blocks + 1) samples to one frame (:attr:`SampleCnn.min_frames`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mtag.nets.common import PENULTIMATE, ClassifierHead, check_count, check_fraction, check_positive, checked_widths
from mtag.nets.recipes import Recipe

#: 3^10 samples: the strided first conv and nine pooling blocks each divide by three.
PAPER_SAMPLES, PAPER_RATE = 59049, 22050


class SqueezeExcite(nn.Module):
    """Channel weights from the channels' mean over time (Hu et al. 2018, as Kim et al. used it on 1-D maps)."""

    def __init__(self, channels: int, ratio: float) -> None:
        super().__init__()
        hidden = max(1, round(channels * ratio))
        self.excite = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.excite(x.mean(dim=2)).unsqueeze(2)


class SampleBlock(nn.Module):
    """conv 3 -> BatchNorm -> ReLU -> max-pool 3, then the optional SE rescaling."""

    def __init__(self, in_channels: int, out_channels: int, se_ratio: float | None) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm1d(out_channels)
        self.pool = nn.MaxPool1d(3)
        self.se: nn.Module = nn.Identity() if se_ratio is None else SqueezeExcite(out_channels, se_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.se(self.pool(self.bn(self.conv(x)).relu()))


class SampleCnn(ClassifierHead):
    """Samples ``(B, n_frames)`` -> logits ``(B, n_labels)``; exactly ``n_frames`` samples (59,049 by default)."""

    RECIPE = Recipe(
        frontend={"kind": "waveform", "sample_rate": PAPER_RATE},
        window_seconds=PAPER_SAMPLES / PAPER_RATE,
        lr=1e-4,
        batch_size=23,
        epochs=100,
        fixed_length=True,
    )

    def __init__(
        self,
        n_labels: int = 50,
        n_frames: int = PAPER_SAMPLES,
        stem: int = 128,
        widths: Sequence[int] = (128, 128, 256, 256, 256, 256, 256, 256, 512),
        top: int = 512,
        dropout: float = 0.5,
        se: bool = False,
        se_ratio: float = 0.125,
    ) -> None:
        """``stem``: the strided first conv's channels; ``widths``: one per pooling block; ``top``: the last conv."""
        super().__init__()
        for name, value in {"n_labels": n_labels, "stem": stem, "top": top}.items():
            check_count(name, value)
        check_positive("se_ratio", se_ratio)
        check_fraction("dropout", dropout)
        if not isinstance(se, bool):
            raise ValueError(f"parameter 'se' must be true or false, got {se!r}")
        widths = checked_widths("widths", widths)
        needed = 3 ** (len(widths) + 1)
        if n_frames != needed:
            raise ValueError(
                f"parameter 'n_frames' must be {needed} samples (3^{len(widths) + 1}) for {len(widths)} blocks, "
                f"got {n_frames!r}"
            )
        self.n_frames = self.min_frames = needed
        self.stem = nn.Sequential(nn.Conv1d(1, stem, 3, stride=3), nn.BatchNorm1d(stem), nn.ReLU())
        self.blocks = nn.Sequential(
            *(SampleBlock(c_in, c_out, se_ratio if se else None) for c_in, c_out in zip([stem, *widths[:-1]], widths))
        )
        self.top = nn.Sequential(nn.Conv1d(widths[-1], top, 1), nn.BatchNorm1d(top), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(top, n_labels)

    def embed(self, samples: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        """The last conv's channels at the one frame the blocks leave."""
        if samples.shape[-1] != self.n_frames:
            raise ValueError(f"samplecnn takes exactly {self.n_frames} samples per window, got {samples.shape[-1]}")
        return self.top(self.blocks(self.stem(samples.unsqueeze(1)))).flatten(1)  # (B, top)
