"""From a model's label scores to the genres (or moods, eras, ...) mtag writes.

The musicnn taggers give one independent sigmoid per label, and their labels
mix genres with moods, decades, instruments and voices, several of them
near-synonyms ("electronic"/"electronica", "female"/"woman").  A
:class:`Taxonomy` (read from genres.toml by :mod:`mtag.taxonomy.table`) says
what each label means; :meth:`Taxonomy.decide` turns a track's scores into a
short, ranked list of canonical names that remembers which labels carried
each one, so a report can show why a genre was chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GENRE = "genre"
OTHER = "other"
#: What a label can mean.  Genres are what mtag is for; moods can go to a MOOD tag; the rest only inform.
KINDS = (GENRE, "mood", "era", "instrument", "voice", OTHER)

#: A track-level score (the mean over windows) must reach this for its name to be chosen.
#:
#: Chosen on the original musicnn's reference taggrams (shared/reference/musicnn), best genres of each
#: track mean, models musicnn-msd / vgg-msd / musicnn-mtt / vgg-mtt:
#: - GTZAN rock.00000: Rock 0.292 / 0.259 / 0.200 / 0.342; the best wrong genre is Indie 0.170 (vgg-msd).
#: - techno mp3: Electronic 0.497 / 0.476 on MSD; Techno 0.742 / 0.582, Dance 0.480 / 0.386, Electronic
#:   0.343 / 0.251 on MTT.
#: - digital silence: Rock 0.200 / Electronic 0.278 (Experimental 0.263) / Classical 0.204 / Classical 0.120.
#: - synthetic chords and drums: Electronic 0.577 / 0.463 / 0.408 (Techno 0.437) / 0.297, Electro 0.254 on
#:   musicnn-msd -- a fair description of that clip.
#: 0.25 lies between silence (0.200) and rock (0.292) on the default model, keeps Rock on three models of
#: four (not musicnn-mtt, whose rock score equals its silence noise) and the right genres for techno on all
#: four, and rejects silence on three of four: vgg-msd's silence outscores its own rock track, so no
#: threshold separates them there.  0.20 would let silence through on musicnn-msd.
DEFAULT_THRESHOLD = 0.25


@dataclass(frozen=True)
class Entry:
    """What one model label means: its kind and the canonical name it counts for."""

    kind: str
    name: str


@dataclass(frozen=True)
class Choice:
    """One chosen name, with the evidence for it.

    ``labels`` are the model labels that carried the name (scored at least the
    threshold), best first.  A genre pulled in only because a chosen child
    implies it (``with_parents``) has ``implied_by`` set to that child and
    shares its score and labels: the parent itself was never judged.
    """

    name: str
    kind: str
    score: float
    labels: tuple[str, ...]
    parent: str | None = None
    implied_by: str | None = None

    @property
    def implied(self) -> bool:
        """True when the name is here only as a chosen genre's ancestor."""
        return self.implied_by is not None


@dataclass(frozen=True)
class Taxonomy:
    """A validated genre table: genre hierarchy and the meaning of each known label.

    ``path`` is the user file it came from, None for mtag's built-in table.
    """

    parents: Mapping[str, str | None]
    entries: Mapping[str, Entry]
    path: Path | None = None

    def entry(self, label: str) -> Entry:
        """The label's meaning; a label the table does not know is "other", never a genre.

        Writing an unknown label as a genre would put a model's raw vocabulary
        ("female vocalists", "00s") into the user's files, which is the very
        thing the table exists to prevent; the label stays visible as "other".
        """
        return self.entries.get(label) or Entry(OTHER, label)

    def unknown_labels(self, labels: Iterable[str]) -> list[str]:
        """The labels (in the given order) this table says nothing about, so a caller can warn."""
        return [label for label in labels if label not in self.entries]

    def with_model_genres(self, genres: Mapping[str, str]) -> Taxonomy:
        """This table plus a model's own ``label -> genre`` mapping (its card's) for labels the table lacks.

        A model trained on a genre data set has labels that are genres
        (GTZAN's "hiphop"); its card says which, so it tags with no edit of the
        table.  A genre named like one of the table's (any case) is that genre;
        others are added at the top of the hierarchy.
        """
        if not genres:
            return self
        entries, parents = dict(self.entries), dict(self.parents)
        known = {name.casefold(): name for name in parents}
        for label, genre in genres.items():
            if label not in entries:
                name = known.setdefault(genre.casefold(), genre)
                parents.setdefault(name, None)
                entries[label] = Entry(GENRE, name)
        return Taxonomy(parents, entries, self.path)

    def foreign_labels(self, known: Iterable[str]) -> list[str]:
        """The labels this table maps that are not in ``known`` (the installed models' labels), sorted.

        Such an entry never matches anything: usually a misspelt label, or a
        table written for a model that is not installed.
        """
        return sorted(set(self.entries) - set(known))

    def ancestors(self, genre: str) -> tuple[str, ...]:
        """The genre's parent, grandparent, ... (the table is checked to be free of cycles)."""
        chain: list[str] = []
        parent = self.parents.get(genre)
        while parent is not None:
            chain.append(parent)
            parent = self.parents.get(parent)
        return tuple(chain)

    def decide(
        self,
        labels: Sequence[str],
        scores: np.ndarray,
        *,
        top: int = 3,
        threshold: float = DEFAULT_THRESHOLD,
        with_parents: bool = False,
        kind: str = GENRE,
    ) -> list[Choice]:
        """The names of ``kind`` whose score reaches ``threshold``, best first, at most ``top``.

        ``scores`` are track-level probabilities in ``labels`` order.  Labels
        that count for the same name merge, the name scoring as its best label:
        the sigmoids are independent per label, not shares of one total, and
        synonyms like "electronic"/"electronica" fire together on the same
        evidence, so a sum would count that evidence twice, reward a vocabulary
        for having two spellings and leave the 0-1 scale the threshold is set on.

        With ``with_parents`` (genres only), each chosen genre is followed by
        its ancestors that were not chosen themselves, marked as implied; they
        do not count towards ``top``.
        """
        _check_request(labels, scores, top, kind)
        chosen = self._ranked(labels, np.asarray(scores, dtype=float), threshold, kind)[:top]
        return self._with_ancestors(chosen) if with_parents and kind == GENRE else chosen

    def _ranked(self, labels: Sequence[str], scores: np.ndarray, threshold: float, kind: str) -> list[Choice]:
        """Every name of ``kind`` with a label at or above the threshold, best first.

        Ties keep the model's label order, so the result never depends on dict
        or sort accidents.
        """
        carriers: dict[str, list[tuple[float, int, str]]] = {}
        for index, (label, score) in enumerate(zip(labels, scores.tolist())):
            entry = self.entry(label)
            if entry.kind == kind and score >= threshold:
                carriers.setdefault(entry.name, []).append((-score, index, label))
        ranked = sorted((sorted(evidence), name) for name, evidence in carriers.items())
        return [
            Choice(
                name=name,
                kind=kind,
                score=-evidence[0][0],
                labels=tuple(label for _, _, label in evidence),
                parent=self.parents.get(name) if kind == GENRE else None,
            )
            for evidence, name in ranked
        ]

    def _with_ancestors(self, chosen: list[Choice]) -> list[Choice]:
        """Each chosen genre followed by its not-yet-present ancestors, scored as the child."""
        present = {choice.name for choice in chosen}
        result: list[Choice] = []
        for choice in chosen:
            result.append(choice)
            for ancestor in self.ancestors(choice.name):
                if ancestor not in present:
                    present.add(ancestor)
                    result.append(
                        Choice(
                            name=ancestor,
                            kind=GENRE,
                            score=choice.score,
                            labels=choice.labels,
                            parent=self.parents.get(ancestor),
                            implied_by=choice.name,
                        )
                    )
        return result


def _check_request(labels: Sequence[str], scores: np.ndarray, top: int, kind: str) -> None:
    """Reject calls that are programming mistakes rather than user input."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    if np.shape(scores) != (len(labels),):
        raise ValueError(f"scores have shape {np.shape(scores)}, expected ({len(labels)},): one per label")
