"""The network a run starts from: an installed model's with a new head, or a new network from scratch.

The trained model keeps the base model's architecture, front end and window,
so ``mtag tag`` and ``mtag inspect`` run it exactly like the shipped ones;
only the labels (and the layers after the transfer point) are new.  From
scratch (``--arch``), the whole network is "the head": every layer is new.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mtag.cards import ModelCard
from mtag.errors import UsageError
from mtag.nets.registry import build_network, network_class
from mtag.nets.tagger import load_network


@dataclass
class StartingPoint:
    """The network to train, where its new head sits, and which of its modules are new."""

    net: nn.Module
    point: str | None  # None: from scratch, no transfer point
    head: tuple[str, ...]  # names of the submodules after ``point`` (re-initialised, trained at the full rate)

    def head_parameters(self) -> list[nn.Parameter]:
        return [p for name in self.head for p in self.net.get_submodule(name).parameters()]

    def backbone_parameters(self) -> list[nn.Parameter]:
        head = {id(p) for p in self.head_parameters()}
        return [p for p in self.net.parameters() if id(p) not in head]


def transfer_point(base: ModelCard, point: str | None) -> str:
    """The transfer point a run on ``base`` uses (``point``, or the architecture's default), checked before any work."""
    points = tuple(getattr(network_class(base.architecture), "TRANSFER_POINTS", ()))
    if not points:
        raise UsageError(
            f"model {base.name!r} ({base.architecture}) cannot be a starting point: its architecture declares no "
            "transfer point",
            hint="start from musicnn-msd, musicnn-mtt, vgg-msd or vgg-mtt",
        )
    if point is not None and point not in points:
        raise UsageError(f"{base.architecture} has no transfer point {point!r}", hint=f"use one of {', '.join(points)}")
    return point or points[0]


def start_from(base: ModelCard, n_labels: int, point: str | None, seed: int) -> StartingPoint:
    """``base``'s trained network with a freshly initialised head for ``n_labels`` labels at ``point``."""
    point = transfer_point(base, point)
    pretrained = load_network(base)
    torch.manual_seed(seed)  # the new head's initial weights are part of what --seed reproduces
    net = build_network(base.architecture, {**base.params, "n_labels": n_labels})
    head = tuple(pretrained.head_modules(point))  # type: ignore[operator]
    keep = {
        key: value
        for key, value in pretrained.state_dict().items()
        if not any(key == name or key.startswith(name + ".") for name in head)
    }
    missing, unexpected = net.load_state_dict(keep, strict=False)
    # Only the new head may be missing: anything else means the architecture's head_modules are wrong.
    assert not unexpected and all(any(k.startswith(name + ".") for name in head) for k in missing), missing
    return StartingPoint(net, point, head)


#: A starting point's ``head`` when the whole network is new ("" names the network itself).
WHOLE_NETWORK = ("",)


def from_scratch(card: ModelCard, seed: int) -> StartingPoint:
    """A randomly initialised network as ``card`` describes it, all of it trained at the full rate."""
    torch.manual_seed(seed)  # the initial weights are part of what --seed reproduces
    try:
        net = build_network(card.architecture, card.params)
    except (ValueError, TypeError, RuntimeError) as exc:  # parameters the constructor refuses (a kernel > the input)
        raise UsageError(f"cannot build {card.architecture} with {card.params}: {exc}") from None
    return StartingPoint(net, None, WHOLE_NETWORK)
