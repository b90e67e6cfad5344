"""Architectures by name: model.json says ``{"name": ..., "params": {...}}``.

New (trainable) architectures register here; everything that loads or trains
a model goes through :func:`build_network`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from mtag.nets.musicnn import Musicnn
from mtag.nets.vgg import Vgg

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "musicnn": Musicnn,
    "vgg": Vgg,
}


def build_network(architecture: dict[str, Any]) -> nn.Module:
    """Instantiate the network an architecture entry of model.json describes."""
    name = architecture["name"]
    try:
        factory = ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}") from None
    return factory(**architecture.get("params", {}))
