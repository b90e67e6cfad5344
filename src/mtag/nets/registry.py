"""Architectures by name: a model card says ``architecture`` and ``params``.

Networks are imported only when one is built (a registry entry is a module
path), so listing or checking models never pays for every architecture's
import, and the parameters are checked against the network's constructor
before it runs, so a card with a misspelt or missing parameter is named as
such instead of failing somewhere inside ``__init__``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from torch import nn

#: name -> "module:Class".  New (trainable) architectures register here.
ARCHITECTURES: dict[str, str] = {
    "musicnn": "mtag.nets.musicnn:Musicnn",
    "vgg": "mtag.nets.vgg:Vgg",
    "fcn": "mtag.nets.fcn:Fcn",
    "shortres": "mtag.nets.shortres:ShortRes",
    "crnn": "mtag.nets.crnn:Crnn",
    "samplecnn": "mtag.nets.samplecnn:SampleCnn",
    "transformer": "mtag.nets.transformer:SpectrogramTransformer",
    "cnn1d": "mtag.nets.cnn1d:Cnn1d",
}


def network_class(name: str) -> type[nn.Module]:
    """The class registered as ``name``, imported now."""
    try:
        target = ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}") from None
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def check_params(name: str, params: dict[str, Any]) -> None:
    """Refuse parameters the architecture does not take, and required ones that are missing."""
    signature = inspect.signature(network_class(name))
    accepted = {p.name for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"architecture {name!r} has no parameter {unknown[0]!r}; it takes {', '.join(sorted(accepted))}"
        )
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in params
    ]
    if missing:
        raise ValueError(f"architecture {name!r} needs the parameter {missing[0]!r}")


def build_network(name: str, params: dict[str, Any]) -> nn.Module:
    """Instantiate the network ``name`` with ``params`` (checked first)."""
    check_params(name, params)
    return network_class(name)(**params)
