"""Loudness as listeners and broadcasters measure it: ITU-R BS.1770 integrated loudness and EBU loudness range.

RMS level says how much energy a track has; it does not say how loud it
sounds, because the ear is deaf to sub-bass and keen on the presence range.
BS.1770 weights the signal with the "K" filter (a +4 dB shelf above ~1.7 kHz
and a high-pass at ~38 Hz), averages 400 ms blocks and gates out silence and
quiet passages, so a track with long quiet stretches is not called quiet.  The
EBU loudness range (Tech 3342) is the spread of 3 s short-term loudness, 10th
to 95th percentile: how much a track's loudness moves (a brick-walled master:
2-4 LU, a classical recording: 15-25 LU).

The K filter is defined by its coefficients at 48 kHz; for other rates the
same analogue shelf and high-pass are redesigned by the bilinear transform
as libebur128 does (which gives the standard's coefficients at 48 kHz).
The input is the mono mix ``mtag eval`` decoded, measured as one channel: a
sine of RMS -20 dBFS reads -20 LUFS (the standard's calibration).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import sosfilt

#: The K filter's stages as libebur128 redesigns them for any rate (BS.1770-4's 48 kHz coefficients, exactly,
#: at 48 kHz): a high shelf (centre Hz, Q, gain dB, the shelf's mid-gain exponent) and a high-pass (centre Hz, Q).
SHELF = (1681.974450955533, 0.7071752369554196, 3.999843853973347, 0.4996667741545416)
HIGH_PASS = (38.13547087602444, 0.5003270373238773)
#: Block length and step of the gated measure (s): 400 ms blocks overlapping by 75 %.
BLOCK_SECONDS, STEP_SECONDS = 0.4, 0.1
#: Short-term loudness (loudness range) is measured over 3 s.
SHORT_TERM_SECONDS = 3.0
#: Blocks under this (LUFS) are silence and never count.
ABSOLUTE_GATE = -70.0
#: Integrated loudness leaves out blocks this far under the loudness of the ungated-by-level blocks...
RELATIVE_GATE_LU = -10.0
#: ...and the loudness range leaves out short-term values this far under it (EBU Tech 3342).
RANGE_GATE_LU = -20.0
#: The loudness range is the spread between these percentiles of the gated short-term values.
RANGE_PERCENTILES = (10.0, 95.0)
#: Samples squared at a time in float64.
_CHUNK_SAMPLES = 1 << 20
_OFFSET = -0.691  # BS.1770's constant: a 1 kHz sine reads its RMS level after the filter's +0.691 dB there


def k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The K filter's two biquads, ``(b, a)`` each, at ``rate`` Hz (bilinear transform, pre-warped)."""
    centre, q, gain, exponent = SHELF
    k = math.tan(math.pi * centre / rate)
    high = 10.0 ** (gain / 20.0)
    band = high**exponent
    norm = 1.0 + k / q + k * k
    shelf = (
        np.array([high + band * k / q + k * k, 2.0 * (k * k - high), high - band * k / q + k * k]) / norm,
        np.array([1.0, 2.0 * (k * k - 1.0) / norm, (1.0 - k / q + k * k) / norm]),
    )
    centre, q = HIGH_PASS
    k = math.tan(math.pi * centre / rate)
    norm = 1.0 + k / q + k * k
    high_pass = (np.array([1.0, -2.0, 1.0]), np.array([1.0, 2.0 * (k * k - 1.0) / norm, (1.0 - k / q + k * k) / norm]))
    return [shelf, high_pass]


def _step_energies(weighted: np.ndarray, step: int) -> np.ndarray:
    """Sum of squares of every whole ``step`` samples (float64), a chunk at a time so memory stays small."""
    count = weighted.size // step
    sums = np.empty(count)
    rows = max(1, _CHUNK_SAMPLES // step)
    for first in range(0, count, rows):
        chunk = weighted[first * step : min(first + rows, count) * step].reshape(-1, step).astype(np.float64)
        sums[first : first + rows] = np.square(chunk).sum(axis=1)
    return sums


def _block_powers(steps: np.ndarray, step: int, seconds: float) -> np.ndarray:
    """Mean square of every ``seconds`` block, one every step (empty when the audio is shorter than one)."""
    size = round(seconds / STEP_SECONDS)
    if steps.size < size:
        return np.zeros(0)
    running = np.concatenate([[0.0], np.cumsum(steps)])
    return np.maximum(running[size:] - running[:-size], 0.0) / (size * step)


def _lufs(power: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return _OFFSET + 10.0 * np.log10(power)


def loudness(audio: np.ndarray, rate: int) -> tuple[float, float]:
    """``(integrated loudness in LUFS, loudness range in LU)`` of mono ``audio``; NaN where not measurable.

    Both are NaN for silence (no block over the absolute gate); the range is
    also NaN for audio shorter than one 3 s short-term block.
    """
    sections = np.array([np.concatenate([b, a]) for b, a in k_weighting(rate)], dtype=np.float32)
    weighted = sosfilt(sections, np.asarray(audio, dtype=np.float32))
    step = round(STEP_SECONDS * rate)  # blocks are whole steps: 400 ms = 4, 3 s = 30
    steps = _step_energies(weighted, step)
    blocks, short_term = _block_powers(steps, step, BLOCK_SECONDS), _block_powers(steps, step, SHORT_TERM_SECONDS)
    return _gated_mean(blocks, RELATIVE_GATE_LU), _range(short_term)


def _gated_mean(powers: np.ndarray, relative_lu: float) -> float:
    """Loudness of the blocks over the absolute gate and over ``relative_lu`` under their own loudness."""
    kept = powers[_lufs(powers) > ABSOLUTE_GATE]
    if kept.size == 0:
        return math.nan
    kept = kept[_lufs(kept) > _lufs(kept.mean()) + relative_lu]
    return float(_lufs(kept.mean()))


def _range(powers: np.ndarray) -> float:
    kept = powers[_lufs(powers) > ABSOLUTE_GATE]
    if kept.size == 0:
        return math.nan
    values = _lufs(kept[_lufs(kept) > _lufs(kept.mean()) + RANGE_GATE_LU])
    low, high = np.percentile(values, RANGE_PERCENTILES)
    return float(high - low)
