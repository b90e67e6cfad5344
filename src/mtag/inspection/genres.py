"""A model's label scores seen as genre scores, the way the taxonomy decides them.

:meth:`Taxonomy.decide` scores a genre as its best label ("electronic" 0.5
and "electronica" 0.2 make "Electronic" 0.5).  Inspect needs the same view
per segment (who wins each window, where a genre is strong), so it is built
once per model here rather than re-derived by every rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mtag.taxonomy import GENRE, Taxonomy


def _normalised(name: str) -> str:
    """Case, spaces and punctuation ignored: "Hip Hop", "hip-hop" and "HipHop" are one genre."""
    return re.sub(r"[\W_]+", "", name.casefold())


@dataclass(frozen=True)
class GenreView:
    """The genre names a model can vote for, and which of its labels count for each."""

    taxonomy: Taxonomy
    labels: tuple[str, ...]
    names: tuple[str, ...]  # in the order their first label comes in the model
    columns: tuple[tuple[int, ...], ...]  # label indices per name

    @classmethod
    def of(cls, taxonomy: Taxonomy, labels: Sequence[str]) -> GenreView:
        columns: dict[str, list[int]] = {}
        for index, label in enumerate(labels):
            entry = taxonomy.entry(label)
            if entry.kind == GENRE:
                columns.setdefault(entry.name, []).append(index)
        return cls(taxonomy, tuple(labels), tuple(columns), tuple(tuple(c) for c in columns.values()))

    def scores(self, label_scores: np.ndarray) -> np.ndarray:
        """``(..., labels)`` -> ``(..., genres)``: each genre scores as its best label."""
        if not self.names:
            return np.zeros((*label_scores.shape[:-1], 0), np.float32)
        return np.stack([label_scores[..., list(c)].max(axis=-1) for c in self.columns], axis=-1)

    def winners(self, segment_scores: np.ndarray) -> list[str]:
        """The leading genre of each segment (rows of ``(segments, labels)``)."""
        if not self.names:
            return []
        return [self.names[i] for i in self.scores(segment_scores).argmax(axis=1)]

    def ranked(self, label_scores: np.ndarray) -> list[tuple[str, float]]:
        """Every genre with its track score, best first (ties in model order, as decide breaks them)."""
        genre_scores = self.scores(label_scores)
        order = sorted(range(len(self.names)), key=lambda i: (-float(genre_scores[i]), i))
        return [(self.names[i], float(genre_scores[i])) for i in order]

    def recognise(self, text: str) -> str | None:
        """The taxonomy's genre a free-text tag value means (by genre name or model label), or None."""
        key = _normalised(text)
        for name in self.taxonomy.parents:
            if _normalised(name) == key:
                return name
        for label, entry in self.taxonomy.entries.items():
            if entry.kind == GENRE and _normalised(label) == key:
                return entry.name
        return None

    def related(self, first: str, second: str) -> bool:
        """The same genre, or one is an ancestor of the other ("Rock" and "Hard Rock" agree)."""
        return first == second or first in self.taxonomy.ancestors(second) or second in self.taxonomy.ancestors(first)
