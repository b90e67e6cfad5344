"""cnn1d: a small baseline of 1-D convolutions over time, the mel bands as input channels.

Each filter spans every band and a few frames, so the network learns
spectral-temporal patterns with few parameters -- the spectrogram variant of
Dieleman and Schrauwen 2014 ("End-to-end learning for music audio", ICASSP),
whose 1-D convolutions over time with frequency bands as channels were the
baseline their raw-audio networks were compared against.  Global max and mean
pooling over time (as in musicnn's back end) make it take any number of
frames.  With the recipe's 64 bands it has about 40 thousand parameters: the
baseline a comparison starts from, trainable in minutes on a CPU.
"""

from __future__ import annotations

import torch
from torch import nn

from mtag.nets.recipes import Recipe


class Cnn1d(nn.Module):
    """Log-mel patches ``(B, frames, n_mels)`` -> logits ``(B, n_labels)``; any number of frames."""

    RECIPE = Recipe(
        frontend={"kind": "logmel", "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 64},
        window_seconds=3.0,
        lr=1e-3,
        batch_size=32,
        epochs=30,
    )

    def __init__(
        self,
        n_labels: int,
        n_mels: int = 64,
        channels: int = 64,
        layers: int = 3,
        kernel: int = 3,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        if channels < 1 or layers < 1 or kernel < 1:
            raise ValueError(f"channels, layers and kernel must be at least 1, got {channels}, {layers}, {kernel}")
        self.input_bn = nn.BatchNorm1d(n_mels)  # dB values vary by tens: normalise each band first
        blocks: list[nn.Module] = []
        for i in range(layers):
            blocks += [
                nn.Conv1d(n_mels if i == 0 else channels, channels, kernel, padding=kernel // 2),
                nn.BatchNorm1d(channels),
                nn.ReLU(),
                nn.MaxPool1d(2, ceil_mode=True),  # ceil: a window of one frame still pools to one
            ]
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * channels, n_labels)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.input_bn(logmel.transpose(1, 2)))  # (B, channels, frames / 2**layers)
        pooled = torch.cat([x.amax(dim=2), x.mean(dim=2)], dim=1)
        return self.classifier(self.dropout(pooled))
