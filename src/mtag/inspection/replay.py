"""A second pass over a file's windows, for what the decision pass does not keep: the network input.

The explanation needs each window's log-mel to silence parts of it, and the
plot needs the spectrogram.  Keeping every window's log-mel from the first
pass would hold a long file in memory (4 MB a minute for musicnn); decoding
again through the engine's own decoder (:func:`mtag.engine.decoding.decode_track`)
gives the very same windows, one batch at a time, for a fraction of the
model's cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from mtag.audio.windows import Window, WindowPlan
from mtag.engine.analysis import batched
from mtag.engine.decoding import TrackJob, decode_track
from mtag.errors import AudioError
from mtag.nets.tagger import Tagger

#: Columns kept for a plot's spectrogram: a figure is ~1200 px wide, so more would not show, and a
#: three-hour file (675,000 frames) stays at 2000 x 96 floats.
PLOT_COLUMNS = 2000


def logmel_batches(
    tagger: Tagger, plan: WindowPlan, path: Path, batch_size: int
) -> Iterator[tuple[list[Window], torch.Tensor]]:
    """The file's windows as the engine cut them, in batches, with their network input ``(B, frames, mels)``."""

    def windows() -> Iterator[Window]:
        for message in decode_track(TrackJob(0, path, plan)):
            if message.kind == "failed":
                raise AudioError(message.error or "decoding failed", path=path, hint=message.hint)
            yield from message.windows

    for batch in batched(windows(), batch_size):
        yield batch, tagger.logmel(np.stack([w.samples for w in batch]), frames=plan.window_frames)


class SpectrogramStrip:
    """The track's log-mel, frame by frame without the windows' overlap, averaged down to PLOT_COLUMNS."""

    def __init__(self, plan: WindowPlan, duration: float, columns: int = PLOT_COLUMNS) -> None:
        self.frame_seconds = plan.hop_length / plan.sample_rate
        self.factor = max(1, math.ceil(duration / self.frame_seconds / columns))
        self.next_frame = 0  # the first frame not yet taken
        self.pending: list[np.ndarray] = []
        self.pooled: list[np.ndarray] = []

    def add(self, windows: list[Window], logmel: torch.Tensor) -> None:
        mels = logmel.float().cpu().numpy()
        for window, mel in zip(windows, mels):
            first = round(window.start / self.frame_seconds)
            real = mel.shape[0]
            if window.padding:  # repeated frames fill the window: keep the real ones once
                real = min(real, max(1, int(window.end / self.frame_seconds)))
            skip = max(0, self.next_frame - first)
            if skip < real:
                self.pending.append(mel[skip:real])
                self.next_frame = first + real
        self._pool()

    def _pool(self, final: bool = False) -> None:
        frames = np.concatenate(self.pending) if self.pending else np.zeros((0, 0), np.float32)
        whole = frames.shape[0] // self.factor * self.factor
        if whole:
            self.pooled.append(frames[:whole].reshape(-1, self.factor, frames.shape[1]).mean(axis=1))
        rest = frames[whole:]
        if final and rest.shape[0]:
            self.pooled.append(rest.mean(axis=0, keepdims=True))
            rest = rest[:0]
        self.pending = [rest] if rest.shape[0] else []

    def image(self) -> tuple[np.ndarray, float]:
        """The pooled log-mel ``(columns, mels)`` and the seconds it covers."""
        self._pool(final=True)
        image = np.concatenate(self.pooled) if self.pooled else np.zeros((0, 0), np.float32)
        return image, self.next_frame * self.frame_seconds
