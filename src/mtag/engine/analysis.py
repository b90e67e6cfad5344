"""Score a track window by window: decode -> windows -> batches -> model.

This is the single path from an audio file to per-window scores; ``inspect``
uses it directly and the library-wide engine batches the same windows across
tracks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mtag.audio.windows import Window, WindowPlan
from mtag.errors import AudioError, UsageError
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


def default_plan(tagger: Tagger) -> WindowPlan:
    """The model's own window and hop (for musicnn: 187 frames, no overlap)."""
    s = tagger.settings
    return WindowPlan(s.sample_rate, s.n_fft, s.hop_length, s.window_frames, s.hop_frames)


def seconds_plan(tagger: Tagger, window: float | None = None, hop: float | None = None) -> WindowPlan:
    """The model's plan with the window and/or hop set in seconds (rounded to whole STFT frames).

    The hop defaults to the window, as in the original (no overlap).
    """
    plan = default_plan(tagger)
    frame_seconds = plan.hop_length / plan.sample_rate

    def frames(seconds: float, what: str) -> int:
        if seconds <= 0:
            raise UsageError(f"--{what} must be positive, not {seconds:g}")
        return max(1, round(seconds / frame_seconds))

    window_frames = plan.window_frames if window is None else frames(window, "window")
    if tagger.fixed_frames is not None and window_frames != tagger.fixed_frames:
        raise UsageError(
            f"model {tagger.name} takes {plan.seconds(tagger.fixed_frames):.3f} s windows only, not {window:g} s",
            hint="leave out --window, or use a musicnn model, which takes any window length",
        )
    hop_frames = window_frames if hop is None else frames(hop, "hop")
    return WindowPlan(plan.sample_rate, plan.n_fft, plan.hop_length, window_frames, hop_frames)


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


def score_windows(tagger: Tagger, windows: Iterable[Window], plan: WindowPlan, batch_size: int) -> Iterator[Segment]:
    """Run the model over in-memory windows in batches, one segment per window in order (for arrays, not files)."""
    for batch in batched(windows, batch_size):
        chunks = np.stack([window.samples for window in batch])
        scores = tagger.predict(chunks, frames=plan.window_frames)
        for window, row in zip(batch, scores):
            yield Segment(start=window.start, end=window.end, scores=row, padding=window.padding)


def analyse_file(
    path: str | Path, tagger: Tagger, plan: WindowPlan | None = None, batch_size: int | None = None
) -> TrackScores:
    """Decode ``path`` as a stream and score every window of it, in this process (the engine, one track)."""
    from mtag.engine.inference import TOO_SHORT, Engine

    engine = Engine(tagger, plan, batch_size=batch_size, workers=0)
    (outcome,) = engine.run([Path(path)])
    if outcome.error is not None:
        raise outcome.error
    if outcome.status == TOO_SHORT:
        raise AudioError(
            f"too short to analyse ({outcome.duration:.2f} s)", path=path, hint="mtag needs at least 1 s of audio"
        )
    assert outcome.result is not None
    return outcome.result
