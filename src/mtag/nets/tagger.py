"""A loaded model: front end, network and labels on one device, ready to score windows.

Loading costs a second or more (importing torch, reading weights), so a process
loads each model once (:func:`load_tagger` caches it by its weights' digest, so
a model retrained under the same name is loaded afresh) and feeds it batches.
Everything about the model comes from its card: front end, window, short-input
padding, activation.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from torch import nn

from mtag.cards import SOFTMAX, ModelCard, read_weights
from mtag.catalog import find_model
from mtag.device import resolve_device
from mtag.errors import ModelError
from mtag.nets.frontends import build_frontend
from mtag.nets.precision import autocast, resolve_precision
from mtag.nets.registry import build_network


def activate(activation: str, logits: torch.Tensor) -> torch.Tensor:
    """Logits -> label probabilities as the card's ``activation`` says (softmax over the last axis, or sigmoid)."""
    return torch.softmax(logits, dim=-1) if activation == SOFTMAX else torch.sigmoid(logits)


def load_network(card: ModelCard) -> nn.Module:
    """``card``'s network with its weights (checked against the card's digest) loaded."""
    data = read_weights(card)  # refuses weights that are not the card's
    try:
        net = build_network(card.architecture, card.params)
        state = load_safetensors(data)
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise ModelError(f"cannot load model {card.name!r}: {exc}", path=card.directory) from exc
    # BatchNorm's step counter only matters for training with momentum=None;
    # the converted weights rightly do not carry it.
    counters = {k for k in net.state_dict() if k.endswith("num_batches_tracked")}
    try:
        missing, unexpected = net.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a tensor of the wrong shape
        raise ModelError(
            f"weights do not fit architecture {card.architecture!r}: {exc}", path=card.weights_path
        ) from exc
    if set(missing) - counters or unexpected:
        raise ModelError(
            f"weights do not fit architecture {card.architecture!r}: "
            f"missing {sorted(set(missing) - counters)[:3]}, unexpected {sorted(unexpected)[:3]}",
            path=card.weights_path,
        )
    return net


class Tagger:
    """Scores pre-padded sample chunks (see :mod:`mtag.audio.windows`) with one model."""

    def __init__(
        self, card: ModelCard, device: torch.device, precision: str = "fp32", net: nn.Module | None = None
    ) -> None:
        """Load ``card``'s weights, or score with ``net`` as it is (a network being trained)."""
        self.card = card
        self.device = device
        self.labels = list(card.labels)
        self.precision = resolve_precision(precision, device)
        if net is None:
            net = load_network(card)
        self.frontend = build_frontend(card.frontend).to(device).eval()
        self.net = net.to(device).eval()

    @property
    def name(self) -> str:
        return self.card.name

    @torch.inference_mode()
    def features(self, chunks: np.ndarray | torch.Tensor, frames: int | None = None) -> torch.Tensor:
        """Chunks ``(B, samples)`` -> network input, time on axis 1 (``(B, frames, mels)`` for a log-mel).

        A chunk holding fewer frames than ``frames`` (a track shorter than one
        window) is filled as the card's ``short_input`` says: its frames
        repeated (the "repeat-pad" the musicnn models were trained with),
        zeros, or nothing (the network takes it as it is).
        """
        x = torch.as_tensor(chunks)
        if self.device.type == "cuda" and x.device.type == "cpu":
            # Page-locked memory lets the copy run asynchronously, overlapping the previous batch's work.
            x = x.pin_memory()
        x = x.to(self.device, non_blocking=True)
        features = self.frontend(x)
        have = features.shape[1]
        if frames is None or have >= frames:
            return features
        padding = self.card.input.short_input
        if padding == "repeat":
            return features[:, torch.arange(frames, device=features.device) % have]
        if padding == "zero":
            shape = (features.shape[0], frames - have, *features.shape[2:])
            return torch.cat([features, features.new_zeros(shape)], dim=1)
        return features

    @torch.inference_mode()
    def predict_features(self, features: torch.Tensor) -> torch.Tensor:
        """Per-window label probabilities ``(B, n_labels)`` from network input, at the tagger's precision."""
        with autocast(self.precision, self.device):
            logits = self.net(features.to(self.device))
        logits = logits.float()
        return activate(self.card.activation, logits)

    def predict(self, chunks: np.ndarray | torch.Tensor, frames: int | None = None) -> np.ndarray:
        """Chunks -> probabilities as float32 NumPy ``(B, n_labels)``."""
        scores = self.predict_features(self.features(chunks, frames))
        return scores.float().cpu().numpy()


@lru_cache(maxsize=4)
def _load(directory: str, digest: str, device: torch.device, precision: str) -> Tagger:
    card = find_model(directory)
    if card.weights.sha256 != digest:  # never cache one version's weights under another's digest
        raise ModelError("the model changed while it was being loaded", path=directory, hint="run the command again")
    return Tagger(card, device, precision)


def load_card(card: ModelCard, device: torch.device, precision: str) -> Tagger:
    """``card``'s model, loaded once per process for each version of its weights."""
    assert card.directory is not None
    return _load(str(card.directory), card.weights.sha256, device, precision)


def load_tagger(name: str, device: str = "auto", precision: str = "fp32") -> Tagger:
    """The model called ``name`` (or in the folder ``name``) on ``device`` at ``precision``
    (see :mod:`mtag.nets.precision`), loaded once per process for each version of its weights."""
    return load_card(find_model(name), resolve_device(device), precision)
