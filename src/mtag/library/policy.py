"""What to write into a tag field, given what is there and what the model decided.

Pure functions, no I/O: the ``--mode`` rules in one place, shared by
``mtag tag`` and its ``--dry-run``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mtag.taxonomy import join_genres, merge_genres, split_genres

MODES = ("keep", "replace", "append")


def new_value(mode: str, existing: Sequence[str], names: Sequence[str], separator: str) -> list[str] | None:
    """The field's new value, or ``None`` to leave it as it is.

    * ``keep``: write only into an empty field; a user's own genre wins.
    * ``replace``: the decided names, whatever was there.
    * ``append``: the existing names, then the new ones not already there
      (case-insensitive), so repeated runs never pile up duplicates.

    Nothing decided means nothing written in every mode: a low-confidence
    track must not lose the genre a person gave it.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    present = [value for value in existing if value.strip()]
    if not names or (mode == "keep" and present):
        return None
    if mode == "append":
        old_names = [name for value in present for name in split_genres(value, separator)]
        # A genre the user wrote with another separator ("Rock/Pop", "Rock, Pop") is there too;
        # their value is kept as written, split only where mtag's own separator splits it.
        known = {name.casefold() for value in present for name in split_genres(value)}
        names = merge_genres(old_names, [name for name in names if name.casefold() not in known])
    value = [join_genres(names, separator)]
    return None if value == list(existing) else value
