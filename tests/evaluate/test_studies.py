"""Each study condition changes the audio as it says, in memory."""

from __future__ import annotations

import numpy as np
import pytest

from mtag.errors import UsageError
from mtag.evaluate import studies

RATE = 16000


def _tone(freq: float, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64)))


def test_a_crop_is_the_middle_of_the_track_and_a_short_track_stays_whole():
    audio = np.arange(10 * RATE, dtype=np.float32)
    crop = studies.crop_middle(2.0)(audio, RATE, np.random.default_rng(0))
    assert crop.size == 2 * RATE and crop[0] == 4 * RATE
    assert studies.crop_middle(30.0)(audio, RATE, np.random.default_rng(0)).size == audio.size


def test_white_noise_lands_at_the_asked_snr_and_repeats_with_its_seed():
    audio = _tone(440)
    noisy = studies.white_noise(10.0)(audio, RATE, np.random.default_rng(5))
    snr = 10 * np.log10(_power(audio) / _power(noisy - audio))
    assert abs(snr - 10.0) < 0.2
    assert np.array_equal(noisy, studies.white_noise(10.0)(audio, RATE, np.random.default_rng(5)))


def test_telephone_band_removes_highs_and_keeps_the_voice_band():
    rng = np.random.default_rng(0)
    band = studies.telephone()
    assert _power(band(_tone(6000), RATE, rng)) < 0.01 * _power(_tone(6000))
    assert _power(band(_tone(1000), RATE, rng)) > 0.9 * _power(_tone(1000))


def test_mp3_round_trip_keeps_length_and_time_and_a_low_bit_rate_costs_more():
    rng = np.random.default_rng(0)
    audio = _tone(1000) + _tone(5000) + 0.05 * rng.standard_normal(2 * RATE).astype(np.float32)
    inner = slice(2000, -2000)
    errors = {}
    for kbps in (320, 32):
        coded = studies.mp3_roundtrip(audio, RATE, kbps)
        assert coded.size == audio.size
        assert np.corrcoef(audio[inner], coded[inner])[0, 1] > 0.9  # aligned: no encoder delay left in
        errors[kbps] = _power(coded[inner] - audio[inner])
    assert errors[32] > 3 * errors[320]


def test_unknown_study_is_refused_naming_the_known_ones():
    with pytest.raises(UsageError) as caught:
        studies.resolve_studies("length,speed")
    assert "speed" in caught.value.message and "length, noise, codec" in (caught.value.hint or "")


def test_studies_share_the_baseline_and_each_lists_its_conditions():
    chosen = studies.resolve_studies("length,noise,codec")
    assert [len(s.conditions) for s in chosen] == [8, 6, 6]
    conditions = studies.conditions_of(chosen)
    assert conditions[0] is studies.BASELINE and len(conditions) == 1 + 7 + 5 + 5
