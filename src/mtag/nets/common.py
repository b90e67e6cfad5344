"""Building blocks shared by the architectures."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

#: TensorFlow's batch-normalisation epsilon.  The networks converted from TensorFlow (musicnn, vgg) were
#: trained with it and need it (PyTorch's default of 1e-5 moves their logits visibly); a network trained
#: in PyTorch keeps PyTorch's default, so this is passed where it is needed, never assumed.
TF_BN_EPS = 1e-3


def layer_widths(widths: int | Sequence[int], count: int) -> list[int]:
    """Per-layer channel counts from one width for all layers or one per layer.

    The paper's networks use one width per layer group; a converted model whose
    dead channels were removed (tools/convert_musicnn.py) lists one per layer.
    """
    if isinstance(widths, int):
        return [widths] * count
    widths = [int(w) for w in widths]
    if len(widths) != count or min(widths) < 1:
        raise ValueError(f"expected {count} positive layer widths, got {widths}")
    return widths


def constant_input_response(taps: torch.Tensor, size: Sequence[int], padding: Sequence[int]) -> torch.Tensor:
    """``(1, out, *size)``: what a zero-padded convolution makes of inputs that are 1 everywhere.

    ``taps`` ``(out, *kernel)`` are a removed constant input channel's kernel
    times its value.  Inside the map this is the sum of the taps, a plain bias;
    near the edges some taps fall on the zero padding, so the edge positions
    get less.  Folding removed channels this way keeps the function exact.
    """
    conv = F.conv1d if taps.dim() == 2 else F.conv2d
    return conv(taps.new_ones((1, 1, *size)), taps.unsqueeze(1), padding=tuple(padding))


class ConvReluBn(nn.Module):
    """conv -> ReLU -> BatchNorm: musicnn puts the normalisation *after* the activation.

    With ``fold_constants`` the block has ``const_taps`` ``(out, *kernel)``: the
    contribution of input channels that were constant for every input and
    were removed at conversion (see :func:`constant_input_response`); zero for
    a network nothing was removed from.
    """

    def __init__(self, conv: nn.Conv1d | nn.Conv2d, eps: float = 1e-5, fold_constants: bool = False) -> None:
        super().__init__()
        self.conv = conv
        bn = nn.BatchNorm2d if isinstance(conv, nn.Conv2d) else nn.BatchNorm1d
        self.bn = bn(conv.out_channels, eps=eps)
        # A buffer, not a parameter: it is fixed at conversion, never trained.
        taps = torch.zeros(conv.out_channels, *conv.kernel_size) if fold_constants else None
        self.register_buffer("const_taps", taps)

    def forward(self, x):
        y = self.conv(x)
        if self.const_taps is not None:
            y = y + constant_input_response(self.const_taps, y.shape[2:], self.conv.padding)
        return self.bn(y.relu())
