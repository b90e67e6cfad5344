"""From window scores to the genres (and moods) of a track: aggregation, the genre table, the options.

This is the one place a decision is taken.  ``mtag tag`` takes it from a fresh
analysis or from the segments the index stored, ``mtag inspect`` from its own
analysis or from the index, ``mtag eval`` from window scores: all through
:class:`Decider`, so the same segments and options give the same genres
whatever table was in force when the scores were stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from mtag.decision.aggregate import AGGREGATIONS, aggregate
from mtag.engine.results import Segment
from mtag.taxonomy import DEFAULT_THRESHOLD, GENRE, Choice, Taxonomy

MOOD = "mood"


@dataclass(frozen=True)
class DecisionOptions:
    """How scores become names; the defaults are ``mtag tag``'s, declared here once."""

    top: int = 3
    threshold: float = DEFAULT_THRESHOLD
    parents: bool = False
    moods: bool = False
    aggregation: str = "mean"

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {self.aggregation!r}; use one of {', '.join(AGGREGATIONS)}")

    @classmethod
    def from_run(cls, recorded: Mapping[str, Any], aggregation: str | None = None) -> DecisionOptions:
        """The options a run recorded in the index decided with; what it did not record is the default.

        Runs before the aggregation became a decision option recorded it in
        their analysis key: ``aggregation`` passes it in.
        """
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in recorded.items() if key in known and value is not None}
        if aggregation is not None and "aggregation" not in values:
            values["aggregation"] = aggregation
        return cls(**values)


@dataclass(frozen=True)
class TrackDecision:
    """A track's scores under the aggregation, and the names chosen from them, by kind."""

    scores: np.ndarray
    choices: dict[str, list[Choice]]

    @property
    def genres(self) -> list[Choice]:
        return self.choices.get(GENRE, [])

    def chosen(self) -> list[Choice]:
        """Every chosen name, genres first."""
        return [choice for picked in self.choices.values() for choice in picked]


def genre_candidates(taxonomy: Taxonomy, labels: Sequence[str]) -> np.ndarray:
    """A mask of the genre labels: the only ones that may win a window's vote."""
    return np.array([taxonomy.entry(label).kind == GENRE for label in labels])


class Decider:
    """Decides tracks scored with one model's labels, under one genre table and one set of options."""

    def __init__(self, taxonomy: Taxonomy, labels: Sequence[str], options: DecisionOptions) -> None:
        self.taxonomy = taxonomy
        self.labels = list(labels)
        self.options = options
        self.candidates = genre_candidates(taxonomy, self.labels)

    def track_scores(self, segments: Sequence[Segment] | np.ndarray) -> np.ndarray:
        """Window scores ``(windows, labels)`` (or segments) -> track scores under the options' aggregation."""
        matrix = segments if isinstance(segments, np.ndarray) else np.stack([s.scores for s in segments])
        return aggregate(matrix, self.options.aggregation, self.candidates)

    def decide(self, segments: Sequence[Segment] | np.ndarray) -> TrackDecision:
        """The chosen genres (and, with ``moods``, moods), with the labels that carried them."""
        scores = self.track_scores(segments)
        o = self.options
        kinds = [GENRE, MOOD] if o.moods else [GENRE]
        choices = {
            kind: self.taxonomy.decide(
                self.labels,
                scores,
                kind=kind,
                top=o.top,
                threshold=o.threshold,
                with_parents=o.parents and kind == GENRE,
            )
            for kind in kinds
        }
        return TrackDecision(scores, choices)
