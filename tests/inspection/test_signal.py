"""The signal measurements behind the diagnostics, on files with known properties."""

from __future__ import annotations

import math

import pytest

from mtag.inspection.signal import measure_samples, measure_signal
from tests.audio.synth import write_samples
from tests.inspection import signals as s


def test_clean_music_measures_full_band_in_phase_unclipped(recordings):
    stats = measure_signal(recordings["clean.flac"])
    assert (stats.sample_rate, stats.channels) == (44100, 2) and stats.duration == pytest.approx(24.0, abs=0.01)
    assert stats.clipped_share == 0 and stats.mono_loss_db == pytest.approx(0.0, abs=0.01)
    assert stats.bandwidth_hz > 10000 and stats.flatness < 0.05 and stats.pause_share < 0.05


def test_clipping_share_counts_full_scale_samples(recordings):
    assert measure_signal(recordings["clipped.flac"]).clipped_share > 0.01


def test_inverted_channel_cancels_in_the_mono_mix(recordings):
    assert measure_signal(recordings["cancelling.flac"]).mono_loss_db < -30


def test_white_noise_is_flat_and_speech_pauses(recordings):
    assert measure_signal(recordings["noise.flac"]).flatness == pytest.approx(0.56, abs=0.03)
    speech = measure_signal(recordings["speech.flac"])
    assert speech.pause_share > 0.3 and speech.syllable_modulation > 0.5


def test_silence_has_no_bandwidth_and_minus_infinite_level(recordings):
    stats = measure_signal(recordings["silence.flac"])
    assert stats.level_dbfs == -math.inf and stats.bandwidth_hz is None and stats.flatness is None


def test_level_between_follows_the_gap(recordings):
    stats = measure_signal(recordings["gap.flac"])
    assert stats.level_between(13.0, 20.0) == -math.inf
    assert stats.level_between(0.0, 10.0) > -30


def test_a_low_sample_rate_file_is_band_limited_by_its_rate(tmp_path):
    path = write_samples(tmp_path / "phone.wav", s.band_music(4.0)[:, ::5].copy(), 8820)
    stats = measure_signal(path)
    assert stats.sample_rate == 8820 and stats.bandwidth_hz <= 4410


def test_mono_files_have_no_stereo_measure(tmp_path):
    path = write_samples(tmp_path / "mono.flac", s.band_music(3.0)[:1], 44100)
    assert measure_signal(path).mono_loss_db is None


def test_audio_in_memory_measures_as_its_file_does(recordings):
    """``mtag eval`` measures the samples it decoded: the same figures as the streaming pass over the file."""
    samples = s.band_music(6.0)
    path = s.write(recordings["clean.flac"].parent / "in-memory.flac", samples)
    streamed, held = measure_signal(path), measure_samples(samples, s.RATE)
    assert held.channels == 2 and held.duration == pytest.approx(streamed.duration, abs=0.01)
    assert held.bandwidth_hz == pytest.approx(streamed.bandwidth_hz, rel=0.02)
    assert held.flatness == pytest.approx(streamed.flatness, abs=0.005)
    assert held.clipped_share == pytest.approx(streamed.clipped_share, abs=1e-4)
    assert measure_samples(samples.mean(axis=0), s.RATE).channels == 1  # a mono row is one channel
