"""Named arrays in append-only, memory-mapped shard files: the storage under the training caches.

Why shards: a data set is tens of thousands of tracks; one file per track
costs an inode and an ``open`` each, one big file cannot be appended to
safely.  A shard holds up to ~64 MB of arrays, and each is written whole
before anyone can see it:

* The writer streams arrays into a hidden temporary file
  (``.NAME.HOST.PID.tmp``), so RAM holds only the index, never the data.
* Closing the shard appends its index (JSON) and a footer, fsyncs, and
  renames it to ``NAME.shard`` in one step.  The index is written last, and
  only files named ``*.shard`` are read, so a reader never sees a half-written
  shard; a killed writer leaves only a temporary file, removed by the next
  writer once its process is gone.
* Shard names are unique (time + random), so any number of processes may
  write into one folder at once (two ``mtag train`` runs building the same
  cache) without a lock: each writes its own files, and at worst the same key
  is stored twice, with the same contents.  Either copy is read.
* A full disk (``ENOSPC``, or a quota) while writing removes the temporary
  file and raises :class:`CacheFullError`; the shards already closed stay
  valid.

Layout of a shard: ``MAGIC``, the arrays (each 64-byte aligned, C order),
the index ``{"entries": {key: [offset, shape, dtype]}}`` as UTF-8 JSON, then
a footer of the index's byte length (8 bytes, little-endian) and ``FOOTER``.
Readers memory-map the file: an array costs no RAM until its pages are
touched, and the kernel drops them again under pressure.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import struct
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from mtag.disk import free_bytes
from mtag.errors import MtagError
from mtag.units import human_size

MAGIC = b"MTAGSHD1"
FOOTER = b"MTAGIDX1"
SUFFIX = ".shard"
ALIGN = 64

#: A shard is closed (made visible) once it holds this many bytes.
SHARD_BYTES = 64 << 20

#: Shard files kept mapped at once; each holds a file descriptor.
OPEN_MAPS = 64

#: Errors that mean "the disk (or the user's quota) is full".
_FULL = {errno.ENOSPC, errno.EDQUOT}

_log = logging.getLogger(__name__)

_HINT_MOVE = "free some space, or move the cache with --cache-dir or MTAG_CACHE_DIR"


class CacheFullError(MtagError):
    """The disk under a cache filled up: which folder, and about how much more it needed."""

    def __init__(self, folder: Path, needed: int, *, files_left: int | None = None) -> None:
        try:
            free = f"; {human_size(free_bytes(folder))} free"
        except OSError:
            free = ""
        left = "" if files_left is None else f" for the {files_left} file(s) not yet cached"
        super().__init__(
            f"no space left on the device for the cache: about {human_size(needed)} more needed{left}{free}",
            path=folder,
            hint=_HINT_MOVE,
        )
        self.folder = folder
        self.needed = needed


def _write_all(file: IO[bytes], data: bytes | memoryview) -> None:
    """Every write into a shard goes through here (the tests fill the disk by replacing it)."""
    file.write(data)


class _Entry:
    __slots__ = ("shard", "offset", "shape", "dtype")

    def __init__(self, shard: Path, offset: int, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.shard, self.offset, self.shape, self.dtype = shard, offset, shape, dtype

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


class ShardStore:
    """Named arrays under one folder, read through memory maps; :meth:`writer` adds more.

    Generic on purpose: the audio cache stores each track's waveform here, and
    the trainer stores per-window network embeddings in a store of its own.
    ``dtype`` is what :meth:`ShardWriter.add` stores; :meth:`get` returns each
    array as it was stored.
    """

    def __init__(self, folder: Path, dtype: np.dtype[Any] | str = "float16") -> None:
        self.folder = Path(folder)
        self.dtype = np.dtype(dtype)
        self._entries: dict[str, _Entry] = {}
        self._seen: set[Path] = set()
        self._maps: OrderedDict[Path, np.memmap[Any, Any]] = OrderedDict()
        self.refresh()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the index, not the maps: a data-loader worker process re-maps the shards it reads."""
        state = self.__dict__.copy()
        state["_maps"] = OrderedDict()
        return state

    def refresh(self) -> None:
        """Pick up shards closed since (by this process's writers, or by another process)."""
        if not self.folder.is_dir():
            return
        for shard in sorted(self.folder.glob(f"*{SUFFIX}")):
            if shard not in self._seen:
                self._seen.add(shard)
                self._load_index(shard)

    def _load_index(self, shard: Path) -> None:
        try:
            entries = read_index(shard)
        except (OSError, ValueError) as error:
            _log.warning("%s: ignoring a damaged cache shard (%s); what it held is decoded again", shard, error)
            return
        for key, (offset, shape, dtype) in entries.items():
            self._entries[key] = _Entry(shard, offset, shape, dtype)

    def _add_entry(self, key: str, entry: _Entry) -> None:
        self._seen.add(entry.shard)
        self._entries[key] = entry

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return list(self._entries)

    def shape(self, key: str) -> tuple[int, ...]:
        """The stored array's shape, without touching its data."""
        return self._entries[key].shape

    def get(self, key: str) -> np.ndarray:
        """The array stored under ``key``: a read-only memory map, ``(N,)`` or ``(N, D)`` as stored."""
        entry = self._entries[key]
        data = self._map(entry.shard)[entry.offset : entry.offset + entry.nbytes]
        return data.view(entry.dtype).reshape(entry.shape)

    def _map(self, shard: Path) -> np.memmap[Any, Any]:
        mapped = self._maps.get(shard)
        if mapped is None:
            mapped = np.memmap(shard, dtype=np.uint8, mode="r")
            self._maps[shard] = mapped
            if len(self._maps) > OPEN_MAPS:  # arrays handed out keep their own map alive
                self._maps.popitem(last=False)
        else:
            self._maps.move_to_end(shard)
        return mapped

    def nbytes(self) -> int:
        """Bytes the closed shards take on disk."""
        return sum(shard.stat().st_size for shard in self.folder.glob(f"*{SUFFIX}")) if self.folder.is_dir() else 0

    @contextmanager
    def writer(self, shard_bytes: int | None = None) -> Iterator[ShardWriter]:
        """A writer whose arrays become visible here each time it closes a shard, and at exit.

        At exit (normal, or by an exception such as Ctrl-C) the arrays added
        so far are kept: an interrupted build resumes from them.
        """
        writer = ShardWriter(self, shard_bytes)
        try:
            yield writer
        finally:
            writer.close()


class ShardWriter:
    """Appends arrays to the current temporary shard; closes it every ``shard_bytes`` and at :meth:`close`."""

    def __init__(self, store: ShardStore, shard_bytes: int | None = None) -> None:
        self.store = store
        self.shard_bytes = SHARD_BYTES if shard_bytes is None else shard_bytes
        self.written = 0  # bytes of arrays in closed shards
        self._file: IO[bytes] | None = None
        self._tmp: Path | None = None
        self._final: Path | None = None
        self._entries: dict[str, tuple[int, tuple[int, ...], str]] = {}
        self._size = 0
        try:
            store.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _failure(store.folder, error, needed=0) from None
        remove_stale_temporaries(store.folder)

    @property
    def pending(self) -> int:
        """Bytes in the shard not yet closed (lost if the process dies before it closes)."""
        return self._size

    def add(self, key: str, array: np.ndarray) -> None:
        """Store ``array`` (cast to the store's dtype) under ``key``; visible once its shard closes."""
        array = np.asarray(array)
        if np.issubdtype(self.store.dtype, np.integer) and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"scale {array.dtype} arrays to integers before storing them as {self.store.dtype}")
        data = np.ascontiguousarray(array, dtype=self.store.dtype)
        file = self._file or self._open()
        try:
            _write_all(file, b"\0" * (-self._size % ALIGN))
            self._size += -self._size % ALIGN
            _write_all(file, data.reshape(-1).view(np.uint8).data)
        except OSError as error:
            needed = self._size + data.nbytes  # the arrays already in this shard are lost with it
            self._abandon()
            raise _failure(self.store.folder, error, needed=needed) from None
        self._entries[key] = (self._size, tuple(data.shape), data.dtype.str)
        self._size += data.nbytes
        if self._size >= self.shard_bytes:
            self.flush()

    def flush(self) -> None:
        """Close the current shard (index last, fsync, rename): its arrays become visible to every reader."""
        file, tmp, final = self._file, self._tmp, self._final
        if file is None or tmp is None or final is None:
            return
        index = json.dumps({"entries": self._entries}, separators=(",", ":")).encode()
        pending = self._size
        try:
            _write_all(file, index)
            _write_all(file, struct.pack("<Q", len(index)) + FOOTER)
            file.flush()
            os.fsync(file.fileno())
            file.close()
            os.replace(tmp, final)
        except OSError as error:
            self._abandon()
            raise _failure(self.store.folder, error, needed=pending) from None
        _fsync_folder(self.store.folder)
        for key, (offset, shape, dtype) in self._entries.items():
            self.store._add_entry(key, _Entry(final, offset, shape, np.dtype(dtype)))
        self.written += pending
        self._file = self._tmp = self._final = None
        self._entries, self._size = {}, 0

    def close(self) -> None:
        """Close the current shard, if it holds anything."""
        if self._file is not None and not self._entries:
            self._abandon()
        self.flush()

    def _open(self) -> IO[bytes]:
        name = f"{time.time_ns():016x}-{uuid.uuid4().hex[:12]}"
        self._final = self.store.folder / f"{name}{SUFFIX}"
        self._tmp = self.store.folder / f".{name}.{_host()}.{os.getpid()}.tmp"
        try:
            self._file = open(self._tmp, "wb")  # noqa: SIM115  # closed by flush or _abandon
            _write_all(self._file, MAGIC)
        except OSError as error:
            self._abandon()
            raise _failure(self.store.folder, error, needed=len(MAGIC)) from None
        self._size = len(MAGIC)
        return self._file

    def _abandon(self) -> None:
        """Drop the shard being written: close and remove its temporary file."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError:  # a full disk can fail the close's flush too
                pass
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._file = self._tmp = self._final = None
        self._entries, self._size = {}, 0


def read_index(shard: Path) -> dict[str, tuple[int, tuple[int, ...], np.dtype[Any]]]:
    """A closed shard's index: key -> (byte offset, shape, dtype); ``ValueError`` if the file is damaged."""
    size = shard.stat().st_size
    with open(shard, "rb") as file:
        if file.read(len(MAGIC)) != MAGIC or size < len(MAGIC) + 16:
            raise ValueError("not a shard file")
        file.seek(size - 16)
        (length,) = struct.unpack("<Q", file.read(8))
        if file.read(8) != FOOTER or length > size - len(MAGIC) - 16:
            raise ValueError("truncated shard")
        file.seek(size - 16 - length)
        try:
            raw = json.loads(file.read(length))["entries"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"unreadable index ({error})") from None
    data_end = size - 16 - length
    entries = {}
    for key, (offset, shape, dtype) in raw.items():
        entry = (int(offset), tuple(int(n) for n in shape), np.dtype(dtype))
        if entry[0] < len(MAGIC) or entry[0] + int(np.prod(entry[1], dtype=np.int64)) * entry[2].itemsize > data_end:
            raise ValueError(f"entry {key!r} lies outside the data")
        entries[key] = entry
    return entries


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary shards of writers on this host whose process is gone (killed mid-shard)."""
    host = _host()
    for tmp in folder.glob(".*.tmp"):
        parts = tmp.name[1:-4].rsplit(".", 2)
        if len(parts) == 3 and parts[1] == host and parts[2].isdigit() and not _alive(int(parts[2])):
            tmp.unlink(missing_ok=True)


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a crash right after must not lose the shard's name)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _failure(folder: Path, error: OSError, needed: int) -> MtagError:
    """One clear error for a failed cache write: a full disk, or a folder mtag may not write."""
    if error.errno in _FULL:
        return CacheFullError(folder, needed)
    return MtagError(
        f"cannot write the cache ({error.strerror or error})",
        path=folder,
        hint="check the folder's permissions, or move the cache with --cache-dir or MTAG_CACHE_DIR",
    )
