"""Score a track window by window: decode -> windows -> batches -> model.

This is the single path from an audio file to per-window scores; ``inspect``
uses it directly and the library-wide engine batches the same windows across
tracks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtag.audio.decode import stream_audio
from mtag.audio.windows import Window, WindowPlan, iter_windows
from mtag.errors import AudioError
from mtag.nets.tagger import Tagger

#: Windows per forward pass on a CPU.  Measured on a 2-core CPU (musicnn,
#: benchmarks/model_speed.py): 77-79 windows/s at 1-3 windows, 60 at 4 and
#: about 36 from 8 on, because musicnn's timbral maps (204 x 187 x 59 floats,
#: 9 MB a window) stop fitting in cache; big batches also cost ~27 MB a window.
CPU_BATCH_SIZE = 2
#: On a GPU large batches keep the device busy; memory is no concern there.
GPU_BATCH_SIZE = 64


def default_batch_size(device: torch.device) -> int:
    """The batch size that is fastest on ``device``'s kind."""
    return CPU_BATCH_SIZE if device.type == "cpu" else GPU_BATCH_SIZE


@dataclass(frozen=True)
class Segment:
    """One window's scores, in the model's label order."""

    start: float
    end: float
    scores: np.ndarray
    padding: str | None = None


@dataclass(frozen=True)
class TrackScores:
    """All windows of one track under one model."""

    path: Path
    model: str
    labels: list[str]
    duration: float
    segments: list[Segment]

    @property
    def mean(self) -> np.ndarray:
        """Track-level scores: the mean over windows, as musicnn's ``top_tags``."""
        return np.mean([segment.scores for segment in self.segments], axis=0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``mtag inspect --json`` (times in seconds, scores in label order)."""
        return {
            "file": str(self.path),
            "model": self.model,
            "duration": round(self.duration, 3),
            "labels": list(self.labels),
            "segments": [
                {
                    "start": round(segment.start, 3),
                    "end": round(segment.end, 3),
                    "padding": segment.padding,
                    "scores": [float(score) for score in segment.scores],
                }
                for segment in self.segments
            ],
            "mean": [float(score) for score in self.mean],
        }


def default_plan(tagger: Tagger) -> WindowPlan:
    """The model's own window and hop (for musicnn: 187 frames, no overlap)."""
    s = tagger.settings
    return WindowPlan(s.sample_rate, s.n_fft, s.hop_length, s.window_frames, s.hop_frames)


def batched(windows: Iterable[Window], size: int) -> Iterator[list[Window]]:
    """Group windows of equal length into lists of at most ``size``."""
    batch: list[Window] = []
    for window in windows:
        if batch and (len(batch) == size or window.samples.size != batch[0].samples.size):
            yield batch
            batch = []
        batch.append(window)
    if batch:
        yield batch


class _SampleCounter:
    """Passes blocks through and counts their samples: the track's true duration."""

    def __init__(self, blocks: Iterable[np.ndarray]) -> None:
        self.blocks = blocks
        self.samples = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in self.blocks:
            self.samples += block.size
            yield block


def score_windows(tagger: Tagger, windows: Iterable[Window], plan: WindowPlan, batch_size: int) -> Iterator[Segment]:
    """Run the model over windows in batches, yielding one segment per window in order."""
    for batch in batched(windows, batch_size):
        chunks = np.stack([window.samples for window in batch])
        scores = tagger.predict(chunks, frames=plan.window_frames)
        for window, row in zip(batch, scores):
            yield Segment(start=window.start, end=window.end, scores=row, padding=window.padding)


def analyse_file(
    path: str | Path, tagger: Tagger, plan: WindowPlan | None = None, batch_size: int | None = None
) -> TrackScores:
    """Decode ``path`` as a stream and score every window of it."""
    path = Path(path)
    plan = plan or default_plan(tagger)
    batch_size = batch_size or default_batch_size(tagger.device)
    counter = _SampleCounter(stream_audio(path, plan.sample_rate))
    segments = list(score_windows(tagger, iter_windows(counter, plan), plan, batch_size))
    if not segments:
        raise AudioError("no audio samples in the file", path=path, hint="is it an empty recording?")
    return TrackScores(
        path=path,
        model=tagger.name,
        labels=tagger.labels,
        duration=counter.samples / plan.sample_rate,
        segments=segments,
    )
