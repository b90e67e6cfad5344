"""What the engine gives back: per-window scores of each track, and each track's outcome.

The engine stops at window scores (segments).  Turning them into track scores
and genres (aggregation, the genre table) happens above it, in
:mod:`mtag.decision`, from fresh and stored analyses alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtag.errors import AudioError

#: Outcome statuses.  Only ``analysed`` tracks get genres; ``silent`` ones keep their scores for inspect.
ANALYSED, TOO_SHORT, SILENT, FAILED = "analysed", "too-short", "silent", "failed"


@dataclass(frozen=True)
class Segment:
    """One window's scores, in the model's label order."""

    start: float
    end: float
    scores: np.ndarray
    padding: str | None = None  # set when the track was shorter than a window: how the model filled it


@dataclass(frozen=True)
class TrackScores:
    """All windows of one track under one model."""

    path: Path
    model: str
    labels: list[str]
    duration: float
    segments: list[Segment]

    @property
    def matrix(self) -> np.ndarray:
        """The window scores as one ``(windows, labels)`` array."""
        return np.stack([segment.scores for segment in self.segments])


@dataclass
class TrackOutcome:
    """What the engine made of one track."""

    key: int
    path: Path
    status: str
    duration: float = 0.0
    level_dbfs: float = float("-inf")
    result: TrackScores | None = None  # for ``analysed`` and ``silent``
    error: AudioError | None = None  # for ``failed``
    detail: str | None = None  # traceback of an unexpected failure

    @property
    def padded(self) -> bool:
        """Shorter than one window: the model filled the window (repeated its frames, for musicnn)."""
        return self.result is not None and any(segment.padding for segment in self.result.segments)
