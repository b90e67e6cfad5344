"""Track properties on synthetic signals whose loudness, clipping, spectrum and beat are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from mtag.evaluate.loudness import k_weighting, loudness
from mtag.evaluate.properties import PROPERTIES, track_properties

RATE = 16000


def _sine(seconds: float, rms_dbfs: float, freq: float = 1000.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (math.sqrt(2) * 10 ** (rms_dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _noise(seconds: float, seed: int = 0, level: float = 0.1) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal(round(seconds * RATE))).astype(np.float32)


def _clicks(tempi: list[float], seconds_each: float) -> np.ndarray:
    """A click (a 10 ms decaying noise burst) on every beat, ``seconds_each`` at each tempo in turn."""
    rng = np.random.default_rng(3)
    burst = rng.standard_normal(RATE // 100) * np.exp(-np.arange(RATE // 100) / (0.002 * RATE)) * 0.5
    parts = []
    for bpm in tempi:
        part = np.zeros(round(seconds_each * RATE), np.float32)
        for beat in np.arange(0.0, seconds_each, 60.0 / bpm):
            start = round(beat * RATE)
            part[start : start + burst.size] += burst[: part.size - start]
        parts.append(part)
    return np.concatenate(parts)


def test_a_sine_at_minus_20_dbfs_rms_reads_minus_20_lufs() -> None:
    properties = track_properties(_sine(20.0, -20.0), RATE)
    assert properties["loudness_lufs"] == pytest.approx(-20.0, abs=1.0)
    assert properties["loudness_range_lu"] == pytest.approx(0.0, abs=0.1)  # a steady tone does not move
    assert properties["duration_s"] == pytest.approx(20.0, abs=0.01)


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_loudness_follows_the_level_at_every_rate(rate: int) -> None:
    louder, _ = loudness(_sine(60.03, -14.0, rate=rate), rate)  # a minute and a bit: several chunks, a partial step
    quieter, _ = loudness(_sine(10.0, -30.0, rate=rate), rate)
    assert louder == pytest.approx(-14.0, abs=0.1) and quieter == pytest.approx(-30.0, abs=0.1)


def test_the_k_filter_is_the_standards_at_48_khz() -> None:
    """BS.1770-4 gives the filter as these coefficients at 48 kHz; the redesign for any rate reproduces them."""
    (shelf_b, shelf_a), (pass_b, pass_a) = k_weighting(48000)
    assert shelf_b == pytest.approx([1.53512485958697, -2.69169618940638, 1.19839281085285], abs=1e-9)
    assert shelf_a == pytest.approx([1.0, -1.69065929318241, 0.73248077421585], abs=1e-9)
    assert pass_b == pytest.approx([1.0, -2.0, 1.0]) and pass_a == pytest.approx(
        [1.0, -1.99004745483398, 0.99007225036621], abs=1e-9
    )


def test_a_track_with_a_quiet_half_has_a_loudness_range_and_is_not_called_quiet() -> None:
    track = np.concatenate([_sine(15.0, -12.0), _sine(15.0, -24.0)])
    properties = track_properties(track, RATE)
    assert properties["loudness_range_lu"] == pytest.approx(12.0, abs=1.0)
    assert properties["loudness_lufs"] > -17.0  # the loud half dominates the gated loudness


def test_a_clipped_square_wave_has_a_large_clipping_share_and_a_clean_sine_none() -> None:
    square = np.clip(4.0 * _sine(5.0, -3.0, freq=220.0), -1.0, 1.0)
    assert track_properties(square, RATE)["clipping_share"] > 0.5
    assert track_properties(_sine(5.0, -10.0), RATE)["clipping_share"] == 0.0


def test_white_noise_is_flat_and_a_sine_is_not() -> None:
    assert track_properties(_noise(5.0), RATE)["flatness"] == pytest.approx(0.56, abs=0.03)
    assert track_properties(_sine(5.0, -20.0), RATE)["flatness"] < 0.01


def test_low_passed_noise_has_a_bandwidth_near_its_cutoff_and_is_narrow_band() -> None:
    low_passed = sosfilt(butter(12, 3000, fs=RATE, output="sos"), _noise(6.0)).astype(np.float32)
    properties = track_properties(low_passed, RATE)
    assert 3000 <= properties["bandwidth_hz"] <= 4500  # -60 dB of the energy: a little above the -3 dB cutoff
    assert properties["narrow_band"] == 1.0
    full = track_properties(_noise(6.0), RATE)
    assert full["bandwidth_hz"] > 7500 and full["narrow_band"] == 0.0


def test_a_steady_click_track_has_a_stable_tempo_of_120_bpm() -> None:
    properties = track_properties(_clicks([120.0], 30.0), RATE)
    assert properties["tempo_bpm"] == pytest.approx(120.0, abs=1.0)
    assert properties["tempo_stability"] == 1.0
    assert properties["pulse_clarity"] > 0.8
    assert track_properties(_noise(30.0), RATE)["pulse_clarity"] < 0.3  # nothing repeats in white noise


def test_a_track_that_changes_tempo_is_less_stable() -> None:
    steady = track_properties(_clicks([120.0], 30.0), RATE)
    changing = track_properties(_clicks([90.0, 150.0], 15.0), RATE)
    assert changing["tempo_stability"] < 0.7 < steady["tempo_stability"]
    assert changing["tempo_bpm"] in (pytest.approx(90.0, abs=1.0), pytest.approx(150.0, abs=1.0))


def test_silence_is_not_measurable_rather_than_a_crash() -> None:
    properties = track_properties(np.zeros(10 * RATE, np.float32), RATE)
    assert set(properties) == set(PROPERTIES)
    for name in ("loudness_lufs", "loudness_range_lu", "bandwidth_hz", "flatness", "tempo_bpm", "narrow_band"):
        assert math.isnan(properties[name]), name
    assert all(isinstance(value, float) for value in properties.values())


def test_window_scores_give_label_changes_and_parts() -> None:
    """Ten 3 s windows: rock for five, then jazz for five -- two parts (inspect's medley); one change in nine."""
    rock, jazz = [0.9, 0.1], [0.1, 0.9]
    medley = track_properties(_noise(30.0), RATE, np.array([rock] * 5 + [jazz] * 5))
    assert medley["parts"] == 2.0 and medley["label_changes"] == pytest.approx(1 / 9)
    steady = track_properties(_noise(30.0), RATE, np.array([rock] * 10))
    assert steady["parts"] == 1.0 and steady["label_changes"] == 0.0
    assert math.isnan(track_properties(_noise(3.0), RATE)["parts"])  # no window scores given
