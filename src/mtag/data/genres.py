"""Genre names as people spell them, matched to the genre table's canonical names.

"Hip Hop", "hip-hop", "HipHop" and GTZAN's "hiphop" are one genre: names are
compared by their letters and digits alone, ignoring case.  A name the table
knows (as a genre or as a genre label of a model) becomes the table's
spelling, so a model trained on GTZAN writes "Hip-Hop" exactly as the shipped
models do; any other name keeps a spelling of its own.
"""

from __future__ import annotations

import re

from mtag.taxonomy import GENRE, Taxonomy, load_taxonomy

_NOT_WORD = re.compile(r"[\W_]+")


def genre_key(name: str) -> str:
    """What two spellings of one genre share: letters and digits, case-folded ("Hip Hop" -> "hiphop")."""
    return _NOT_WORD.sub("", name.casefold())


class GenreNames:
    """Canonical spellings: the genre table's first, then the first spelling met of each other name."""

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        taxonomy = load_taxonomy() if taxonomy is None else taxonomy
        self._names: dict[str, str] = {genre_key(genre): genre for genre in taxonomy.parents}
        for label, entry in taxonomy.entries.items():
            if entry.kind == GENRE:
                self._names.setdefault(genre_key(label), entry.name)

    def known(self, name: str) -> str | None:
        """The table's spelling of ``name``, or None when the table does not know it."""
        return self._names.get(genre_key(name))

    def canonical(self, name: str) -> str:
        """The one spelling of ``name`` from now on: the table's, else the first one seen (title-cased if lower)."""
        key = genre_key(name)
        if not key:
            return name.strip()
        if key not in self._names:
            self._names[key] = name.title() if name.islower() else name.strip()
        return self._names[key]

    def mapping(self, labels: tuple[str, ...]) -> dict[str, str]:
        """``label -> genre`` for a genre data set's labels (what a trained model's card declares)."""
        return {label: self.canonical(label) for label in labels}
