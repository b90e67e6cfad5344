"""Decisions: window scores -> track scores (aggregation) -> genres and moods (the genre table).

Above the engine and below ``tag``, ``inspect`` and ``eval``; no torch.
"""

from mtag.decision.aggregate import AGGREGATIONS, aggregate
from mtag.decision.decider import MOOD, Decider, DecisionOptions, TrackDecision, genre_candidates

__all__ = ["AGGREGATIONS", "MOOD", "Decider", "DecisionOptions", "TrackDecision", "aggregate", "genre_candidates"]
