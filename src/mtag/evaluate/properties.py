"""Measurable properties of a track, for asking which ones go with a model being right or wrong.

``mtag eval --study characteristics`` decodes each track once; this module
measures the samples it holds (never the file again) and, when given, the
model's window scores.  Every value is a float, NaN where it cannot be
measured (silence has no loudness, bandwidth or tempo), so a table of many
tracks has one column per property.  The signal measures reuse ``mtag
inspect``'s (:mod:`mtag.inspection.signal`, :mod:`mtag.inspection.rules`):
the same bandwidth energy rule, flatness, clipping level and narrow-band and
parts thresholds, so a track flagged here is flagged there.
"""

from __future__ import annotations

import math

import numpy as np

from mtag.evaluate.loudness import loudness
from mtag.evaluate.tempo import tempo_properties
from mtag.inspection.rules import MIN_SEGMENTS_FOR_STABILITY, MODEL_RATE, NARROW_BAND_HZ, part_cuts
from mtag.inspection.signal import measure_samples

#: What each property is, in the words a report uses (units included).
PROPERTIES: dict[str, str] = {
    "duration_s": "duration (s)",
    "loudness_lufs": "integrated loudness (LUFS, ITU-R BS.1770)",
    "loudness_range_lu": "loudness range (LU, EBU Tech 3342: short-term loudness, 95th - 10th percentile)",
    "bandwidth_hz": "bandwidth (Hz above which less than -60 dB of the energy lies)",
    "flatness": "spectral flatness (median over sounding frames, 0 tonal .. 0.56 white noise)",
    "tempo_bpm": "tempo (BPM, median of 10 s stretches)",
    "tempo_stability": "tempo stability (share of 10 s stretches within 4 % of the median tempo or its double/half)",
    "pulse_clarity": "pulse clarity (onset autocorrelation at the beat period, 0..1)",
    "clipping_share": "share of samples at full scale",
    "narrow_band": "narrow band (1 where mtag inspect warns: sound stops under 5 kHz)",
    "label_changes": "top-label changes (share of neighbouring windows whose top label differs)",
    "parts": "parts (stretches of clearly different leading labels, as mtag inspect finds a medley)",
}


def track_properties(audio: np.ndarray, rate: int, window_scores: np.ndarray | None = None) -> dict[str, float]:
    """The properties of :data:`PROPERTIES` for mono float ``audio`` at ``rate`` Hz (NaN where not measurable).

    ``window_scores`` (windows x labels, the model's per-window scores) gives
    ``label_changes`` and ``parts``; without it they are NaN.  The windows are
    taken to tile the track evenly (the engine's windows do, up to the last
    one's padding), which is all the part rule needs of their times.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    stats = measure_samples(audio, rate)
    integrated, loudness_range = loudness(audio, rate)
    bandwidth = math.nan if stats.bandwidth_hz is None else stats.bandwidth_hz
    narrow = math.nan if math.isnan(bandwidth) else float(rate < MODEL_RATE or bandwidth < NARROW_BAND_HZ)
    return {
        "duration_s": stats.duration,
        "loudness_lufs": integrated,
        "loudness_range_lu": loudness_range,
        "bandwidth_hz": bandwidth,
        "flatness": math.nan if stats.flatness is None else stats.flatness,
        **tempo_properties(audio, rate),
        "clipping_share": stats.clipped_share if audio.size else math.nan,
        "narrow_band": narrow,
        **window_properties(window_scores, stats.duration),
    }


def window_properties(window_scores: np.ndarray | None, duration: float) -> dict[str, float]:
    """``label_changes`` and ``parts`` from the window scores; NaN without scores or with too few windows.

    ``label_changes`` needs MIN_SEGMENTS_FOR_STABILITY windows, as inspect's
    instability rule does (with 2 or 3 one odd window is already "a change");
    ``parts`` is 1 for one piece, 2 or more where inspect would report a medley.
    """
    if window_scores is None or len(window_scores) == 0:
        return {"label_changes": math.nan, "parts": math.nan}
    scores = np.asarray(window_scores, dtype=np.float64)
    count = len(scores)
    top = scores.argmax(axis=1)
    changes = float(np.mean(top[1:] != top[:-1])) if count >= MIN_SEGMENTS_FOR_STABILITY else math.nan
    edges = np.linspace(0.0, duration, count + 1)
    return {
        "label_changes": changes,
        "parts": float(1 + len(part_cuts(scores, edges[:-1].tolist(), edges[1:].tolist()))),
    }
