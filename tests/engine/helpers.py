"""Helpers for the engine tests: a tagger that records its batches, signals at a chosen level."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from mtag.nets.tagger import Tagger


class RecordingTagger:
    """Wraps a tagger, noting the size of every batch it scores (and calling ``on_predict`` first)."""

    def __init__(self, tagger: Tagger, on_predict: Callable[[], None] | None = None) -> None:
        self._tagger = tagger
        self._on_predict = on_predict
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tagger, name)

    def predict(self, chunks: np.ndarray, frames: int | None = None) -> np.ndarray:
        self.batches.append(len(chunks))
        if self._on_predict is not None:
            self._on_predict()
        return self._tagger.predict(chunks, frames)


def noise(seconds: float, sample_rate: int, dbfs: float, seed: int = 0) -> np.ndarray:
    """White noise with an RMS level of ``dbfs``, shape (1, n)."""
    samples = np.random.default_rng(seed).standard_normal(round(seconds * sample_rate))
    samples *= 10 ** (dbfs / 20) / np.sqrt(np.mean(samples**2))
    return samples[None].astype(np.float32)


def segment_scores(result: Any) -> np.ndarray:
    """A TrackScores' window scores as one (windows, labels) array."""
    return np.stack([segment.scores for segment in result.segments])


class Hung(Exception):
    """Raised by :func:`deadline` (not an OSError, which the code under test may well catch)."""


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail with :class:`Hung` instead of hanging when the block takes longer than ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
