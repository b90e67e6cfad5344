"""Windows and hops given in seconds (``--window``, ``--hop``), and overlapping windows in the engine."""

from __future__ import annotations

import numpy as np
import pytest

from mtag.engine.analysis import default_plan, seconds_plan
from mtag.engine.inference import Engine
from mtag.errors import UsageError
from mtag.nets.tagger import load_tagger
from tests.audio.synth import chirp, write_samples
from tests.engine.helpers import segment_scores


def test_seconds_become_whole_frames(msd):
    assert seconds_plan(msd) == default_plan(msd)  # 187 frames, no overlap
    half = seconds_plan(msd, window=1.5)
    assert (half.window_frames, half.hop_frames) == (94, 94)  # 1.5 s / 16 ms = 93.75 frames; hop = window
    overlapping = seconds_plan(msd, hop=1.0)
    assert (overlapping.window_frames, overlapping.hop_frames) == (187, 62)
    assert seconds_plan(msd, window=0.001).window_frames == 1


@pytest.mark.parametrize(("window", "hop"), [(-1.0, None), (0.0, None), (None, -0.5), (3.0, 0.0)])
def test_non_positive_seconds_are_a_usage_error(msd, window, hop):
    with pytest.raises(UsageError, match="must be positive"):
        seconds_plan(msd, window=window, hop=hop)


def test_vgg_takes_only_its_own_window_length_but_any_hop():
    """Its dense layer reads the flattened map of exactly 187 frames: another length would crash mid-run."""
    vgg = load_tagger("vgg-msd", "cpu")
    with pytest.raises(UsageError, match="2.992 s windows only"):
        seconds_plan(vgg, window=1.5)
    assert seconds_plan(vgg, window=2.992) == default_plan(vgg)
    assert seconds_plan(vgg, hop=1.0).hop_frames == 62


def test_a_shorter_hop_gives_overlapping_segments(tmp_path, msd):
    path = write_samples(tmp_path / "nine.flac", chirp(9.0, 44100), 44100)  # 563 frames
    (plain,) = Engine(msd, workers=0).run([path])
    (overlapped,) = Engine(msd, seconds_plan(msd, hop=1.0), workers=0).run([path])
    assert len(plain.result.segments) == 3
    segments = overlapped.result.segments
    assert len(segments) == 1 + (563 - 187) // 62  # 7: a window a second instead of one every three
    assert [s.start for s in segments] == pytest.approx([0.992 * i for i in range(len(segments))])
    assert all(s.end - s.start == pytest.approx(2.992) for s in segments)
    assert all(a.end > b.start for a, b in zip(segments, segments[1:]))
    # the first window is the same stretch either way, the others are new ones
    np.testing.assert_allclose(segments[0].scores, plain.result.segments[0].scores, rtol=0, atol=1e-5)
    assert np.abs(segment_scores(overlapped.result)[1:3] - segments[0].scores).max() > 1e-3


def test_a_shorter_window_gives_more_shorter_segments(tmp_path, msd):
    path = write_samples(tmp_path / "four.wav", chirp(4.0, 16000), 16000)  # 251 frames
    (outcome,) = Engine(msd, seconds_plan(msd, window=1.5), workers=0).run([path])
    assert [(round(s.start, 3), round(s.end, 3)) for s in outcome.result.segments] == [(0.0, 1.504), (1.504, 3.008)]
    assert not outcome.padded
