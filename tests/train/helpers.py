"""A learnable synthetic data set and a tiny base model to train from: training tests in seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtag.cards import LogMelSpec, ModelCard
from mtag.data import TEST, TRAIN, VALID, Dataset, Example
from mtag.nets import registry
from mtag.train.settings import TrainSettings
from tests.audio.synth import write_samples
from tests.nets.tiny import TINY, TINY_TARGET, make_model

RATE = 16000
#: Each label is a band of tones: a network that sees the spectrum can tell them apart, one that guesses cannot.
BANDS = {"low": (150.0, 400.0), "high": (1800.0, 4000.0), "mid": (600.0, 1200.0)}


def tone_track(path: Path, band: tuple[float, float], seconds: float, seed: int, noise: float = 0.02) -> Path:
    """Three random tones inside ``band`` over noise of amplitude ``noise``, as a WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    wave = sum(0.2 * np.sin(2 * np.pi * rng.uniform(*band) * t + rng.uniform(0, 6.28)) for _ in range(3))
    wave = wave + noise * rng.standard_normal(t.size)
    return write_samples(path, wave[np.newaxis].astype(np.float32), RATE)


def tone_dataset(
    root: Path,
    per_split: tuple[int, int, int] = (6, 3, 3),
    labels: tuple[str, ...] = ("low", "high"),
    seconds: float = 3.0,
) -> Dataset:
    """``per_split`` tracks of every label in train/valid/test, written under ``root/<label>/``."""
    examples = []
    seed = 0
    for label in labels:
        for split, count in zip((TRAIN, VALID, TEST), per_split):
            for _ in range(count):
                seed += 1
                path = tone_track(root / label / f"{label}-{seed:03d}.wav", BANDS[label], seconds, seed)
                examples.append(Example(path, (label,), split, f"{label}-{seed}"))
    return Dataset("tones", root, labels, False, examples, "fixed", license="test data", genres={})


def tiny_base(folder: Path, monkeypatch: pytest.MonkeyPatch, name: str = "tiny-base") -> ModelCard:
    """A tiny untrained model to start from, installed on the model search path."""
    monkeypatch.setitem(registry.ARCHITECTURES, TINY, TINY_TARGET)
    card = make_model(
        folder / name, LogMelSpec(RATE, n_fft=512, hop_length=256, n_mels=32), name=name, window_seconds=1.0
    )
    monkeypatch.setenv("MTAG_MODEL_PATH", str(folder))
    return card


def reload_tone_dataset(root: Path, labels: tuple[str, ...] = ("low", "high")) -> Dataset:
    """The data set :func:`tone_dataset` wrote under ``root``, read back (another process needs it)."""
    splits = {}
    for label in labels:
        files = sorted((root / label).glob("*.wav"))
        per_split = (6, 3, 3)
        names = [TRAIN] * per_split[0] + [VALID] * per_split[1] + [TEST] * per_split[2]
        splits.update({path: (label, split) for path, split in zip(files, names)})
    examples = [Example(path, (label,), split, path.stem) for path, (label, split) in splits.items()]
    return Dataset("tones", root, labels, False, examples, "fixed", license="test data", genres={})


def ddp_settings() -> TrainSettings:
    """The run the distributed test makes on two processes and on one.

    Two batches a step: the first's gradients stay on each process (``no_sync``), the second's are averaged;
    a step that synced too early or not at all would differ from one process's.
    """
    return TrainSettings(base="tiny-base", epochs=5, batch_size=8, lr=0.05, patience=100, accumulate=2)


def tone_folder(root: Path, bands: dict[str, str], count: int = 12, seconds: float = 3.0) -> Path:
    """``root/<genre>/<n>.wav``: ``count`` tracks per genre, each genre one of :data:`BANDS` (the folder layout)."""
    for number, (genre, band) in enumerate(bands.items()):
        for i in range(count):
            tone_track(root / genre / f"{genre}-{i:02d}.wav", BANDS[band], seconds, seed=100 * number + i)
    return root
