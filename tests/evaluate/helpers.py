"""A model whose direction under each study is known, and a data set for it: eval tests in seconds.

:func:`band_model` is a :class:`~tests.nets.tiny.TinyNet` whose weights are
set by hand, not trained: its "high" logit is the log-mel energy in the
5-7 kHz band against that in the 0.7-1.4 kHz band, so it tells high tones (5-7 kHz) from low
ones (0.7-1.4 kHz) and must fail on high tracks once the telephone band
(300-3400 Hz) has taken their highs away.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save

from mtag.cards import LogMelSpec, ModelCard, WeightsRef, write_card
from mtag.data import TEST, TRAIN, Dataset, Example
from mtag.nets import registry
from mtag.nets.frontends import build_frontend
from tests.nets.tiny import TINY, TINY_TARGET, TinyNet, make_model
from tests.train.helpers import RATE, tone_track

FRONTEND = LogMelSpec(RATE, n_fft=512, hop_length=256, n_mels=32)
BANDS = {"low": (700.0, 1400.0), "high": (5000.0, 7000.0)}
GENRES = {"low": "Low", "high": "High"}  # as the folder layout names the folders low/ and high/


def band_folder(root: Path, count: int = 4, seconds: float = 3.0) -> Path:
    """``root/<low|high>/<n>.wav`` (the ``folder`` layout), ``count`` tracks each."""
    for number, (label, band) in enumerate(BANDS.items()):
        for i in range(count):
            tone_track(root / label / f"{label}-{i:02d}.wav", band, seconds, seed=100 * number + i, noise=0.002)
    return root


def band_dataset(root: Path, count: int = 4, seconds: float = 3.0) -> Dataset:
    """The tracks of :func:`band_folder` as a data set whose every track is in the test split."""
    band_folder(root, count, seconds)
    examples = [
        Example(path, (label,), TEST, path.stem) for label in BANDS for path in sorted((root / label).glob("*.wav"))
    ]
    examples.append(Example(examples[0].path, ("low",), TRAIN, "train-only"))
    return Dataset("bands", root, tuple(BANDS), False, examples, "fixed", genres=dict(GENRES))


def _band_features(band: tuple[float, float]) -> torch.Tensor:
    """Mean log-mel features of 0.2-amplitude tones across ``band`` (what the tracks hold)."""
    t = torch.arange(RATE) / RATE
    tones = torch.stack([0.2 * torch.sin(2 * torch.pi * f * t) for f in np.linspace(*band, 12)]).float()
    return build_frontend(FRONTEND)(tones).mean(dim=(0, 1))


def _band_card(folder: Path, name: str, seed: int = 0) -> ModelCard:
    """A :class:`TinyNet` model over the labels low, high (softmax, 1 s windows), written to ``folder/name``."""
    return make_model(
        folder / name,
        FRONTEND,
        name=name,
        labels=("low", "high"),
        genres=dict(GENRES),
        activation="softmax",
        window_seconds=1.0,
        seed=seed,
    )


def band_model(folder: Path, monkeypatch: pytest.MonkeyPatch, name: str = "bands-model") -> ModelCard:
    """The hand-set high-vs-low model, installed on the model search path (softmax over low, high)."""
    monkeypatch.setitem(registry.ARCHITECTURES, TINY, TINY_TARGET)
    card = _band_card(folder, name)
    high, low = _band_features(BANDS["high"]), _band_features(BANDS["low"])
    direction = high - low
    direction = direction - direction.mean()  # blind to a track's level (a constant in the log domain)
    net = TinyNet(FRONTEND.n_mels, 2)
    with torch.no_grad():
        net.linear.weight.zero_()
        net.linear.bias.zero_()
        net.linear.weight[1, : FRONTEND.n_mels] = direction / direction.norm()
        net.linear.bias[1] = -float(direction @ (high + low) / 2 / direction.norm())
    weights = save({k: v.contiguous() for k, v in net.state_dict().items()})
    (card.directory / "weights.safetensors").write_bytes(weights)
    card = dataclasses.replace(
        card,
        weights=WeightsRef("weights.safetensors", hashlib.sha256(weights).hexdigest()),
        # what mtag train records, so the rare and cross studies have something to read
        training={"dataset": "bands", "label_counts": {"low": 40, "high": 8}},
        metrics={"test_accuracy": 1.0},
    )
    write_card(card, folder / name)
    monkeypatch.setenv("MTAG_MODEL_PATH", str(folder))
    return card


def random_model(folder: Path, name: str = "bands-random", seed: int = 3) -> ModelCard:
    """A second model with the same labels that guesses (beside the band model, for side-by-side tables)."""
    return _band_card(folder, name, seed)
