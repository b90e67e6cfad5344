"""What to write into a tag field, given what is there and what the model decided.

Pure functions, no I/O: the ``--mode`` rules in one place, shared by
``mtag tag`` and its ``--dry-run``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mtag.taxonomy import join_genres, merge_genres, split_genres

MODES = ("keep", "replace", "append")


def new_value(
    mode: str,
    existing: Sequence[str],
    names: Sequence[str],
    separator: str,
    existing_names: Sequence[str] | None = None,
) -> list[str] | None:
    """The field's new value, or ``None`` to leave it as it is (byte for byte).

    ``existing`` is the field as stored; ``existing_names`` what it means, where
    that differs: an ID3 genre stored as ``"(17)"`` or ``"0"`` names Rock or
    Blues (see :meth:`mtag.tags.TagValues.names`).  Comparing and appending go
    by the names, so "(17)" is not taken for a genre called "(17)" and mtag
    never writes "(17); Rock"; what is written is always names.

    * ``keep``: write only into an empty field; a user's own genre wins.
    * ``replace``: the decided names as one value, whatever was there (an
      ID3 reference like "(17)" becomes the name "Rock" even where Rock is
      decided: names are what every player reads).
    * ``append``: the existing names, then the new ones not already there
      (case-insensitive), so repeated runs never pile up duplicates; when every
      decided name is already there, nothing is written at all.

    Nothing decided means nothing written in every mode: a low-confidence
    track must not lose the genre a person gave it.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    meant = [value for value in (existing if existing_names is None else existing_names) if value.strip()]
    if not names or (mode == "keep" and meant):
        return None
    if mode == "append":
        old_names = [name for value in meant for name in split_genres(value, separator)]
        # A genre the user wrote with another separator ("Rock/Pop", "Rock, Pop") is there too;
        # their value is kept as written, split only where mtag's own separator splits it.
        known = {name.casefold() for value in meant for name in split_genres(value)}
        added = [name for name in names if name.casefold() not in known]
        if not added:
            return None
        names = merge_genres(old_names, added)
    value = [join_genres(names, separator)]
    return None if value == list(existing) else value


def new_names(mode: str, existing: Sequence[str], names: Sequence[str], separator: str) -> list[str] | None:
    """:func:`new_value` for a field that holds a list of names (beets' ``genres``): the new list, or ``None``.

    The same rules, so ``beet mtag`` and ``mtag tag`` agree; the one joined
    value is split back into names with ``separator``, and a list that comes
    out as it was (["Rock", "Jazz"] decided over ["Rock", "Jazz"]) is no change.
    """
    value = new_value(mode, existing, names, separator)
    if value is None:
        return None
    result = split_genres(value[0], separator)
    return None if result == list(existing) else result
