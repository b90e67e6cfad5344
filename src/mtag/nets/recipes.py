"""What training an architecture from scratch starts from, unless the user says otherwise.

Every trainable architecture class carries a ``RECIPE``: the front end and
input window its paper used, and the schedule that trains it (learning rate,
batch size, segment, epochs).  ``mtag train --arch NAME`` builds the model
card from it, so the card -- not the trainer -- says what the network needs.
Options the user passes (``--lr``, ``--n-mels`` ...) override single values.

Constructor conventions the trainer relies on when it fills in ``params``:
``n_labels`` always; ``n_mels`` (values per frame: mel bands or MFCCs) for a
network on a spectrogram-like input; ``n_frames`` for a fixed-length one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mtag.nets.registry import network_class


@dataclass(frozen=True)
class Recipe:
    """An architecture's defaults for training from scratch (values from its paper, cited where it is defined)."""

    frontend: dict[str, Any]  # a card's "frontend" object (see mtag.cards.frontend.read_frontend)
    window_seconds: float  # the input window; the card rounds it to whole frames
    params: dict[str, Any] = field(default_factory=dict)  # constructor parameters besides the conventional ones
    cuda_params: dict[str, Any] = field(default_factory=dict)  # overrides for a larger model when a GPU trains it
    lr: float = 1e-3
    batch_size: int = 16
    epochs: int = 30
    segment: float | None = None  # seconds per training example; None: the window
    fixed_length: bool = False  # the network takes exactly one window length (a dense layer reads it)
    short_input: str = "repeat"


def recipe(architecture: str) -> Recipe:
    """The recipe of the registered architecture ``architecture``; ValueError if it has none."""
    found = getattr(network_class(architecture), "RECIPE", None)
    if not isinstance(found, Recipe):
        raise ValueError(f"architecture {architecture!r} cannot be trained from scratch: it declares no recipe")
    return found
