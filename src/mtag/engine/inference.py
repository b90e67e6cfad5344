"""The inference loop: windows of many tracks in, one outcome per track out.

Decoding runs in worker processes (:mod:`mtag.engine.workers`) or, with
``workers=0``, in this process; either way its messages arrive here, where
windows of whatever tracks are in flight are pooled and scored in full batches
-- batching *across* tracks, so a GPU gets 64 windows at a time even from
3-second clips.  A partial batch is scored only when no message is waiting,
so the model never idles while work is ready and never waits for work that is
not coming.  A track's outcome is yielded once its last window is scored;
tracks finish in any order but each track's segments are in time order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from mtag.audio.windows import Window, WindowPlan, batched
from mtag.engine.decoding import MIN_SECONDS, SILENCE_DBFS, Message, TrackJob, decode_track, file_windows
from mtag.engine.memory import TRIM_EVERY_WINDOWS, release_free_memory
from mtag.engine.plans import default_plan
from mtag.engine.results import ANALYSED, FAILED, SILENT, TOO_SHORT, Segment, TrackOutcome, TrackScores
from mtag.errors import AudioError
from mtag.nets.tagger import Tagger

__all__ = ["ANALYSED", "FAILED", "SILENT", "TOO_SHORT", "Engine", "TrackOutcome", "analyse_file"]

#: Windows per forward pass on a CPU.  Measured again on the pruned networks (2-core CPU, idle,
#: ``benchmarks/model_speed.py --network-only --repeat 9``), windows/s at batch 1 / 2 / 4 / 8:
#: musicnn-msd 191 / 252 / 209 / 211, musicnn-mtt 54 / 52 / 52 / 30, vgg-msd 87 / 90 / 93 / 70,
#: vgg-mtt 46 / 50 / 40 / 33.  Past a few windows the activations stop fitting in cache; 2 is
#: best or within noise of it for every model.
CPU_BATCH_SIZE = 2
#: On a GPU large batches keep the device busy; memory is no concern there.
GPU_BATCH_SIZE = 64

#: Tracks decoded ahead per worker: one being decoded, one queued, so a worker never waits for a job.
JOBS_AHEAD_PER_WORKER = 2


def default_workers(device: torch.device) -> int:
    """Decode processes beside inference, from the cores this process may really use (see :mod:`mtag.cpu`)."""
    from mtag.cpu import default_decode_workers

    return default_decode_workers(model_on_cpu=device.type == "cpu")


def default_batch_size(device: torch.device) -> int:
    """The batch size that is fastest on ``device``'s kind."""
    return CPU_BATCH_SIZE if device.type == "cpu" else GPU_BATCH_SIZE


@dataclass
class _Track:
    job: TrackJob
    segments: dict[int, Segment] = field(default_factory=dict)
    queued: int = 0  # windows waiting in a pool
    finished: Message | None = None


class MessageSource(Protocol):
    """Where decoded windows come from: worker processes or this process."""

    def submit(self, job: TrackJob) -> None: ...

    def next_message(self, wait: bool = True) -> Message | None: ...

    def close(self) -> None: ...


class _InlineSource:
    """Decodes in this process, one track after the other (``workers=0``): for tests and small jobs."""

    def __init__(self) -> None:
        self._jobs: deque[TrackJob] = deque()
        self._messages: Iterator[Message] = iter(())

    def submit(self, job: TrackJob) -> None:
        self._jobs.append(job)

    def next_message(self, wait: bool = True) -> Message | None:
        while True:
            message = next(self._messages, None)
            if message is not None or not self._jobs:
                return message
            self._messages = decode_track(self._jobs.popleft())

    def close(self) -> None:
        self._jobs.clear()


class Engine:
    """Scores tracks window by window with one loaded model; construct once per process and reuse.

    It yields each track's segments (window scores) and nothing decided:
    aggregation and genres are :mod:`mtag.decision`'s.
    """

    def __init__(
        self,
        tagger: Tagger,
        plan: WindowPlan | None = None,
        *,
        batch_size: int | None = None,
        workers: int | None = None,
        sample: int | None = None,
    ) -> None:
        self.tagger = tagger
        self.plan = plan or default_plan(tagger.card)
        self.batch_size = batch_size or default_batch_size(tagger.device)
        self.workers = default_workers(tagger.device) if workers is None else workers
        self.sample = sample
        self.windows_scored = 0  # for progress displays

    def run(self, paths: Iterable[Path]) -> Iterator[TrackOutcome]:
        """Analyse ``paths``; yields one :class:`TrackOutcome` per path (``key`` = its position)."""
        if self.workers:
            from mtag.engine.workers import WorkerPool

            source: MessageSource = WorkerPool(self.workers)
            ahead = JOBS_AHEAD_PER_WORKER * self.workers
        else:
            # Decoding is lazy here, so tracks in flight cost nothing until their turn; enough of them
            # to fill a batch lets short tracks share a forward pass, as with workers.
            source, ahead = _InlineSource(), self.batch_size
        try:
            yield from self._loop(source, iter(enumerate(paths)), ahead)
        finally:
            source.close()

    def _loop(self, source: MessageSource, jobs: Iterator[tuple[int, Path]], ahead: int) -> Iterator[TrackOutcome]:
        tracks: dict[int, _Track] = {}
        pools: dict[int, list[tuple[int, Window]]] = {}  # chunk length -> waiting windows

        def feed() -> None:
            while len(tracks) < ahead and (item := next(jobs, None)) is not None:
                job = TrackJob(item[0], Path(item[1]), self.plan, self.sample)
                tracks[job.key] = _Track(job)
                source.submit(job)

        feed()
        while tracks:
            message = source.next_message(wait=False)
            if message is None and pools:
                self._score(pools.pop(next(iter(pools))), tracks)
            else:
                message = message or source.next_message(wait=True)
                if message is not None:
                    self._take(message, tracks, pools)
            for key in [key for key, track in tracks.items() if track.finished and not track.queued]:
                yield self._outcome(tracks.pop(key))
            feed()

    def _take(self, message: Message, tracks: dict[int, _Track], pools: dict[int, list[tuple[int, Window]]]) -> None:
        track = tracks.get(message.key)
        if track is None:  # a straggler of a track that already failed
            return
        if message.kind == "windows":
            for window in message.windows:
                pool = pools.setdefault(window.samples.size, [])
                pool.append((message.key, window))
                track.queued += 1
                if len(pool) == self.batch_size:
                    self._score(pools.pop(window.samples.size), tracks)
        elif message.kind == "failed":
            for size, pool in list(pools.items()):
                pools[size] = [(key, window) for key, window in pool if key != message.key]
                if not pools[size]:
                    del pools[size]
            track.queued = 0
            track.finished = message
        else:
            track.finished = message

    def _score(self, batch: list[tuple[int, Window]], tracks: dict[int, _Track]) -> None:
        scores = self.tagger.predict(np.stack([window.samples for _, window in batch]), frames=self.plan.window_frames)
        for (key, window), row in zip(batch, scores):
            track = tracks[key]
            track.segments[window.index] = Segment(window.start, window.end, row, window.padding)
            track.queued -= 1
        if self.windows_scored // TRIM_EVERY_WINDOWS != (self.windows_scored + len(batch)) // TRIM_EVERY_WINDOWS:
            release_free_memory()
        self.windows_scored += len(batch)

    def _outcome(self, track: _Track) -> TrackOutcome:
        message, path = track.finished, track.job.path
        assert message is not None
        base = TrackOutcome(track.job.key, path, FAILED, message.duration, message.level_dbfs)
        if message.kind == "failed":
            base.error = AudioError(message.error or "failed", path=path, hint=message.hint)
            base.detail = message.detail
        elif message.duration < MIN_SECONDS:
            base.status = TOO_SHORT
        elif not track.segments:
            base.error = AudioError("no audio samples in the file", path=path, hint="is it an empty recording?")
        else:
            # Silent tracks keep their scores (inspect shows them) but get no genre.
            base.status = SILENT if message.level_dbfs < SILENCE_DBFS else ANALYSED
            segments = [track.segments[i] for i in sorted(track.segments)]
            base.result = TrackScores(path, self.tagger.name, self.tagger.labels, message.duration, segments)
        return base

    def feature_batches(self, path: Path) -> Iterator[tuple[list[Window], torch.Tensor]]:
        """One file's windows exactly as :meth:`run` cuts them, in batches, with each batch's network input.

        For what a run does not keep (``inspect --explain`` silences parts of
        the input, ``--plot`` draws it): keeping every window's input from the
        first pass would hold a long file in memory, decoding again does not.
        """
        for batch in batched(file_windows(path, self.plan), self.batch_size):
            yield batch, self.tagger.features(np.stack([w.samples for w in batch]), frames=self.plan.window_frames)


def analyse_file(
    path: str | Path, tagger: Tagger, plan: WindowPlan | None = None, batch_size: int | None = None
) -> TrackScores:
    """Score every window of one file in this process: the engine's Python entry point for a single track.

    Raises the file's :class:`~mtag.errors.AudioError` where the engine reports a failure or a track too short.
    """
    (outcome,) = Engine(tagger, plan, batch_size=batch_size, workers=0).run([Path(path)])
    if outcome.error is not None:
        raise outcome.error
    if outcome.status == TOO_SHORT:
        raise AudioError(
            f"too short to analyse ({outcome.duration:.2f} s)",
            path=path,
            hint=f"mtag needs at least {MIN_SECONDS:g} s of audio",
        )
    assert outcome.result is not None
    return outcome.result
