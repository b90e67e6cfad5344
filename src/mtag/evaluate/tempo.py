"""How steady a track's beat is: tempo per stretch of ~10 s, and how much those tempi disagree.

Method (NumPy only; the classic onset-autocorrelation tempo estimator):

1. Onset strength, 100 times a second: the log-compressed magnitude spectrum's
   increase from one frame to the next, summed over frequency (spectral flux),
   less its 1 s moving average and floored at 0 -- a peak where notes or beats start.
2. For each 10 s stretch (one every 2.5 s), the autocorrelation of the onset
   strength: it peaks at the beat period and its multiples.  The period is the
   strongest lag between 40 and 240 BPM after a log-normal preference centred on
   120 BPM, one octave wide (what keeps a 120 BPM beat from reading as 60 BPM; the
   weighting librosa's tempo estimator uses), refined between lags by a parabola.
3. ``tempo_stability``: the share of stretches whose tempo is within
   TEMPO_AGREEMENT of the track's median tempo, or of its double or half (an
   estimator's octave slips -- a rock beat read as 61 BPM in two stretches of
   nine, 121 in the rest -- are no change of tempo).  1 for a click track, a drum
   machine or a steady band; lower for a medley, a tempo change, rubato, or a
   track without a beat (whose "tempo" wanders).  ``pulse_clarity``: the
   autocorrelation at the chosen period as a share of its value at lag 0,
   averaged over stretches -- near 1 for a strict pulse, near 0 where nothing repeats.
"""

from __future__ import annotations

import math

import numpy as np

#: Onset strength frames per second.
ENVELOPE_HZ = 100.0
#: Tempo is estimated per stretch of this many seconds, one stretch every STRETCH_STEP_SECONDS.
STRETCH_SECONDS, STRETCH_STEP_SECONDS = 10.0, 2.5
#: Tempi considered (BPM), and the preferred one with the preference's width in octaves.
MIN_BPM, MAX_BPM, PREFERRED_BPM, PREFERENCE_OCTAVES = 40.0, 240.0, 120.0, 1.0
#: Two stretches agree on the tempo within this ratio (4 %: a live drummer's drift, not a new tempo).
TEMPO_AGREEMENT = 0.04
#: Spectral frames at a time (bounds the memory of a long track's spectrum).
_CHUNK_FRAMES = 2048


def onset_strength(audio: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
    """The onset strength envelope of mono ``audio`` and its frame rate (Hz)."""
    hop = max(1, round(rate / ENVELOPE_HZ))
    size = 1 << math.ceil(math.log2(4 * hop))
    padded = np.pad(np.asarray(audio, dtype=np.float32), (size // 2, size // 2))
    count = max(0, 1 + (padded.size - size) // hop)
    frames = np.lib.stride_tricks.sliding_window_view(padded, size)[::hop][:count]
    window = np.hanning(size).astype(np.float32)
    previous: np.ndarray | None = None
    flux = []
    for first in range(0, count, _CHUNK_FRAMES):
        compressed = np.log1p(100.0 * np.abs(np.fft.rfft(frames[first : first + _CHUNK_FRAMES] * window, axis=1)))
        stacked = compressed if previous is None else np.vstack([previous, compressed])
        flux.append(np.maximum(np.diff(stacked, axis=0), 0.0).sum(axis=1))
        previous = compressed[-1:]
    envelope = np.concatenate(flux) if flux else np.zeros(0)
    frame_rate = rate / hop
    width = max(1, round(frame_rate))  # 1 s moving average: the slow swell of loudness is no onset
    local = np.convolve(envelope, np.ones(width) / width, mode="same")
    return np.maximum(envelope - local, 0.0), frame_rate


def stretch_tempi(envelope: np.ndarray, frame_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Tempo (BPM) and pulse clarity (0..1) of every stretch; empty arrays when too short for one period."""
    longest = math.ceil(60.0 / MIN_BPM * frame_rate)
    size = min(round(STRETCH_SECONDS * frame_rate), envelope.size)
    if size < 2 * longest:
        return np.zeros(0), np.zeros(0)
    step = round(STRETCH_STEP_SECONDS * frame_rate)
    lags = np.arange(math.floor(60.0 / MAX_BPM * frame_rate), longest + 1)
    preference = np.exp(-0.5 * (np.log2(60.0 * frame_rate / lags / PREFERRED_BPM) / PREFERENCE_OCTAVES) ** 2)
    tempi, clarity = [], []
    for start in range(0, envelope.size - size + 1, step):
        stretch = envelope[start : start + size] - envelope[start : start + size].mean()
        spectrum = np.fft.rfft(stretch, 2 * size)
        correlation = np.fft.irfft(np.abs(spectrum) ** 2)[: longest + 2]
        if correlation[0] <= 0:
            continue  # nothing happens in this stretch: no tempo to speak of
        weighted = correlation[lags] * preference
        if weighted.max() <= 0:
            continue  # no lag repeats what came before: no pulse
        best = int(lags[np.argmax(weighted)])
        tempi.append(60.0 * frame_rate / _refined(correlation, best))
        clarity.append(max(0.0, float(correlation[best] / correlation[0])))
    return np.array(tempi), np.array(clarity)


def _refined(values: np.ndarray, peak: int) -> float:
    """The peak's position between samples, from the parabola through it and its neighbours."""
    left, middle, right = values[peak - 1], values[peak], values[peak + 1]
    curvature = left - 2 * middle + right
    shift = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    return peak + min(0.5, max(-0.5, shift))  # a peak's top lies within half a lag of its highest sample


def tempo_properties(audio: np.ndarray, rate: int) -> dict[str, float]:
    """``tempo_bpm`` (median over stretches), ``tempo_stability`` and ``pulse_clarity``; NaN where not measurable.

    Stability needs two stretches (12.5 s of audio); tempo and clarity need
    one stretch of twice the slowest period (3 s).
    """
    tempi, clarity = stretch_tempi(*onset_strength(audio, rate))
    if tempi.size == 0:
        return {"tempo_bpm": math.nan, "tempo_stability": math.nan, "pulse_clarity": math.nan}
    median = float(np.median(tempi))
    octaves = np.log2(tempi / median)
    off = np.min(
        np.abs(octaves[:, np.newaxis] - np.array([-1.0, 0.0, 1.0])), axis=1
    )  # from the median, its double or half
    agree = off <= math.log2(1.0 + TEMPO_AGREEMENT)
    stability = float(agree.mean()) if tempi.size > 1 else math.nan
    return {"tempo_bpm": median, "tempo_stability": stability, "pulse_clarity": float(clarity.mean())}
