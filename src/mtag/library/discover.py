"""Find the audio files under the paths a user names.

Files are chosen by extension here and confirmed by opening them later (the
decoder reports a ``.mp3`` that is not audio as a failed file, not a crash).
The walk never follows symlinked folders, which can loop; symlinked files are
kept.  Hidden files are skipped: they are mtag's own temporary copies
(``.name.mtag-PID.tmp``), macOS ``._`` resource forks and similar debris, not
tracks.  The order is sorted, so runs and reports are reproducible.

Only regular files are taken from a folder: a FIFO named ``x.mp3`` would block
the first process that opens it forever (nothing will ever write to it), and
sockets and devices are not tracks either.  They are counted by kind so the
run can say what it left out.  A file named explicitly is always passed on;
the decoder refuses a special file in one line, before opening it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mtag.audio.decode import SUPPORTED_EXTENSIONS, special_kind
from mtag.errors import UsageError


def is_audio_name(path: Path, extensions: Collection[str] = SUPPORTED_EXTENSIONS) -> bool:
    """An extension mtag decodes (or one of ``extensions``), on a name that is not hidden."""
    return path.suffix.lower() in extensions and not path.name.startswith(".")


@dataclass
class Discovery:
    """The files to work on, and how many audio-named special files were left out, by kind."""

    files: list[Path]
    special: Counter[str] = field(default_factory=Counter)  # kind (see special_kind) -> count


def _walk(folder: Path, special: Counter[str], extensions: Collection[str]) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            if not is_audio_name(path, extensions):
                continue
            try:
                kind = special_kind(os.stat(path).st_mode)  # follows a symlink: what it points to counts
            except OSError:  # a dangling link or a file gone since: the decoder says so, in one line
                kind = None
            if kind is None:
                yield path
            else:
                special[kind] += 1


def discover(paths: Iterable[str | os.PathLike[str]], extensions: Collection[str] = SUPPORTED_EXTENSIONS) -> Discovery:
    """Every audio file named or under a named folder, absolute, sorted, each once.

    ``extensions`` widens what a folder walk takes: data sets ship formats
    (GTZAN's Sun ``.au``) that the decoder reads but mtag cannot tag.

    A path that does not exist is a usage error: it is almost always a typo,
    and tagging the rest silently would hide it.  A file named explicitly is
    taken whatever its extension; the decoder will say if it is not audio.
    """
    found: dict[Path, None] = {}
    special: Counter[str] = Counter()
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise UsageError("no such file or folder", path=path, hint="check the path")
        if path.is_dir():
            found.update(dict.fromkeys(_absolute(p) for p in _walk(path, special, extensions)))
        else:
            found[_absolute(path)] = None
    return Discovery(sorted(found), special)


def find_audio_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files of :func:`discover`."""
    return discover(paths).files


def _absolute(path: Path) -> Path:
    """Absolute with ``..`` folded, symlinks kept: the key the index stores a file under, so each file comes once."""
    return Path(os.path.abspath(path))
