"""One writing run per index: an advisory lock on ``<index>.lock``.

SQLite's own locks only serialise single transactions; two ``mtag tag`` runs
on one library would still tag the same files twice and each would mark the
other's run as interrupted.  The run lock is held for a whole run instead.

The operating system drops the lock when its holder exits, however it exits
(kill -9 included), so a stale lock cannot outlive a crash.  The lock file is
never deleted: a process that opened it just before the deletion would lock an
orphaned inode while a third one locks a new file.  It holds the holder's pid,
read back only to say who is busy.

POSIX uses ``fcntl.flock``; Windows ``msvcrt.locking`` on the first byte,
which also hides the pid from waiters there (they report it as unknown).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

from mtag.errors import MtagError
from mtag.index.schema import ANOTHER_INDEX_HINT as HINT

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

#: How often a waiting process retries the lock.
POLL_SECONDS = 0.05


class IndexBusyError(MtagError):
    """Another process holds the run lock of this index."""


def _try_lock(fd: int) -> bool:
    """Take the lock without waiting; False if another process holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # BlockingIOError on POSIX, PermissionError on Windows
        return False
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _read_pid(fd: int) -> int | None:
    """The holder's pid, or None if it is not written yet or cannot be read."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).decode().strip())
    except (OSError, ValueError):
        return None


class RunLock:
    """Context manager holding the run lock of the index at ``index_path`` for its block."""

    def __init__(self, index_path: Path, timeout: float) -> None:
        self.index_path = index_path
        self.path = index_path.with_name(index_path.name + ".lock")
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise MtagError(f"cannot create the lock file: {error.strerror}", path=self.path, hint=HINT) from error
        try:
            self._wait(fd)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def _wait(self, fd: int) -> None:
        """Retry the lock until ``timeout`` has passed, then say who holds it."""
        deadline = time.monotonic() + self.timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                pid = _read_pid(fd)
                holder = "another mtag process" + ("" if pid is None else f" (pid {pid})")
                raise IndexBusyError(
                    f"the index is in use by {holder}",
                    path=self.index_path,
                    hint=f"wait for it to finish or {HINT}",
                )
            time.sleep(POLL_SECONDS)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None
