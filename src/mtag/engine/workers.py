"""Decode worker processes: tracks go in through one queue, windows come out through another.

Decoding and resampling (PyAV, soxr) run in separate processes so they overlap
with inference in the main process and use the other cores; the main process
keeps the one copy of the model.  The result queue is bounded, so a worker
decoding a 3-hour mix waits for the model instead of filling memory: at most
``QUEUE_MESSAGES`` messages of a few windows each are ever in flight.

Workers are started with ``spawn`` (not ``fork``): the parent has torch's
thread pools running, and forking those is unsafe.  They import only the
decoding half of the engine, never torch.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from typing import Any

from mtag.engine.decoding import Message, TrackJob, decode_track

#: Result-queue capacity per worker: enough to keep the model fed while a
#: worker opens its next file, small enough to bound memory (~800 KB a message).
QUEUE_MESSAGES_PER_WORKER = 8

#: How often (seconds) the loop looks up from an empty queue to check that the workers are alive.
POLL_SECONDS = 0.5

_STOP = None


def _serve(jobs: Any, results: Any) -> None:
    """Worker body: decode jobs until the stop sentinel arrives."""
    while (job := jobs.get()) is not _STOP:
        results.put(Message(job.key, "started", pid=os.getpid()))
        for message in decode_track(job):
            results.put(message)


class WorkerPool:
    """``count`` decode processes fed from a job queue; restarts a worker that dies.

    A worker that dies mid-track (FFmpeg crashing on a hostile file, the OOM
    killer) costs only that track: it is reported failed and a new worker
    takes its place.
    """

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._context = context
        self.jobs = context.Queue()
        self.results = context.Queue(maxsize=QUEUE_MESSAGES_PER_WORKER * count)
        self._workers: list[BaseProcess] = []
        self._current: dict[int, int] = {}  # worker pid -> key of the track it decodes
        for _ in range(count):
            self._start_worker()

    def _start_worker(self) -> None:
        worker = self._context.Process(target=_serve, args=(self.jobs, self.results), daemon=True)
        worker.start()
        self._workers.append(worker)

    def submit(self, job: TrackJob) -> None:
        self.jobs.put(job)

    def next_message(self, wait: bool = True) -> Message | None:
        """The next message; ``None`` when none is ready (``wait=False``) or none came within ``POLL_SECONDS``."""
        while True:
            try:
                message = self.results.get(timeout=POLL_SECONDS) if wait else self.results.get_nowait()
            except queue.Empty:
                return next(self._reap(), None) if wait else None
            if message.kind == "started":
                self._current[message.pid] = message.key
                continue
            if message.kind in ("done", "failed"):
                self._current = {pid: key for pid, key in self._current.items() if key != message.key}
            return message

    def _reap(self) -> Iterator[Message]:
        """A ``failed`` message for the track of each dead worker, and a replacement worker."""
        for worker in [w for w in self._workers if not w.is_alive()]:
            self._workers.remove(worker)
            key = self._current.pop(worker.pid or -1, None)
            self._start_worker()
            if key is not None:
                yield Message(
                    key,
                    "failed",
                    error=f"the decoder crashed (exit code {worker.exitcode})",
                    hint="the file is probably damaged; try re-encoding it",
                )

    def close(self) -> None:
        """Stop the workers, whether they are idle or mid-track (an interrupted run)."""
        for worker in self._workers:
            worker.terminate()
        for worker in self._workers:
            worker.join(timeout=5)
        self.jobs.cancel_join_thread()
        self.results.cancel_join_thread()
