"""Turning model label scores into genre (and mood) decisions.

The models' labels mix genres with moods, decades, instruments and voices;
genres.toml (shipped here, overridable per user) says what each label means,
:meth:`Taxonomy.decide` picks the names to write, and :mod:`.tagvalues` joins
them into, or reads them from, a tag value.  No torch here: deciding must stay
cheap enough to redo from stored scores.
"""

from mtag.taxonomy.decide import DEFAULT_THRESHOLD, GENRE, KINDS, OTHER, Choice, Entry, Taxonomy
from mtag.taxonomy.table import load_taxonomy, parse_table, user_table_path
from mtag.taxonomy.tagvalues import COMMON_SEPARATORS, DEFAULT_SEPARATOR, join_genres, merge_genres, split_genres

__all__ = [
    "COMMON_SEPARATORS",
    "DEFAULT_SEPARATOR",
    "DEFAULT_THRESHOLD",
    "GENRE",
    "KINDS",
    "OTHER",
    "Choice",
    "Entry",
    "Taxonomy",
    "join_genres",
    "load_taxonomy",
    "merge_genres",
    "parse_table",
    "split_genres",
    "user_table_path",
]
