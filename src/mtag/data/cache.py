"""The training audio cache: every example decoded once, kept as float16 waveforms in shards.

Decoding an MP3 costs more than a training step on its segment, so decoding
each epoch would make training decode-bound.  :func:`build_audio_cache`
decodes each file once, through the engine's decoder (:func:`stream_audio`,
the PyAV + soxr path ``mtag tag`` uses: the model trains on the signal it
will be tagged with), to mono at the model's sample rate, in the engine's
decode worker processes, into a :class:`~mtag.data.shards.ShardStore` under
:func:`cache_root`.  :class:`AudioCache` then reads tracks, random segments
or blocks (for :func:`mtag.audio.windows.iter_windows`) from memory maps.

**Storage: float16**, 2 bytes a sample (32 KB per second at 16 kHz, as int16).
Measured on 30 real GTZAN clips (``benchmarks/cache_precision.py``), against
the float32 signal, with musicnn-msd scoring it:

=========  ====================  ==================  ===============  ===============
storage    SNR (min / median)    max sample error    max d(window)    max d(track)
=========  ====================  ==================  ===============  ===============
int16      36.4 / 82.7 dB        0.49                1.5e-2           1.9e-3
float16    73.5 / 73.7 dB        4.9e-4              7.1e-4           7.6e-5
=========  ====================  ==================  ===============  ===============

int16 is 9 dB better on a typical clip but must clip: resampling a loud
master overshoots full scale (485 samples above 1.0 in those 30 clips), and
the clipped clips lose up to half a unit per sample and move window scores
twenty times as much as float16 does.  float16's error is relative, so it is
the same 73 dB on loud and quiet music alike, and its worst score change
(7e-4) is far below the decision threshold's resolution.

**Keys.**  A file's key hashes its absolute path, size, ``mtime_ns``, the
sample rate, the storage type and :data:`FORMAT_VERSION`: a changed file or
setting misses and is decoded again; everything else is found and skipped,
so a killed build resumes where it stopped (the writer keeps what it had at
exit; a ``kill -9`` loses at most the shard being written, ~64 MB).  Entries
of changed files stay behind in their shards until the cache is cleared.
Failures (unreadable, empty) are not cached: a file fixed since is picked up.

**Speed** (``benchmarks/cache_speed.py``): the 93 GTZAN clips of
``../shared/datasets/gtzan-mini`` (2,793 s) at 16 kHz with the default 2
workers on 2 cores shared with other programs: 3.1 s (913x realtime) at a
load average of 1.5, 5.7 s (491x) at 3.5; peak RSS 57 MB (main) and 62 MB
(each worker); 85 MB on disk; 2-4 ms to rebuild when everything is cached.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtag.audio.decode import stream_audio
from mtag.cpu import available_cores
from mtag.data.shards import CacheFullError, ShardStore, ShardWriter
from mtag.engine.decoding import Message, guarded
from mtag.engine.workers import WorkerPool

#: Part of every key: bump it when what is stored for a file changes meaning.
FORMAT_VERSION = 1

#: The storage type of the waveforms (see the module docstring for why).
STORAGE = np.dtype(np.float16)

#: Samples a worker sends per message: ~0.5 MB, a few per 30 s clip.
CHUNK_SAMPLES = 1 << 18

#: Sub-folder of the cache root that holds the waveforms.
AUDIO_FOLDER = "audio"


def cache_root() -> Path:
    """Where mtag's caches live: ``$MTAG_CACHE_DIR``, else ``$XDG_CACHE_HOME/mtag`` (``~/.cache/mtag``)."""
    chosen = os.environ.get("MTAG_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mtag"


def audio_key(path: Path, sample_rate: int) -> str:
    """The cache key of ``path`` decoded at ``sample_rate``; ``OSError`` if the file cannot be stat'ed."""
    absolute = Path(os.path.abspath(path))
    info = absolute.stat()
    identity = b"\0".join(
        [
            f"mtag-audio-v{FORMAT_VERSION}".encode(),
            os.fsencode(absolute),
            str(info.st_size).encode(),
            str(info.st_mtime_ns).encode(),
            str(sample_rate).encode(),
            STORAGE.str.encode(),
        ]
    )
    return hashlib.sha256(identity).hexdigest()[:40]


@dataclass(frozen=True)
class CacheJob:
    """One file for a cache worker to decode (``key`` is its index in the build's ``paths``)."""

    key: int
    path: Path
    sample_rate: int


def decode_for_cache(job: CacheJob) -> Iterator[Message]:
    """Decode one file to ``samples`` messages of float16, then ``done``; never raises for a bad file.

    Runs in the decode workers (so it imports no torch) or in-process
    (``workers=0``), guarded as the engine's own decoding is
    (:func:`mtag.engine.decoding.guarded`: a Ctrl-C stays a ``KeyboardInterrupt``).
    """
    return guarded(job.key, _cache_messages(job))


def _cache_messages(job: CacheJob) -> Iterator[Message]:
    total = 0
    for chunk in _chunks(stream_audio(job.path, job.sample_rate), CHUNK_SAMPLES):
        total += chunk.size
        yield Message(job.key, "samples", samples=chunk.astype(STORAGE))
    if total == 0:
        yield Message(job.key, "failed", error="decodes to no audio", hint="the file is damaged or empty")
        return
    yield Message(job.key, "done", duration=total / job.sample_rate)


def _chunks(blocks: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Regroup decoder blocks into chunks of ``size`` samples (the last one shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += block.size
        while held >= size:
            joined = np.concatenate(pending)
            yield joined[:size]
            pending, held = [joined[size:]], held - size
    if held:
        yield np.concatenate(pending)


class AudioCache:
    """Decoded tracks, indexed like the ``paths`` the cache was built from; float32 out, memory-mapped in.

    ``failures`` maps an index to why that file has no audio (unreadable,
    empty); such a track has length 0.  ``keys[i]`` is track ``i``'s cache
    key (``None`` for a failure): the trainer keys what it derives from a
    track (embeddings) on it, so those follow the file's changes too.
    """

    def __init__(
        self, store: ShardStore, keys: Sequence[str | None], sample_rate: int, failures: dict[int, str]
    ) -> None:
        self.store = store
        self.keys = list(keys)
        self.sample_rate = sample_rate
        self.failures = failures

    def __len__(self) -> int:
        return len(self.keys)

    def _stored(self, index: int) -> np.ndarray:
        key = self.keys[index]
        if key is None:
            return np.zeros(0, STORAGE)
        return self.store.get(key)

    def length(self, index: int) -> int:
        """Samples of track ``index`` (0 for a failure)."""
        key = self.keys[index]
        return 0 if key is None else self.store.shape(key)[0]

    def duration(self, index: int) -> float:
        return self.length(index) / self.sample_rate

    def audio(self, index: int) -> np.ndarray:
        """The whole track as float32 mono (data-set clips are ~30 s: 2 MB)."""
        return self._stored(index).astype(np.float32)

    def segment(self, index: int, start: int, length: int) -> np.ndarray:
        """``length`` samples from ``start`` as float32, zero-padded past the end (and before 0)."""
        if length < 0:
            raise ValueError("length must be >= 0")
        stored = self._stored(index)
        out = np.zeros(length, np.float32)
        low, high = max(start, 0), min(start + length, stored.shape[0])
        if low < high:
            out[low - start : high - start] = stored[low:high]
        return out

    def blocks(self, index: int, size: int = 1 << 16) -> Iterator[np.ndarray]:
        """The track as float32 blocks of ``size`` samples: what :func:`~mtag.audio.windows.iter_windows` takes."""
        if size <= 0:
            raise ValueError("size must be positive")
        stored = self._stored(index)
        for start in range(0, stored.shape[0], size):
            yield stored[start : start + size].astype(np.float32)


def build_audio_cache(
    paths: Sequence[Path],
    sample_rate: int,
    *,
    root: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AudioCache:
    """Decode every file of ``paths`` not cached yet into ``root/audio`` (``root``: :func:`cache_root`).

    ``workers`` decode processes (default: one per available core; 0 decodes
    in this process).  ``progress(done, total)`` is called once with the files
    already cached, then after each file decoded or failed.  A bad file is
    recorded in the result's ``failures`` and never stops the build; a full
    disk raises :class:`~mtag.data.shards.CacheFullError` with what is still
    needed, keeping what was cached.
    """
    if sample_rate <= 0:
        raise ValueError("sample_rate must be positive")
    if workers is not None and workers < 0:
        raise ValueError("workers must be >= 0")
    store = ShardStore((cache_root() if root is None else root) / AUDIO_FOLDER, STORAGE)
    keys: list[str | None] = []
    failures: dict[int, str] = {}
    todo: dict[str, list[int]] = {}  # key -> the indices with that file (a path listed twice decodes once)
    for index, path in enumerate(paths):
        try:
            key: str | None = audio_key(Path(path), sample_rate)
        except OSError as error:
            key, failures[index] = None, _stat_failure(error)
        keys.append(key)
        if key is not None and key not in store:
            todo.setdefault(key, []).append(index)
    total = len(keys)
    done = total - sum(len(indices) for indices in todo.values())
    if progress is not None:
        progress(done, total)
    if todo:
        count = available_cores() if workers is None else workers
        jobs = [CacheJob(indices[0], Path(paths[indices[0]]), sample_rate) for indices in todo.values()]
        build = _Build(store, keys, failures, todo, progress, done, total)
        # closing(): the workers stop before the exception leaves (a generator held by a traceback is not closed)
        with store.writer() as writer, closing(_decoded(jobs, min(count, len(jobs)))) as messages:
            try:
                build.run(writer, messages)
            except CacheFullError as error:
                raise build.full(error) from None
    return AudioCache(store, keys, sample_rate, failures)


def _stat_failure(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "file not found (check the path)"
    return f"cannot read the file ({error.strerror or error}; check its permissions)"


class _Build:
    """The writing half of a build: gathers each file's chunks, stores it whole, counts progress."""

    def __init__(
        self,
        store: ShardStore,
        keys: list[str | None],
        failures: dict[int, str],
        todo: dict[str, list[int]],
        progress: Callable[[int, int], None] | None,
        done: int,
        total: int,
    ) -> None:
        self.store, self.keys, self.failures, self.todo = store, keys, failures, todo
        self.progress, self.done, self.total = progress, done, total
        self.stored_files = 0
        self.stored_bytes = 0

    def run(self, writer: ShardWriter, messages: Iterable[Message]) -> None:
        pieces: dict[int, list[np.ndarray]] = {}
        for message in messages:
            first = message.key
            key = self.keys[first]
            assert key is not None
            indices = self.todo[key]
            if message.kind == "samples" and message.samples is not None:
                pieces.setdefault(first, []).append(message.samples)
                continue
            chunks = pieces.pop(first, [])
            if message.kind == "done":
                signal = np.concatenate(chunks)
                writer.add(key, signal)
                self.stored_files += 1
                self.stored_bytes += signal.nbytes
            else:
                reason = message.error or "decoding failed"
                reason = f"{reason} ({message.hint})" if message.hint else reason
                for index in indices:
                    self.failures[index] = reason
                    self.keys[index] = None
            self.done += len(indices)
            if self.progress is not None:
                self.progress(self.done, self.total)

    def full(self, error: CacheFullError) -> CacheFullError:
        """The disk-full error with the space the rest of the build needs, estimated from what it stored so far."""
        left = [key for key in self.todo if key not in self.store and key in self.keys]
        per_file = self.stored_bytes / self.stored_files if self.stored_files else error.needed
        return CacheFullError(error.folder, max(error.needed, round(per_file * len(left))), files_left=len(left))


def _decoded(jobs: Sequence[CacheJob], workers: int) -> Generator[Message, None, None]:
    """Every job's messages: from ``workers`` decode processes (the engine's pool), or in-process for 0."""
    if workers == 0:
        for job in jobs:
            yield from decode_for_cache(job)
        return
    pool = WorkerPool(workers, decode_for_cache)
    try:
        for job in jobs:
            pool.submit(job)
        remaining = len(jobs)
        while remaining:
            message = pool.next_message()
            if message is None:
                continue
            if message.kind in ("done", "failed"):
                remaining -= 1
            yield message
    finally:
        pool.close()
