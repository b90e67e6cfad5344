"""Writing genre and mood without ever leaving a damaged file.

A file is never edited in place.  mutagen writes the new tags into a copy
beside it (:mod:`mtag.tags.atomic`); the copy is parsed again and must hold
exactly the new values and every other tag the file had; only then does it
replace the file, in one rename.  Whatever fails -- a mutagen error, a full
disk, a crash, ``kill -9`` -- the file is the old one or the new one, never
a mix, and at worst a temporary copy is left for
:func:`~mtag.tags.atomic.remove_stale_temp_files`.  mutagen rewrites only
tag blocks, so the audio data of the new file is that of the old one.

Symlinks are written through: the file a link points to is replaced, and the
link stays a link to it.  A file with several hard links is the exception to
"the same file, new tags": the rename gives this name the new file, and the
other names keep the old one (which is what a seeding torrent needs, too).
A replaced file keeps its permission bits, and its owner and group as far as
the user running mtag may set them (root: always); extended attributes and
ACLs are not carried over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from mtag.tags.atomic import replacing
from mtag.tags.errors import UNCHANGED, TagError
from mtag.tags.formats import TagFile, check_field, open_tags


@dataclass(frozen=True)
class FileState:
    """A file's size and modification time: what tells the next run the file is as mtag left it."""

    size: int
    mtime_ns: int


def file_state(path: str | PathLike[str]) -> FileState:
    """The current :class:`FileState` of ``path`` (of the target, for a symlink)."""
    info = os.stat(path)
    return FileState(info.st_size, info.st_mtime_ns)


def write_tags(path: str | PathLike[str], changes: Mapping[str, Sequence[str] | None]) -> FileState:
    """Set each field in ``changes`` to exactly its list of strings; ``None`` or ``[]`` removes it.

    Afterwards :func:`~mtag.tags.formats.read_field` gives back exactly the
    list written.  Fields not in ``changes``, other tags and the audio are
    kept.  Returns the file's new state; where the file already holds these
    values it is not touched, and its current state is returned.  Every
    failure is a :class:`TagError` and leaves the file as it was.
    """
    wanted = _wanted(changes)
    target = _target(path)
    original = open_tags(target)
    in_step = "genre" not in wanted or not original.info_disagrees(wanted["genre"])  # a WAV's INFO genre too
    if in_step and all(original.read(field) == values for field, values in wanted.items()):
        return file_state(target)
    original.scheme_for_writing()
    _check_writable(target)
    expected = {**original.values(), **wanted}
    kept = original.other_keys()
    try:
        with replacing(target) as temp:
            open_tags(temp, shown=target).write(wanted)
            _verify(open_tags(temp, shown=target), expected, kept)
    except OSError as error:
        raise TagError(f"cannot write the file ({error.strerror or error})", path=target, hint=UNCHANGED) from error
    return file_state(target)


def _wanted(changes: Mapping[str, Sequence[str] | None]) -> dict[str, list[str]]:
    """``changes`` as field -> list of strings, rejecting what is surely the caller's mistake."""
    wanted = {}
    for field, values in changes.items():
        check_field(field)
        if isinstance(values, str) or not all(isinstance(value, str) for value in values or []):
            raise TypeError(f"{field}: give a list of strings (or None), not {values!r}")
        wanted[field] = list(values or [])
    return wanted


def _target(path: str | PathLike[str]) -> Path:
    """The file to replace: a symlink's target, so that the link stays a link."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        raise TagError("file not found", path=path, hint="check the path (and where a symlink points)") from None
    except OSError as error:
        raise TagError(f"cannot follow the path ({error.strerror})", path=path, hint="check the path") from None


def _check_writable(target: Path) -> None:
    """Refuse what the rename would otherwise allow.

    Replacing a file needs only its folder to be writable, so a read-only file
    would be replaced like any other.  A file without write permission is its
    owner's "do not touch": it is refused, also where the process could
    override that (root), which is why the mode bits are checked as well.
    A folder without write permission is refused the same way, root or not:
    a read-only folder (chmod a-w) says "nothing changes in here".
    """
    if not os.access(target, os.W_OK) or not target.stat().st_mode & 0o222:
        raise TagError("file is read-only", path=target, hint="make it writable (chmod u+w) for mtag to tag it")
    if not os.access(target.parent, os.W_OK | os.X_OK) or not target.parent.stat().st_mode & 0o222:
        raise TagError(
            "cannot create files in its folder",
            path=target,
            hint="mtag writes a copy beside the file and renames it over the file; make the folder writable",
        )


def _verify(copy: TagFile, expected: dict[str, list[str]], kept: set[str]) -> None:
    """The copy must read back with the new values and every other tag, or it replaces nothing."""
    found = copy.values()
    for field, values in expected.items():
        if found[field] != values:
            raise TagError(
                f"the {field} tag did not read back as written ({found[field]!r} instead of {values!r})",
                path=copy.shown,
                hint=UNCHANGED,
            )
    if copy.info_disagrees(expected["genre"]):
        raise TagError(
            "the genre in the WAV file's INFO list did not read back as written", path=copy.shown, hint=UNCHANGED
        )
    lost = kept - copy.other_keys()
    if lost:
        raise TagError(f"writing would lose other tags ({', '.join(sorted(lost))})", path=copy.shown, hint=UNCHANGED)
