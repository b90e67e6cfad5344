"""One model under one condition: window scores -> the shared genres' scores -> figures with intervals.

Track level aggregates a track's windows as ``tag`` does (``mean``, ``max``
or ``vote``, :func:`mtag.decision.aggregate.aggregate`) over the model's
labels, then gives each shared genre its best label's score.  Window level
measures every window against its track's labels (the bootstrap then
resamples windows).  Single-label predictions are the argmax among the
shared genres only: a genre the data set cannot have is never "predicted".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mtag.decision.aggregate import aggregate
from mtag.evaluate import metrics
from mtag.evaluate.mapping import LabelMapping


@dataclass
class Measured:
    """Scores and figures of one model under one condition.

    ``tracks`` index the evaluation's examples; ``scores`` are their
    track-level shared-genre scores (kept for the predictions file and the
    curves whatever ``level`` the figures are at).
    """

    tracks: list[int]
    scores: np.ndarray  # (tracks, shared)
    targets: np.ndarray  # (tracks, shared) 0/1
    figures: dict[str, Any]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    windows: int = 0
    window_scores: list[np.ndarray] = field(default_factory=list)  # per track, (windows, model labels)

    @property
    def predicted(self) -> np.ndarray:
        return self.scores.argmax(axis=1) if len(self.scores) else np.zeros(0, int)

    def to_json(self) -> dict[str, Any]:
        return {
            "tracks": len(self.tracks),
            "windows": self.windows,
            **self.figures,
            "ci95": {name: list(bounds) for name, bounds in self.intervals.items()},
        }


def headline(multi_label: bool) -> str:
    """The figure an evaluation leads with: accuracy for one genre per track, macro PR-AUC for tags."""
    return "pr_auc_macro" if multi_label else "accuracy"


def track_scores(windows: np.ndarray, mapping: LabelMapping, method: str) -> np.ndarray:
    """One track's window scores ``(windows, model labels)`` -> its shared-genre scores."""
    pooled = aggregate(windows, method, candidates=mapping.candidates(windows.shape[1]))
    return mapping.scores(pooled)


def figures_of(targets: np.ndarray, scores: np.ndarray, multi_label: bool, top_k: int) -> dict[str, Any]:
    """Every figure of the level measured (empty when nothing was measured)."""
    if not len(scores):
        return {}
    if multi_label:
        return metrics.multi_label(targets, scores)
    return metrics.single_label(targets.argmax(axis=1), scores, top_k)


def measure(
    windows: Sequence[np.ndarray],
    targets: np.ndarray,
    tracks: list[int],
    mapping: LabelMapping,
    *,
    multi_label: bool,
    method: str = "mean",
    level: str = "track",
    top_k: int = 3,
    resamples: int = 1000,
    seed: int = 0,
) -> Measured:
    """Figures (and bootstrap intervals of the headline ones) of one model under one condition."""
    n = len(mapping.shared)
    scores = np.stack([track_scores(w, mapping, method) for w in windows]) if windows else np.zeros((0, n))
    if level == "window" and windows:
        level_scores = np.concatenate([mapping.scores(w) for w in windows])
        level_targets = np.repeat(targets, [len(w) for w in windows], axis=0)
    else:
        level_scores, level_targets = scores, targets
    figures = figures_of(level_targets, level_scores, multi_label, top_k)
    intervals = _intervals(level_targets, level_scores, multi_label, resamples, seed)
    return Measured(tracks, scores, targets, figures, intervals, sum(len(w) for w in windows), list(windows))


def _intervals(
    targets: np.ndarray, scores: np.ndarray, multi_label: bool, resamples: int, seed: int
) -> dict[str, tuple[float, float]]:
    if not len(scores):
        return {}
    if multi_label:
        return metrics.bootstrap(
            lambda pick: metrics.multi_label_headlines(targets[pick], scores[pick]), len(scores), resamples, seed
        )
    true, predicted, n = targets.argmax(axis=1), scores.argmax(axis=1), scores.shape[1]
    return metrics.bootstrap(
        lambda pick: metrics.single_label_headlines(true[pick], predicted[pick], n), len(scores), resamples, seed
    )
