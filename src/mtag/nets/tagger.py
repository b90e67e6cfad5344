"""A loaded model: front end, network and labels on one device, ready to score windows.

Loading costs a second or more (importing torch, reading weights), so a process
loads each model once (:func:`load_tagger` caches) and feeds it batches.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from safetensors.torch import load_file

from mtag.catalog import ModelCard, find_model
from mtag.device import resolve_device
from mtag.errors import ModelError
from mtag.nets.melspec import LogMel, MelSettings
from mtag.nets.precision import autocast, resolve_precision
from mtag.nets.registry import build_network


class Tagger:
    """Scores pre-padded sample chunks (see :mod:`mtag.audio.windows`) with one model."""

    def __init__(self, card: ModelCard, device: torch.device, precision: str = "fp32") -> None:
        self.card = card
        self.device = device
        self.labels = card.labels
        self.precision = resolve_precision(precision, device)
        try:
            self.settings = MelSettings.from_json(card.meta["preprocessing"])
            net = build_network(card.meta["architecture"])
            state = load_file(card.weights_path)
        except (ValueError, TypeError, KeyError, OSError) as exc:
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
        self.frontend = LogMel(self.settings).to(device).eval()
        self.net = net.to(device).eval()

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def fixed_frames(self) -> int | None:
        """The only window length (in frames) the network accepts, or None when any length works."""
        return getattr(self.net, "fixed_frames", None)

    @torch.inference_mode()
    def logmel(self, chunks: np.ndarray | torch.Tensor, frames: int | None = None) -> torch.Tensor:
        """Chunks ``(B, samples)`` -> network input ``(B, frames, n_mels)``.

        A chunk holding fewer frames than ``frames`` (a track shorter than one
        window) is repeated frame-wise to fill it: the "repeat-pad" the musicnn
        models were trained with.
        """
        x = torch.as_tensor(chunks)
        if self.device.type == "cuda" and x.device.type == "cpu":
            # Page-locked memory lets the copy run asynchronously, overlapping the previous batch's work.
            x = x.pin_memory()
        x = x.to(self.device, non_blocking=True)
        mel = self.frontend(x)
        if frames is not None and mel.shape[1] < frames:
            mel = mel[:, torch.arange(frames, device=mel.device) % mel.shape[1]]
        return mel

    @torch.inference_mode()
    def predict_logmel(self, logmel: torch.Tensor) -> torch.Tensor:
        """Per-window label probabilities ``(B, n_labels)`` from network input, at the tagger's precision."""
        with autocast(self.precision, self.device):
            logits = self.net(logmel.to(self.device))
        return torch.sigmoid(logits.float())

    def predict(self, chunks: np.ndarray | torch.Tensor, frames: int | None = None) -> np.ndarray:
        """Chunks -> probabilities as float32 NumPy ``(B, n_labels)``."""
        scores = self.predict_logmel(self.logmel(chunks, frames))
        return scores.float().cpu().numpy()


@lru_cache(maxsize=4)
def _load(name: str, device: torch.device, precision: str) -> Tagger:
    return Tagger(find_model(name), device, precision)


def load_tagger(name: str, device: str = "auto", precision: str = "fp32") -> Tagger:
    """The model called ``name`` on ``device`` at ``precision`` (see :mod:`mtag.nets.precision`),
    loaded once per process."""
    return _load(name, resolve_device(device), precision)
