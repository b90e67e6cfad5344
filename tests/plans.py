"""Window plans the tests build by hand: musicnn's geometry (16 kHz, 512-point STFT, 256 hop) in frames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from mtag.audio.windows import Window, WindowPlan, batched
from mtag.cards import Framing
from mtag.engine.results import Segment
from mtag.nets.tagger import Tagger

MUSICNN_FRAMING = Framing(hop=256, length=512, centred=True)


def musicnn_plan(window_frames: int = 187, hop_frames: int | None = None) -> WindowPlan:
    """musicnn's plan with the window and hop in STFT frames (187 frames = 2.992 s)."""
    hop = window_frames if hop_frames is None else hop_frames
    return WindowPlan(16000, window_frames * 256, hop * 256, MUSICNN_FRAMING)


def score_windows(tagger: Tagger, windows: Iterable[Window], plan: WindowPlan, batch_size: int) -> Iterator[Segment]:
    """Score in-memory windows (not a file) in batches of equal length: one segment per window, in order."""
    for batch in batched(windows, batch_size):
        scores = tagger.predict(np.stack([w.samples for w in batch]), frames=plan.window_frames)
        for window, row in zip(batch, scores):
            yield Segment(start=window.start, end=window.end, scores=row, padding=window.padding)
