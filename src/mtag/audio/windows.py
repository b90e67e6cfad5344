"""Cut a stream of samples into the analysis windows a model scores.

A window of ``F`` spectrogram frames starting at frame ``s`` needs the samples
``[s*hop - n_fft/2, (s + F - 1)*hop + n_fft/2)``: the STFT is centred, so each
frame reaches half an FFT beyond its hop.  This module hands out exactly those
samples ("chunks"), reflect-padded at the very start and end of the file as
librosa's centred STFT did for musicnn, so the spectrogram of a chunk equals
the corresponding frames of the whole file's spectrogram.  Windows are then
independent: they can be batched across tracks and a file of any length is
processed with a buffer of about one window.

The front end's :class:`~mtag.cards.Framing` gives the arithmetic: for a
waveform network a frame is one sample and nothing is padded, so the same code
cuts its 59,049-sample windows.

With musicnn's plan (hop = window = 187 frames) window ``i`` covers frames
``[187 i, 187 i + 187)``: the patches of the original musicnn code, tail dropped.
A file with fewer frames than one window yields a single short chunk whose
``padding`` names how the model fills it (its card's ``short_input``:
``repeat`` for musicnn, which repeats its frames).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np

from mtag.cards.frontend import Framing

REPEAT_PADDING = "repeat"


@dataclass(frozen=True)
class WindowPlan:
    """Window geometry in samples at ``sample_rate``, and how the model's front end frames them.

    ``window`` and ``hop`` are whole frames of the front end (a waveform
    network's frame is one sample); ``framing`` says how many samples each
    frame reads beyond its hop and how far the file's edges are reflect-padded.
    """

    sample_rate: int
    window: int  # samples a window covers
    hop: int  # samples from one window's start to the next
    framing: Framing = Framing()
    short_input: str = REPEAT_PADDING  # how the model fills a window a track is too short for

    def __post_init__(self) -> None:
        step = self.framing.hop
        if self.window < step or self.hop < step:
            raise ValueError("window and hop must be at least one frame")
        if self.window % step or self.hop % step:
            raise ValueError(f"window and hop must be whole frames of {step} samples")

    @property
    def window_frames(self) -> int:
        return self.window // self.framing.hop

    @property
    def hop_frames(self) -> int:
        return self.hop // self.framing.hop

    @property
    def edge(self) -> int:
        """Reflect padding at each end of a file (half an FFT for a centred STFT)."""
        return self.framing.edge

    @property
    def chunk_samples(self) -> int:
        """Samples (padding included) that give ``window_frames`` frames."""
        return self.framing.chunk_samples(self.window_frames)

    def seconds(self, frames: int) -> float:
        """Frames -> seconds on the frame grid (frame ``t`` is centred on sample ``t * framing.hop``)."""
        return frames * self.framing.hop / self.sample_rate


@dataclass(frozen=True)
class Window:
    """One analysis window of a track."""

    index: int
    start: float  # seconds
    end: float  # seconds
    frames: int  # real frames in ``samples``; below the plan's window when padded
    samples: np.ndarray  # float32, centre padding included
    padding: str | None = None


W = TypeVar("W")


def _own_samples(window: Window) -> np.ndarray:
    return window.samples


def _reflect(signal: np.ndarray, width: int, at_start: bool) -> np.ndarray:
    """The ``width`` samples that reflect-padding adds at one edge of ``signal``."""
    mode: Literal["reflect", "edge"] = "reflect" if signal.size > 1 else "edge"  # one sample cannot reflect
    padded = np.pad(signal, (width, 0) if at_start else (0, width), mode=mode)
    return padded[:width] if at_start else padded[-width:]


class _PaddedStream:
    """The track's samples with reflect padding of ``width`` at both ends, as blocks.

    The left padding needs the first ``width + 1`` samples and the right one the
    last ``width + 1``, so both edges are held back until they are known.
    """

    def __init__(self, blocks: Iterable[np.ndarray], width: int) -> None:
        self.blocks = blocks
        self.width = width
        self.total = 0  # samples of the track itself, known once iterated

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.width == 0:  # a front end that reads samples as they are: nothing to pad
            for block in self.blocks:
                block = np.asarray(block, dtype=np.float32)
                self.total += block.size
                yield block
            return
        edge = self.width + 1
        head: list[np.ndarray] | None = []
        tail = np.zeros(0, dtype=np.float32)
        for block in self.blocks:
            block = np.asarray(block, dtype=np.float32)
            self.total += block.size
            if head is not None:
                head.append(block)
                if self.total < edge:
                    continue
                block = np.concatenate(head)
                head = None
                yield _reflect(block[:edge], self.width, at_start=True)
            tail = np.concatenate([tail, block])[-edge:]
            yield block
        if head is not None:  # shorter than the padding: both edges from the same few samples
            tail = np.concatenate(head) if head else tail
            if tail.size == 0:
                return
            yield _reflect(tail, self.width, at_start=True)
            yield tail
        yield _reflect(tail, self.width, at_start=False)


def iter_windows(blocks: Iterable[np.ndarray], plan: WindowPlan) -> Iterator[Window]:
    """Yield the windows of a track, in order, from its sample blocks.

    Memory stays at about one window plus one block, whatever the track's length.
    A track with no samples yields nothing.
    """
    stream = _PaddedStream(blocks, plan.edge)
    buffer = np.zeros(0, dtype=np.float32)  # padded signal from ``buffer_start`` on
    buffer_start = 0
    next_start = 0  # padded-signal index where the next window starts
    index = 0
    for block in stream:
        buffer = np.concatenate([buffer, block]) if buffer.size else block
        while next_start + plan.chunk_samples <= buffer_start + buffer.size:
            offset = next_start - buffer_start
            yield _window(plan, index, next_start, buffer[offset : offset + plan.chunk_samples].copy())
            index += 1
            next_start += plan.hop
        if index:  # nothing before the next window start is needed any more
            drop = min(next_start - buffer_start, buffer.size)
            buffer, buffer_start = buffer[drop:], buffer_start + drop
    if index == 0 and stream.total:
        yield _short_window(plan, buffer, stream.total)


def batched(windows: Iterable[W], size: int, samples: Callable[[Any], np.ndarray] = _own_samples) -> Iterator[list[W]]:
    """Windows in order, grouped into lists of at most ``size`` that are all the same length (stackable).

    ``samples`` finds a window's samples in an item that carries one (e.g. a
    ``(track, window)`` pair), so callers batch whatever they track windows with.
    """
    batch: list[W] = []
    for window in windows:
        if batch and (len(batch) == size or samples(window).size != samples(batch[0]).size):
            yield batch
            batch = []
        batch.append(window)
    if batch:
        yield batch


def _window(plan: WindowPlan, index: int, padded_start: int, samples: np.ndarray) -> Window:
    first_frame = padded_start // plan.framing.hop
    return Window(
        index=index,
        start=plan.seconds(first_frame),
        end=plan.seconds(first_frame + plan.window_frames),
        frames=plan.window_frames,
        samples=samples,
    )


def _short_window(plan: WindowPlan, padded: np.ndarray, total: int) -> Window:
    """The one window of a track shorter than a window: all its frames, to be repeated."""
    frames = plan.framing.frames_in(total)
    samples = padded[: plan.framing.chunk_samples(frames)]
    return Window(
        index=0,
        start=0.0,
        end=total / plan.sample_rate,
        frames=frames,
        samples=samples.copy(),
        padding=plan.short_input,
    )
