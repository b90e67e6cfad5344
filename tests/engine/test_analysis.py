"""Analysing a file end to end: segment order, duration, batching, empty audio."""

from __future__ import annotations

import numpy as np
import pytest

from mtag.engine.inference import analyse_file
from mtag.errors import AudioError
from mtag.nets.tagger import load_tagger
from tests.audio.synth import chirp, write_samples


@pytest.fixture(scope="module")
def tagger():
    return load_tagger("musicnn-mtt", "cpu")


def test_long_file_segments_are_in_order_and_cover_the_track(tmp_path, tagger):
    path = write_samples(tmp_path / "long.ogg", chirp(40.0, 44100, gains=(1.0, 1.0)), 44100)
    result = analyse_file(path, tagger, batch_size=4)
    assert result.duration == pytest.approx(40.0, abs=0.05)
    assert len(result.segments) == 13  # floor(T / 187) with T = 1 + 640000 // 256
    assert [s.start for s in result.segments] == pytest.approx([2.992 * i for i in range(13)])
    assert result.model == "musicnn-mtt" and len(result.labels) == 50


def test_batch_size_does_not_change_results(tmp_path, tagger):
    path = write_samples(tmp_path / "sweep.wav", chirp(12.0, 22050), 22050)
    one = analyse_file(path, tagger, batch_size=1)
    many = analyse_file(path, tagger, batch_size=64)
    np.testing.assert_allclose(
        np.stack([s.scores for s in one.segments]), np.stack([s.scores for s in many.segments]), rtol=0, atol=1e-6
    )


def test_file_without_samples_is_an_error(tmp_path, tagger):
    path = write_samples(tmp_path / "empty.wav", np.zeros((1, 0), np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav"):
        analyse_file(path, tagger)
