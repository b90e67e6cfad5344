"""Reading and checking the genre table (genres.toml).

The table is meant to be edited by users, so every mistake in it is reported
as a one-line :class:`~mtag.errors.UsageError` naming the file and the entry,
before any audio is analysed: a typo must not silently turn into a genre
nobody asked for, or into a genre that is never written.

Which table is used, first match wins: the file given explicitly, the user's
``$XDG_CONFIG_HOME/mtag/genres.toml`` (``~/.config/mtag/genres.toml``), then
the table shipped inside the package.  The schema is described at the top of
the shipped genres.toml.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from mtag.errors import UsageError
from mtag.taxonomy.decide import GENRE, KINDS, Entry, Taxonomy

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

TABLE_FILE = "genres.toml"
_BUILT_IN = "mtag's built-in genres.toml"
_SECTIONS = ("genres", "labels")
_GENRE_KEYS = ("parent",)


def user_table_path() -> Path:
    """Where a user's own genre table goes, following the XDG base-directory spec."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "mtag" / TABLE_FILE


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The genre table at ``path``, else the user's, else the built-in one."""
    if path is not None:
        return _load_file(Path(path))
    user = user_table_path()
    if user.is_file():
        return _load_file(user)
    text = resources.files("mtag.taxonomy").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return parse_table(text, None)


def parse_table(text: str, path: Path | None) -> Taxonomy:
    """Check a table's TOML text and build its :class:`Taxonomy`.

    ``path`` is the file the text came from (None for the built-in table): it
    names the file in error messages and is kept as :attr:`Taxonomy.path`.
    """
    where = _BUILT_IN if path is None else path
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML: {exc}", path=where) from None
    try:
        _check_sections(document)
        parents = _read_genres(document.get("genres", {}))
        entries = _read_labels(document.get("labels", {}), parents)
        _check_writes_genres(entries)
    except _TableError as exc:
        raise UsageError(exc.message, path=where, hint=exc.hint) from None
    return Taxonomy(parents=parents, entries=entries, path=path)


class _TableError(Exception):
    """A mistake found in the table's contents, before we know which file to blame."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _load_file(path: Path) -> Taxonomy:
    """Read a user's table, turning an unreadable file into a usage error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError("no such genre table", path=path, hint="check the path") from None
    except UnicodeDecodeError:
        raise UsageError("genre table is not UTF-8 text", path=path, hint="save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"cannot read the genre table: {exc.strerror}", path=path) from None
    return parse_table(text, path)


def _check_sections(document: dict[str, Any]) -> None:
    """Refuse top-level keys the schema does not have, which are almost always typos ([genre], [label])."""
    unknown = sorted(set(document) - set(_SECTIONS))
    if unknown:
        raise _TableError(f"unknown section [{unknown[0]}]", "the sections are [genres] and [labels.KIND]")
    for section in _SECTIONS:
        _expect_table(document.get(section, {}), f"[{section}]")


def _read_genres(genres: dict[str, Any]) -> dict[str, str | None]:
    """Each genre's parent (None at the top), checked to form a forest of defined genres."""
    parents: dict[str, str | None] = {}
    for name, spec in genres.items():
        where = f"[genres] {name!r}"
        _check_name(name, where)
        key = json.dumps(name, ensure_ascii=False)  # a TOML basic string, quotes included
        _expect_table(spec, where, f'write {key} = {{}} or {key} = {{ parent = "NAME" }}')
        unknown = sorted(set(spec) - set(_GENRE_KEYS))
        if unknown:
            raise _TableError(f"{where} has unknown key {unknown[0]!r}", 'a genre takes only parent = "NAME"')
        parent = spec.get("parent")
        if parent is not None:
            _check_value(parent, f"{where} parent")
        parents[name] = parent
    for name, parent in parents.items():
        if parent is not None and parent not in parents:
            raise _TableError(
                f"[genres] {name!r} has parent {parent!r}, which is not a genre",
                f"add {parent!r} to [genres] or fix the spelling",
            )
    _check_acyclic(parents)
    return parents


def _check_acyclic(parents: dict[str, str | None]) -> None:
    """Refuse parent loops, which would make --parents run forever."""
    for start in parents:
        chain = [start]
        while (parent := parents[chain[-1]]) is not None:
            if parent in chain:
                loop = " -> ".join([*chain[chain.index(parent) :], parent])
                raise _TableError(f"genre parents form a loop: {loop}", "a genre cannot be its own ancestor")
            chain.append(parent)


def _read_labels(kinds: dict[str, Any], parents: dict[str, str | None]) -> dict[str, Entry]:
    """Every label's kind and name; each label in one kind only, each genre name defined in [genres]."""
    entries: dict[str, Entry] = {}
    for kind, labels in kinds.items():
        where = f"[labels.{kind}]"
        if kind not in KINDS:
            raise _TableError(f"unknown label kind {where}", f"kinds are {', '.join(KINDS)}")
        _expect_table(labels, where)
        for label, name in labels.items():
            _check_value(name, f"{where} {label!r}")
            if label in entries:
                raise _TableError(
                    f"label {label!r} is in both [labels.{entries[label].kind}] and {where}",
                    "a label has one kind: keep one line",
                )
            if kind == GENRE and name not in parents:
                raise _TableError(
                    f"{where} maps {label!r} to {name!r}, which is not in [genres]",
                    f"add {name!r} to [genres] or fix the spelling",
                )
            entries[label] = Entry(kind, name)
    return entries


def _check_writes_genres(entries: dict[str, Entry]) -> None:
    """Refuse a table under which mtag could never write a genre: that is a broken file, not a choice."""
    if not any(entry.kind == GENRE for entry in entries.values()):
        raise _TableError("no label is mapped to a genre", 'add a [labels.genre] section: "model label" = "Genre"')


def _expect_table(value: Any, where: str, hint: str = "see the schema atop the built-in genres.toml") -> None:
    """Refuse a plain value where the schema wants a table (``[genres] Rock = "Pop"``)."""
    if not isinstance(value, dict):
        raise _TableError(f"{where} must be a table, not {_toml_type(value)}", hint)


def _check_value(value: Any, where: str) -> None:
    """A name the table points at must be a string that can be a name."""
    if not isinstance(value, str):
        raise _TableError(f"{where} must be a string, not {_toml_type(value)}", 'write it in quotes: "Name"')
    _check_name(value, where)


def _check_name(name: str, where: str) -> None:
    """Names end up in tags: no empty names, stray spaces or control characters (NUL separates tag values)."""
    if not name.strip() or name != name.strip() or any(ord(char) < 32 for char in name):
        raise _TableError(f"{where}: {name!r} is not a usable name", "use visible text without outer spaces")


def _toml_type(value: Any) -> str:
    """What a TOML value is, in TOML's words, for error messages."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array"}
    return names.get(type(value), "a table" if isinstance(value, dict) else "a date or time")
