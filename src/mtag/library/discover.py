"""Find the audio files under the paths a user names.

Files are chosen by extension here and confirmed by opening them later (the
decoder reports a ``.mp3`` that is not audio as a failed file, not a crash).
The walk never follows symlinked folders, which can loop; symlinked files are
kept.  Hidden files are skipped: they are mtag's own temporary copies
(``.name.mtag-PID.tmp``), macOS ``._`` resource forks and similar debris, not
tracks.  The order is sorted, so runs and reports are reproducible.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from mtag.audio.decode import SUPPORTED_EXTENSIONS
from mtag.errors import UsageError


def is_audio_name(path: Path) -> bool:
    """An extension mtag decodes, on a name that is not hidden."""
    return path.suffix.lower() in SUPPORTED_EXTENSIONS and not path.name.startswith(".")


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            if is_audio_name(path):
                yield path


def find_audio_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every audio file named or under a named folder, absolute, sorted, each once.

    A path that does not exist is a usage error: it is almost always a typo,
    and tagging the rest silently would hide it.  A file named explicitly is
    taken whatever its extension; the decoder will say if it is not audio.
    """
    found: dict[Path, None] = {}
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise UsageError("no such file or folder", path=path, hint="check the path")
        if path.is_dir():
            found.update(dict.fromkeys(_absolute(p) for p in _walk(path)))
        else:
            found[_absolute(path)] = None
    return sorted(found)


def _absolute(path: Path) -> Path:
    """Absolute with ``..`` folded, symlinks kept: the key the index stores a file under, so each file comes once."""
    return Path(os.path.abspath(path))
