"""Building blocks shared by the architectures."""

from __future__ import annotations

from torch import nn

#: TensorFlow's batch-normalisation epsilon; every musicnn and vgg BN uses it
#: (PyTorch's default of 1e-5 moves logits visibly).
BN_EPS = 1e-3


class ConvReluBn(nn.Module):
    """conv -> ReLU -> BatchNorm: musicnn puts the normalisation *after* the activation."""

    def __init__(self, conv: nn.Conv1d | nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv
        bn = nn.BatchNorm2d if isinstance(conv, nn.Conv2d) else nn.BatchNorm1d
        self.bn = bn(conv.out_channels, eps=BN_EPS)

    def forward(self, x):
        return self.bn(self.conv(x).relu())
