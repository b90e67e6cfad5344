"""Replace a file by an edited copy in one rename, so that it is never half written.

The copy lives in the file's own folder (a rename cannot cross file systems)
under a name that discovery recognises and skips, ``.{name}.mtag-{pid}.tmp``.
The pid tells a copy whose writer still runs from one left by a crash or
``kill -9``, which :func:`remove_stale_temp_files` deletes.  Liveness is
checked with ``kill(pid, 0)`` on this machine: a copy that another machine
is writing on a shared folder may be deleted under it, and then that writer's
rename fails and its file stays as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from os import PathLike
from pathlib import Path

from mtag.tags.errors import TagError

#: Names of mtag's temporary copies (to match against a file name, not a path).
TEMP_PATTERN = re.compile(r"\.(?P<name>.+)\.mtag-(?P<pid>[0-9]{1,9})\.tmp", re.DOTALL)

#: The longest file name (in bytes) of common file systems (ext4, btrfs, APFS, NTFS).
_NAME_MAX = 255


def temp_path(target: Path) -> Path:
    """Where this process copies ``target`` to edit it, beside it.

    The name keeps as much of ``target``'s name as fits the file name limit
    (a long name would otherwise make the copy impossible to create).
    """
    suffix = f".mtag-{os.getpid()}.tmp"
    room = _NAME_MAX - len(os.fsencode("." + suffix))
    return target.with_name("." + os.fsdecode(os.fsencode(target.name)[:room]) + suffix)


def remove_stale_temp_files(directory: str | PathLike[str]) -> list[Path]:
    """Delete the temporary copies in ``directory`` (not below) whose process is gone.

    A copy holds either the old file or an unfinished new one, never the only
    version of anything: the file it was copied from is intact.
    """
    removed = []
    with os.scandir(directory) as entries:
        for entry in entries:
            match = TEMP_PATTERN.fullmatch(entry.name)
            if match and entry.is_file(follow_symlinks=False) and not _running(int(match["pid"])):
                try:
                    _remove(Path(entry.path))
                except OSError as error:
                    raise TagError(
                        f"cannot remove mtag's stale temporary file ({error.strerror})",
                        path=entry.path,
                        hint="delete it by hand",
                    ) from None
                removed.append(Path(entry.path))
    return removed


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A private copy of ``target`` to edit in the ``with`` block; it then replaces ``target``.

    When the block ends without error, the copy is flushed to disk, given
    ``target``'s permission bits and (as far as allowed) its owner and group,
    and renamed over ``target``: other processes see the old file or the new
    one, never a mix, and a crash at any point leaves ``target`` whole.  On
    any error -- in the block, in these steps, or because ``target`` changed
    since it was copied -- the copy is deleted and ``target`` is left as it is.
    """
    before = os.stat(target)
    temp = temp_path(target)
    _copy_privately(target, temp)
    try:
        yield temp
        _sync(temp)
        _match_owner_and_mode(temp, before)
        _check_unchanged(target, before)
        os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise
    _sync_folder(target.parent)


def _copy_privately(source: Path, copy: Path) -> None:
    """Copy ``source`` to a new file only we can read until the copy is done.

    ``O_EXCL`` never opens a file that is already there (another writer's copy).
    """
    descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out, open(source, "rb") as into:
            shutil.copyfileobj(into, out)
    except BaseException:
        _remove(copy)
        raise


def _sync(path: Path) -> None:
    """Flush ``path``'s data to disk, so that the rename cannot land before the data."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: some file systems cannot sync a folder)."""
    with suppress(OSError):
        _sync(folder)


def _match_owner_and_mode(copy: Path, original: os.stat_result) -> None:
    """Give ``copy`` the original's owner and group where allowed, then its permission bits.

    Only root may give a file to another user; others keep at least the group
    where they belong to it.  The mode comes last because chown may clear
    set-id bits.
    """
    try:
        os.chown(copy, original.st_uid, original.st_gid)
    except PermissionError:
        with suppress(PermissionError):
            os.chown(copy, -1, original.st_gid)
    os.chmod(copy, stat.S_IMODE(original.st_mode))


def _check_unchanged(target: Path, before: os.stat_result) -> None:
    """Refuse to replace a file that another program changed since it was copied."""
    now = os.stat(target)
    if _identity(now) != _identity(before):
        raise TagError(
            "the file changed while mtag was writing its tags",
            path=target,
            hint="it was left as the other program wrote it; run mtag again",
        )


def _identity(info: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is replaced or written (ctime too, which no program can set back)."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, run by another user
        return True
    return True


def _remove(path: Path) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)
