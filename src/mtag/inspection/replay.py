"""The spectrogram strip a plot shows, built from the engine's second pass over a file.

The explanation and the plot need each window's network input, which a run
does not keep; :meth:`mtag.engine.inference.Engine.feature_batches` decodes the
file again and hands the very same windows back batch by batch.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mtag.audio.windows import Window, WindowPlan

#: Columns kept for a plot's spectrogram: a figure is ~1200 px wide, so more would not show, and a
#: three-hour file (675,000 frames) stays at 2000 x 96 floats.
PLOT_COLUMNS = 2000


class SpectrogramStrip:
    """The track's log-mel, frame by frame without the windows' overlap, averaged down to PLOT_COLUMNS."""

    def __init__(self, plan: WindowPlan, duration: float, columns: int = PLOT_COLUMNS) -> None:
        self.frame_seconds = plan.seconds(1)
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
