"""Window scores -> track scores.

``mean`` is musicnn's own (``top_tags`` averages the taggram) and the default.
``max`` lets a genre that fills only part of a track (a bridge, an intro)
count fully.  ``vote`` gives each window one vote for its best candidate label
and scores a label by the share of windows it wins, so a track that is 70 %
rock and 30 % jazz scores 0.7 / 0.3 whatever the models' calibration; with it
``--threshold 0.25`` means "wins at least a quarter of the track".
"""

from __future__ import annotations

import numpy as np

AGGREGATIONS = ("mean", "max", "vote")


def aggregate(scores: np.ndarray, method: str = "mean", candidates: np.ndarray | None = None) -> np.ndarray:
    """``(windows, labels)`` -> ``(labels,)``.

    ``candidates`` (a boolean mask over labels) restricts who can win a vote:
    the genre labels, so "male vocalists" does not take a window's vote from
    "rock".  ``mean`` and ``max`` ignore it.
    """
    if scores.ndim != 2 or scores.shape[0] == 0:
        raise ValueError("need at least one window of scores")
    if method == "mean":
        return scores.mean(axis=0)
    if method == "max":
        return scores.max(axis=0)
    if method == "vote":
        mask = np.ones(scores.shape[1], bool) if candidates is None else np.asarray(candidates, bool)
        if not mask.any():
            raise ValueError("no candidate labels to vote for")
        winners = np.where(mask, scores, -np.inf).argmax(axis=1)
        return (np.bincount(winners, minlength=scores.shape[1]) / scores.shape[0]).astype(np.float32)
    raise ValueError(f"unknown aggregation {method!r}; use one of {', '.join(AGGREGATIONS)}")
