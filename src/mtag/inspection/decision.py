"""The track's decision as ``mtag tag`` takes it, with where each chosen genre came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mtag.engine.results import Segment
from mtag.inspection.findings import merge_times
from mtag.taxonomy import Choice


@dataclass(frozen=True)
class Provenance:
    """One chosen genre (or mood) and its evidence: the labels that carried it and where it is strong."""

    name: str
    kind: str
    score: float
    labels: list[tuple[str, float]]  # carrying labels with their track scores, best first
    implied_by: str | None  # set for a parent added by --parents
    segments: int  # segments whose score for it reaches the threshold
    of_segments: int
    times: tuple[tuple[float, float], ...]  # those segments, merged
    peak: tuple[float, float, float] | None  # (start, end, score) of its strongest segment

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "score": round(self.score, 4),
            "labels": [{"label": label, "score": round(score, 4)} for label, score in self.labels],
            "implied_by": self.implied_by,
            "segments": self.segments,
            "of_segments": self.of_segments,
            "times": [[round(a, 3), round(b, 3)] for a, b in self.times],
            "peak": None if self.peak is None else {"start": self.peak[0], "end": self.peak[1], "score": self.peak[2]},
        }


@dataclass
class Decision:
    """What ``mtag tag`` with the same options decides and would do to the file."""

    status: str  # as mtag tag reports it: would-tag, kept, unchanged, no-genre, silent, too-short
    aggregation: str
    threshold: float
    top: int
    mode: str
    chosen: list[Provenance] = field(default_factory=list)
    changes: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # field -> (old, new)
    error: str | None = None  # why mtag tag would fail on the file (status "failed"): its tags cannot be read

    @property
    def genres(self) -> list[str]:
        return [p.name for p in self.chosen if p.kind == "genre"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "genres": self.genres,
            "moods": [p.name for p in self.chosen if p.kind != "genre"],
            "aggregation": self.aggregation,
            "threshold": self.threshold,
            "top": self.top,
            "mode": self.mode,
            "chosen": [p.to_dict() for p in self.chosen],
            "changes": {name: {"old": old, "new": new} for name, (old, new) in self.changes.items()},
            "error": self.error,
        }


def provenance(
    choice: Choice,
    labels: Sequence[str],
    track_scores: np.ndarray,
    segments: Sequence[Segment],
    threshold: float,
) -> Provenance:
    """Where ``choice`` came from: its labels' scores, and the segments where it reaches ``threshold``.

    An implied parent is traced through the child that brought it in, as it
    was never judged on its own.
    """
    index = {label: i for i, label in enumerate(labels)}
    columns = [index[label] for label in choice.labels if label in index]
    carried = [(label, float(track_scores[index[label]])) for label in choice.labels if label in index]
    per_segment = (
        np.stack([s.scores for s in segments])[:, columns].max(axis=1) if segments and columns else np.zeros(0)
    )
    strong = [(s.start, s.end) for s, score in zip(segments, per_segment) if score >= threshold]
    peak = None
    if per_segment.size:
        best = int(per_segment.argmax())
        peak = (round(segments[best].start, 3), round(segments[best].end, 3), round(float(per_segment[best]), 4))
    return Provenance(
        name=choice.name,
        kind=choice.kind,
        score=choice.score,
        labels=carried,
        implied_by=choice.implied_by,
        segments=len(strong),
        of_segments=len(segments),
        times=merge_times(strong),
        peak=peak,
    )


def leading_labels(track_scores: np.ndarray, labels: Sequence[str], count: int) -> list[str]:
    """The ``count`` best labels of the track, best first (the taggram's and heat strip's rows)."""
    order = np.argsort(-np.asarray(track_scores), kind="stable")[:count]
    return [labels[i] for i in order]
