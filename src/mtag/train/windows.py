"""Whole tracks through a network, window by window, the way ``mtag tag`` cuts them.

Validation and test figures must mean what a user will get, so tracks are
scored with the engine's own windowing (:func:`mtag.engine.decoding.analysis_windows`
over the cached samples, which the engine's decoder produced) and batched
across tracks.  The same walk computes the frozen-feature embeddings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from mtag.audio.windows import Window, WindowPlan, batched
from mtag.data.cache import AudioCache
from mtag.engine.decoding import analysis_windows

#: chunks (B, samples), frames of a full window -> one row per window (B, D)
WindowFunction = Callable[[np.ndarray, int], np.ndarray]


def _windows(cache: AudioCache, indices: Sequence[int], plan: WindowPlan) -> Iterator[tuple[int, Window]]:
    for index in indices:
        for window in analysis_windows(cache.blocks(index), plan):
            yield index, window


def map_windows(
    cache: AudioCache, indices: Sequence[int], plan: WindowPlan, batch_size: int, function: WindowFunction
) -> Iterator[tuple[int, np.ndarray]]:
    """``(track, rows)`` for each track of ``indices`` with windows, in order: ``function`` of every window.

    Tracks the cache could not decode, and tracks under a second, yield nothing.
    """
    return map_track_windows(_windows(cache, indices, plan), plan, batch_size, function)


def map_track_windows(
    windows: Iterable[tuple[int, Window]], plan: WindowPlan, batch_size: int, function: WindowFunction
) -> Iterator[tuple[int, np.ndarray]]:
    """``(track, rows)`` per track of ``(track, window)`` pairs (a track's windows consecutive), batched across tracks.

    ``mtag eval`` feeds it windows cut from audio changed in memory (a study's
    conditions); :func:`map_windows` those of the cache as decoded.
    """
    rows: list[np.ndarray] = []
    current: int | None = None
    for batch in batched(windows, batch_size, samples=lambda item: item[1].samples):
        out = function(np.stack([window.samples for _, window in batch]), plan.window_frames)
        for (index, _), row in zip(batch, out):
            if index != current:
                if current is not None:
                    yield current, np.stack(rows)
                current, rows = index, []
            rows.append(row)
    if current is not None:
        yield current, np.stack(rows)
