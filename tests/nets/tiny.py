"""A tiny network and a model folder for it: any front end, any activation, through mtag's own card."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save
from torch import nn

from mtag.cards import FrontEndSpec, InputWindow, ModelCard, WeightsRef, write_card

#: The architecture name tests register (``ARCHITECTURES[TINY] = TINY_TARGET``, by monkeypatch).
TINY, TINY_TARGET = "tiny", "tests.nets.tiny:TinyNet"


class TinyNet(nn.Module):
    """Mean and max of each input feature over time -> one linear layer: learns nothing, scores anything."""

    def __init__(self, n_features: int, n_labels: int) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * n_features, n_labels)

    #: The linear layer can be replaced by a new head, as mtag train does with the real networks.
    TRANSFER_POINTS = ("penultimate",)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))

    def embed(self, x: torch.Tensor, point: str = "penultimate") -> torch.Tensor:
        if x.dim() == 2:  # a waveform: one feature per sample
            x = x.unsqueeze(-1)
        return torch.cat([x.mean(dim=1), x.amax(dim=1)], dim=1)

    def head(self, embedding: torch.Tensor, point: str = "penultimate") -> torch.Tensor:
        return self.linear(embedding)

    @staticmethod
    def head_modules(point: str = "penultimate") -> tuple[str, ...]:
        return ("linear",)


def make_model(
    folder: Path,
    frontend: FrontEndSpec,
    *,
    name: str = "tiny",
    labels: tuple[str, ...] = ("rockish", "jazzy", "hiss"),
    genres: dict[str, str] | None = None,
    activation: str = "sigmoid",
    window_seconds: float = 2.0,
    seed: int = 0,
) -> ModelCard:
    """Write ``folder/{weights.safetensors,model.json}`` for a :class:`TinyNet` seeded with ``seed``."""
    torch.manual_seed(seed)
    features = frontend.features or 1
    params = {"n_features": features, "n_labels": len(labels)}
    return write_model(
        folder,
        TinyNet(**params),
        TINY,
        params,
        frontend,
        name=name,
        labels=labels,
        genres={"rockish": "Rock", "jazzy": "jazz"} if genres is None else genres,
        activation=activation,
        window_seconds=window_seconds,
    )


def write_model(
    folder: Path,
    net: nn.Module,
    architecture: str,
    params: dict[str, Any],
    frontend: FrontEndSpec,
    *,
    name: str,
    labels: tuple[str, ...],
    genres: dict[str, str],
    activation: str = "sigmoid",
    window_seconds: float = 2.0,
    fixed_length: bool = False,
) -> ModelCard:
    """Write ``folder/{weights.safetensors,model.json}``: ``net``'s weights under a card for ``architecture``.

    The window is ``window_seconds`` rounded to whole frames of the front end.
    """
    weights = save({k: v.contiguous() for k, v in net.state_dict().items()})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.safetensors").write_bytes(weights)
    step = frontend.framing.hop
    window = round(window_seconds * frontend.sample_rate / step) * step
    card = ModelCard(
        name=name,
        architecture=architecture,
        params=params,
        frontend=frontend,
        input=InputWindow(window, window, fixed_length),
        activation=activation,
        labels=labels,
        genres=genres,
        weights=WeightsRef("weights.safetensors", hashlib.sha256(weights).hexdigest()),
        directory=folder,
    )
    write_card(card, folder)
    return card
