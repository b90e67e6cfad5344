"""Decode worker processes: tracks go in through one queue per worker, windows come out through another.

Decoding and resampling (PyAV, soxr) run in separate processes so they overlap
with inference in the main process and use the other cores; the main process
keeps the one copy of the model.  Each result queue is bounded, so a worker
decoding a 3-hour mix waits for the model instead of filling memory: at most
``QUEUE_MESSAGES_PER_WORKER`` messages of a few windows each are in flight per worker.

Every worker has its own queues, and the pool knows which tracks it gave to
which worker, so a worker that dies (FFmpeg crashing on a hostile file, the
OOM killer) takes nothing with it but its own channel: a message it was half
way through writing cannot block the others or the reader, the pool knows the
track it died on (the worker keeps it in a shared integer), and the tracks it
had been given but not finished are decoded again by its replacement.

Workers are started with ``spawn`` (not ``fork``): the parent has torch's
thread pools running, and forking those is unsafe.  They import only the
decoding half of the engine, never torch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import wait as wait_for
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from mtag import logs
from mtag.engine.decoding import Message, decode_track

#: Result-queue capacity per worker: enough to keep the model fed while a
#: worker opens its next file, small enough to bound memory (~800 KB a message).
QUEUE_MESSAGES_PER_WORKER = 8

#: How often (seconds) the loop looks up from empty queues to check that the workers are alive.
POLL_SECONDS = 0.5

_STOP = None
_IDLE = -1  # a worker's ``current`` between tracks


class Job(Protocol):
    """What a pool decodes: anything picklable with an integer ``key`` (a :class:`TrackJob`, a cache job)."""

    @property
    def key(self) -> int: ...


#: What a worker does with one job: the engine's window decoding by default.  Any module-level
#: function (spawned workers import it by name) that yields messages ending in one ``done`` or ``failed``.
Work = Callable[[Any], Iterable[Message]]


def _serve(jobs: Any, results: Any, current: Any, work: Work = decode_track) -> None:
    """Worker body: run ``work`` on jobs until the stop sentinel, keeping the key of the job in hand in ``current``.

    Ctrl-C reaches the whole process group; the main process handles it and
    stops the workers, so a worker ignores it instead of printing a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.show_warnings()  # a spawned process starts without the CLI's handler
    orphaned = partial(_release_semaphores, jobs, results)
    while (job := _patiently(partial(jobs.get, timeout=POLL_SECONDS), orphaned)) is not _STOP:
        current.value = job.key
        for message in work(job):
            _patiently(partial(results.put, message, timeout=POLL_SECONDS), orphaned)
        current.value = _IDLE


def _patiently(step: Callable[[], Any], orphaned: Callable[[], None]) -> Any:
    """Retry a queue operation that timed out, as long as the main process lives.

    A main process killed with ``kill -9`` cannot stop its workers; without
    this a worker would wait forever on a full result queue or an empty job
    queue (it holds both ends itself, so it never sees an end of file).
    ``orphaned`` runs before the worker exits on its own.
    """
    while True:
        try:
            return step()
        except (queue.Empty, queue.Full):
            parent = multiprocessing.parent_process()
            if parent is not None and not parent.is_alive():
                orphaned()
                os._exit(0)


def _release_semaphores(*queues: Any) -> None:
    """Remove the named semaphores of a dead main process's queues, as its exit would have.

    Under ``spawn`` each queue's locks are named POSIX semaphores, registered
    with multiprocessing's resource tracker by the main process and removed by
    it at exit.  A main process killed with ``kill -9`` removes nothing; the
    tracker then removes them itself once every process holding its pipe (the
    workers too) has exited, and prints "resource_tracker: There appear to be
    12 leaked semaphore objects" on the user's terminal.  The workers outlive
    the main process and hold the same semaphores, so they do the removal
    instead, and the tracker has nothing left to report.  (The queues'
    ``_rlock``, ``_wlock`` and ``_sem`` are private to multiprocessing, hence
    the defensive lookups.)
    """
    from _multiprocessing import sem_unlink  # type: ignore[import-not-found]  # CPython's C half: no stubs
    from multiprocessing import resource_tracker

    for channel in queues:
        for lock in (getattr(channel, name, None) for name in ("_rlock", "_wlock", "_sem")):
            name = getattr(getattr(lock, "_semlock", None), "name", None)
            if name:
                with contextlib.suppress(Exception):  # already gone: nothing to do
                    sem_unlink(name)
                    resource_tracker.unregister(name, "semaphore")


def _died(key: int, exitcode: int | None) -> Message:
    """The failure of the track a worker was decoding when it died.

    Not blamed on the file: a worker is far more often killed from outside
    (the OOM killer, a ``kill``) than crashed by a file, and a failed track is
    retried by the next run, which tells the two apart.
    """
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit code {exitcode}"
    return Message(
        key,
        "failed",
        error=f"the decoder process died while decoding it ({how})",
        hint="run the same command again to retry it; if it dies on this file every time, the file is damaged",
    )


@dataclass
class _Worker:
    process: BaseProcess
    jobs: Any
    results: Any
    current: Any  # shared int: key of the track being decoded, or _IDLE
    assigned: dict[int, Job] = field(default_factory=dict)  # given to it, not yet done or failed; in order


class WorkerPool:
    """``count`` decode processes, each with its own job and result queue; restarts a worker that dies.

    A worker that dies mid-track costs only that track: it is reported failed
    and a new worker takes its place (and the tracks queued for the dead one).
    ``work`` is what the workers do with a job: the engine's :func:`decode_track`
    unless another part of mtag (the training cache) decodes to something else.
    """

    def __init__(self, count: int, work: Work = decode_track) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._work = work
        self._workers: list[_Worker] = []
        self._pending: deque[Message] = deque()  # messages recovered from dead workers, and their crash reports
        self._turn = 0  # round robin over the workers' queues
        for _ in range(count):
            self._start_worker()

    def _start_worker(self) -> _Worker:
        context = self._context
        jobs, results = context.Queue(), context.Queue(maxsize=QUEUE_MESSAGES_PER_WORKER)
        current = context.RawValue("q", _IDLE)
        process = context.Process(target=_serve, args=(jobs, results, current, self._work), daemon=True)
        process.start()
        # Only the worker writes results.  With this process's copy of the pipe's write end closed,
        # a worker that dies half way through a message leaves an end of file, not a read that never returns.
        results._writer.close()  # type: ignore[attr-defined]  # private Queue attribute, absent from typeshed
        worker = _Worker(process, jobs, results, current)
        self._workers.append(worker)
        return worker

    def submit(self, job: Job) -> None:
        self._assign(min(self._workers, key=lambda worker: len(worker.assigned)), job)

    def _assign(self, worker: _Worker, job: Job) -> None:
        worker.assigned[job.key] = job
        worker.jobs.put(job)

    def next_message(self, wait: bool = True) -> Message | None:
        """The next message; ``None`` when none is ready (``wait=False``) or none came within ``POLL_SECONDS``."""
        while True:
            if self._pending:
                return self._pending.popleft()
            for _ in range(len(self._workers)):
                worker = self._workers[self._turn % len(self._workers)]
                self._turn += 1
                if (message := self._read(worker)) is not None:
                    return message
            if self._reap():
                continue
            if not wait:
                return None
            handles = [w.results._reader for w in self._workers] + [w.process.sentinel for w in self._workers]
            if not wait_for(handles, timeout=POLL_SECONDS):
                return None

    def _read(self, worker: _Worker) -> Message | None:
        """A complete message from ``worker`` if one is ready; ``None`` if not, or if the worker is gone."""
        try:
            message: Message = worker.results.get_nowait()
        except queue.Empty:
            return None
        except (EOFError, OSError):  # the worker died, perhaps in the middle of a message
            worker.process.join(timeout=5)
            return None
        if message.kind in ("done", "failed"):
            worker.assigned.pop(message.key, None)
        return message

    def _reap(self) -> bool:
        """Replace each dead worker: recover its complete messages, report its track failed, requeue the rest."""
        dead = [worker for worker in self._workers if not worker.process.is_alive()]
        for worker in dead:
            self._workers.remove(worker)
            while (message := self._read(worker)) is not None:
                self._pending.append(message)
            crashed = worker.current.value
            replacement = self._start_worker()
            for key, job in worker.assigned.items():
                if key == crashed:
                    self._pending.append(_died(key, worker.process.exitcode))
                else:  # its messages, if any, were lost with the worker: decode it again
                    self._assign(replacement, job)
            self._close_queues(worker)
        return bool(dead)

    def close(self) -> None:
        """Stop the workers, whether they are idle or mid-track (an interrupted run)."""
        for worker in self._workers:
            worker.process.terminate()
        for worker in self._workers:
            worker.process.join(timeout=5)
            self._close_queues(worker)

    @staticmethod
    def _close_queues(worker: _Worker) -> None:
        worker.jobs.cancel_join_thread()  # jobs a dead worker never took must not hold up this process's exit
        worker.jobs.close()
        worker.results.close()
