"""Building blocks shared by the architectures."""

from __future__ import annotations

from abc import ABC, abstractmethod
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


def check_positive(name: str, value: float) -> None:
    """A size or rate that must be above zero: ValueError naming the parameter otherwise.

    The registry refuses unknown parameter names; this refuses nonsense values
    (a card or ``--param`` with ``depth=0``) before torch fails somewhere deep inside.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"parameter {name!r} must be a positive number, got {value!r}")


def check_count(name: str, value: int) -> None:
    """A number of layers, heads, units...: ValueError naming the parameter unless a whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"parameter {name!r} must be a whole number of at least 1, got {value!r}")


def check_fraction(name: str, value: float) -> None:
    """A probability such as a dropout rate: ValueError naming the parameter unless 0 <= value < 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"parameter {name!r} must be at least 0 and below 1, got {value!r}")


def checked_widths(name: str, widths: Sequence[int]) -> list[int]:
    """Per-layer channel counts from a parameter: a non-empty list of positive integers, else ValueError naming it."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or not widths:
        raise ValueError(f"parameter {name!r} must be a non-empty list of channel counts, got {widths!r}")
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"parameter {name!r} must list positive integers, got {list(widths)!r}")
    return list(widths)


def checked_pools(pools: Sequence[Sequence[int]], count: int) -> list[tuple[int, int]]:
    """``pools`` as (frequency, time) pairs, one per conv layer; ValueError naming ``pools`` otherwise."""
    try:
        pairs = [(int(f), int(t)) for f, t in pools]
    except (TypeError, ValueError):
        raise ValueError(f"parameter 'pools' must list (frequency, time) pairs, got {pools!r}") from None
    if len(pairs) != count or min(min(p) for p in pairs) < 1:
        raise ValueError(f"parameter 'pools' must give {count} pairs of positive sizes (one per layer), got {pools!r}")
    return pairs


def pool_within(x: torch.Tensor, kernel: tuple[int, int]) -> torch.Tensor:
    """Max-pool ``(B, C, freq, time)`` by ``kernel``, each side shrunk to the map's size where the map is smaller.

    The papers sized their pools so that a 96-band, 29-second input ends at
    one cell; a shorter window or fewer bands (the user's front-end options)
    would otherwise pool a side to nothing.  Shrinking the kernel keeps at
    least one cell per side, and the network's global pool at the end takes
    whatever is left -- identical to the paper on the paper's input.
    """
    size = (min(kernel[0], x.shape[2]), min(kernel[1], x.shape[3]))
    return F.max_pool2d(x, size) if size != (1, 1) else x


class ConvBnPool2d(nn.Module):
    """3x3 'same' conv -> BatchNorm -> ELU -> max-pool that fits the map (:func:`pool_within`).

    The block of Choi et al.'s FCN (2016) and CRNN (2017): their released
    Keras code normalises before the ELU, unlike musicnn's conv -> ReLU -> BN.
    """

    def __init__(self, in_channels: int, out_channels: int, pool: tuple[int, int], dropout: float = 0.0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = pool
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(pool_within(F.elu(self.bn(self.conv(x))), self.pool))


def as_image(spectrogram: torch.Tensor) -> torch.Tensor:
    """``(B, frames, bands)`` -> ``(B, 1, bands, frames)``: the papers' frequency x time image layout."""
    return spectrogram.transpose(1, 2).unsqueeze(1)


#: The transfer point every zoo network offers: the features the classifier reads.
PENULTIMATE = "penultimate"


class ClassifierHead(nn.Module, ABC):
    """A network whose last step is ``classifier(dropout(features))``: the transfer protocol for free.

    ``mtag train --from MODEL`` puts a new head on a trained network at one of
    its ``TRANSFER_POINTS`` (see :mod:`mtag.train.start`), through ``embed``,
    ``head`` and ``head_modules``.  A subclass defines ``embed`` (input ->
    the features the classifier reads) and the ``dropout`` and ``classifier``
    modules; a model trained from scratch with ``--arch`` then serves as a
    starting point like the shipped ones.
    """

    TRANSFER_POINTS: tuple[str, ...] = (PENULTIMATE,)
    dropout: nn.Module
    classifier: nn.Linear

    @abstractmethod
    def embed(self, x: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        """The network's activations at transfer ``point``, ``(B, features)``."""

    def head(self, embedding: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        """The layers after ``point``: ``head(embed(x))`` is ``forward(x)``."""
        return self.classifier(self.dropout(embedding))

    @staticmethod
    def head_modules(point: str = PENULTIMATE) -> tuple[str, ...]:
        """The submodules ``head`` uses: what a new head re-initialises and trains."""
        return ("classifier",)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))
