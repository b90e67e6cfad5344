"""The decoding half of the engine: one track in, its analysis windows out.

This module runs inside the decode worker processes, so it must not import
torch (a worker would pay a second of start-up and ~250 MB for nothing).  Each
track becomes a stream of :class:`Message` s: a ``windows`` message per few
windows, in order, then one ``done`` (with the track's duration and loudness)
or ``failed``.  Everything in a message pickles, so the same code serves the
worker processes and the in-process mode (``workers=0``).
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mtag import interrupts
from mtag.audio.decode import probe, stream_audio
from mtag.audio.windows import Window, WindowPlan, iter_windows
from mtag.errors import AudioError, MtagError

#: Tracks shorter than this are not analysed (status ``too-short``): under a
#: second there are too few frames for even one of musicnn's 3 s windows to
#: be filled sensibly by repetition, so any genre would be noise.
MIN_SECONDS = 1.0

#: A track whose RMS level is below this is ``silent`` (digital silence is
#: -inf).  -60 dBFS is about the noise floor of a quiet room recorded at
#: normal gain; real music, even a pianissimo classical piece, averages
#: 20-40 dB above it, so nothing musical is lost.
SILENCE_DBFS = -60.0

#: Windows sent to the inference loop per message: few enough that a worker
#: never holds much (4 x 192 KB), enough to keep pickling overhead small.
WINDOWS_PER_MESSAGE = 4

#: Sample mode decodes this much beyond each window on both sides, so the
#: resampler's edge effects fall outside the samples the window uses.
SAMPLE_MARGIN = 0.1  # seconds


@dataclass(frozen=True)
class TrackJob:
    """What to decode: one file, cut by one window plan, all of it or ``sample`` windows."""

    key: int
    path: Path
    plan: WindowPlan
    sample: int | None = None


@dataclass
class Message:
    """Worker -> inference loop.  ``kind`` is ``windows``, ``done`` or ``failed``
    (``samples`` for the training cache's workers, which send the decoded signal itself)."""

    key: int
    kind: str
    windows: list[Window] = field(default_factory=list)
    samples: np.ndarray | None = None  # a stretch of the decoded signal, for ``samples`` messages
    duration: float = 0.0
    level_dbfs: float = -math.inf
    error: str | None = None  # what went wrong, for ``failed`` (the loop adds the path)
    hint: str | None = None  # what to do about it
    detail: str | None = None  # traceback of an unexpected error, shown with -v


class _Level:
    """Running RMS of everything decoded, in dBFS."""

    def __init__(self) -> None:
        self.samples = 0
        self.energy = 0.0

    def add(self, block: np.ndarray) -> np.ndarray:
        self.samples += block.size
        self.energy += float(np.dot(block, block))
        return block

    @property
    def dbfs(self) -> float:
        if self.samples == 0 or self.energy == 0.0:
            return -math.inf
        return 10 * math.log10(self.energy / self.samples)


def decode_track(job: TrackJob) -> Iterator[Message]:
    """Decode ``job`` into messages; never raises for a bad file (it becomes a ``failed`` message)."""
    return guarded(job.key, _decode(job))


def guarded(key: int, messages: Iterator[Message]) -> Iterator[Message]:
    """``messages``, with any error of the file's turned into one ``failed`` message for ``key``.

    Ctrl-C is not a bad file: in the main process (``workers=0``) a SIGINT
    during the decode raises ``KeyboardInterrupt`` here, even where FFmpeg
    reported it as an error and PyAV lost the interrupt (see :mod:`mtag.interrupts`).
    Every decoding job (analysis windows, the training cache) runs under it.
    """
    before = interrupts.count()
    try:
        for message in messages:
            interrupts.raise_if_interrupted_since(before)
            yield message
    except MtagError as error:
        interrupts.raise_if_interrupted_since(before)
        yield Message(key, "failed", error=error.message, hint=error.hint)
    except Exception as error:  # a bug or an FFmpeg surprise: fail this track, keep the run going
        interrupts.raise_if_interrupted_since(before)
        yield Message(key, "failed", error=f"unexpected error: {error!r}", detail=traceback.format_exc())


def analysis_windows(blocks: Iterable[np.ndarray], plan: WindowPlan) -> Iterator[Window]:
    """The windows a track's samples give, as the engine analyses them.

    A track under MIN_SECONDS is not worth a forward pass: its one (short) window is dropped.
    """
    return (w for w in iter_windows(blocks, plan) if not (w.padding and w.end < MIN_SECONDS))


def file_windows(path: Path, plan: WindowPlan) -> Iterator[Window]:
    """One file's windows, decoded in this process exactly as a run's workers cut them.

    Raises :class:`~mtag.errors.AudioError` where a run would report the file failed.
    """
    for message in decode_track(TrackJob(0, path, plan)):
        if message.kind == "failed":
            raise AudioError(message.error or "decoding failed", path=path, hint=message.hint)
        yield from message.windows


def _decode(job: TrackJob) -> Iterator[Message]:
    plan = job.plan
    if job.sample:
        info = probe(job.path)
        if info.duration is not None and info.duration >= (job.sample + 1) * plan.chunk_samples / plan.sample_rate:
            yield from _sampled(job, info.duration, info.sample_rate)
            return
    level = _Level()
    blocks = (level.add(block) for block in stream_audio(job.path, plan.sample_rate))
    yield from _in_messages(job.key, analysis_windows(blocks, plan))
    yield Message(job.key, "done", duration=level.samples / plan.sample_rate, level_dbfs=level.dbfs)


def _in_messages(key: int, windows: Iterable[Window]) -> Iterator[Message]:
    batch: list[Window] = []
    for window in windows:
        batch.append(window)
        if len(batch) == WINDOWS_PER_MESSAGE:
            yield Message(key, "windows", windows=batch)
            batch = []
    if batch:
        yield Message(key, "windows", windows=batch)


def sample_starts(duration: float, plan: WindowPlan, count: int) -> list[int]:
    """First frames of ``count`` windows spread evenly over the track (centred in equal parts).

    The windows keep clear of the first and last ``SAMPLE_MARGIN`` seconds, so
    none needs the reflect padding of a file edge.
    """
    frames = int(duration * plan.sample_rate) // plan.framing.hop
    margin = math.ceil((SAMPLE_MARGIN * plan.sample_rate + plan.edge) / plan.framing.hop)
    usable = frames - plan.window_frames - 2 * margin
    return [margin + round(usable * (i + 0.5) / count) for i in range(count)]


def _sampled(job: TrackJob, duration: float, file_rate: int) -> Iterator[Message]:
    """Decode only the stretches the sampled windows need, by seeking."""
    plan = job.plan
    level = _Level()
    rate = plan.sample_rate
    margin = round(SAMPLE_MARGIN * rate)
    # Each stretch starts on an instant that is a sample at both rates, so its resampled samples fall on
    # the whole decode's grid rather than up to half a file sample beside it (a phase error in the highs).
    grid = rate // math.gcd(rate, file_rate)
    windows = []
    for index, first_frame in enumerate(sample_starts(duration, plan, job.sample or 0)):
        needed = first_frame * plan.framing.hop - plan.edge
        start = (needed - margin) // grid * grid
        skip = needed - start
        blocks = stream_audio(job.path, rate, start=start / rate, duration=(skip + plan.chunk_samples + margin) / rate)
        piece = np.concatenate([level.add(block) for block in blocks] or [np.zeros(0, np.float32)])
        samples = piece[skip : skip + plan.chunk_samples]
        if samples.size < plan.chunk_samples:  # the header overstated the duration
            break
        windows.append(
            Window(
                index=index,
                start=plan.seconds(first_frame),
                end=plan.seconds(first_frame + plan.window_frames),
                frames=plan.window_frames,
                samples=samples.copy(),
            )
        )
    if not windows:  # nothing where the header said: analyse the whole file instead
        yield from _decode(TrackJob(job.key, job.path, job.plan))
        return
    yield from _in_messages(job.key, windows)
    yield Message(job.key, "done", duration=duration, level_dbfs=level.dbfs)
