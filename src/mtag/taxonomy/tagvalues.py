"""Genres as one tag value: joining chosen names, splitting and merging existing ones.

Many players show a single GENRE string, so several genres are joined with a
separator ("Rock; Hard Rock").  Existing tags come in every convention:
"Rock/Pop" (ID3v1-era tools), "Rock, Pop" (hand-typed), "Rock;Pop"
(foobar2000, MusicBrainz Picard), and NUL between values (ID3v2.4 frames read
as one string).  Appending (``--mode append``) must recognise the genres a
file already has in any of these, or it would add "Rock" to "rock/pop".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mtag.errors import UsageError

DEFAULT_SEPARATOR = "; "
#: What separates genres in an existing tag when the caller does not know: ; / , and NUL.
COMMON_SEPARATORS = (";", "/", ",", "\0")


def join_genres(names: Iterable[str], separator: str = DEFAULT_SEPARATOR) -> str:
    """One tag value of ``names`` in order, refusing a name that would split apart when read back."""
    core = _core(separator)
    names = list(names)
    for name in names:
        if core in name:
            raise UsageError(
                f"genre {name!r} contains the separator {separator!r}",
                hint="choose another separator, or rename the genre in the genre table",
            )
    return separator.join(names)


def split_genres(value: str, separator: str | None = None) -> list[str]:
    """The genres in one tag value, trimmed, without empty parts.

    With ``separator`` (the one mtag writes with), only it and NUL split, so a
    name like "R&B/Soul" survives; without, any of :data:`COMMON_SEPARATORS`
    does, which suits tags written by other tools.
    """
    separators = COMMON_SEPARATORS if separator is None else (_core(separator), "\0")
    parts = re.split("|".join(map(re.escape, separators)), value)
    return [part.strip() for part in parts if part.strip()]


def merge_genres(existing: Iterable[str], new: Iterable[str]) -> list[str]:
    """The existing genres in their order, then the new ones, each once (compared ignoring case).

    The first spelling wins, so a user's "Hip Hop" or "rock" is never rewritten.
    """
    seen: set[str] = set()
    merged: list[str] = []
    for name in [*existing, *new]:
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            merged.append(name)
    return merged


def _core(separator: str) -> str:
    """The part of a separator that actually separates: "; " splits on ";" (spaces are trimmed anyway)."""
    if not separator:
        raise ValueError("the genre separator must not be empty")
    return separator.strip() or separator
