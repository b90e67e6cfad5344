"""Windows and hops given in seconds (``--window``, ``--hop``), and overlapping windows in the engine."""

from __future__ import annotations

import numpy as np
import pytest

from mtag.engine.inference import Engine
from mtag.engine.plans import default_plan, seconds_plan
from mtag.errors import UsageError
from mtag.nets.tagger import load_tagger
from tests.audio.synth import chirp, write_samples
from tests.engine.helpers import segment_scores


def test_seconds_become_whole_frames(msd):
    card = msd.card
    assert seconds_plan(card) == default_plan(card)  # 187 frames, no overlap
    half = seconds_plan(card, window=1.5)
    assert (half.window_frames, half.hop_frames) == (94, 94)  # 1.5 s / 16 ms = 93.75 frames; hop = window
    overlapping = seconds_plan(card, hop=1.0)
    assert (overlapping.window_frames, overlapping.hop_frames) == (187, 62)
    assert (overlapping.window, overlapping.hop) == (187 * 256, 62 * 256)  # in samples at 16 kHz


@pytest.mark.parametrize(
    ("window", "hop"),
    [
        (-1.0, None),
        (0.0, None),
        (None, -0.5),
        (3.0, 0.0),
        (0.001, None),
        (float("nan"), None),
        (float("inf"), None),
        (1e9, None),
        (None, float("nan")),
        (None, 0.01),
        (None, 1e9),
    ],
)
def test_seconds_out_of_range_are_a_usage_error_naming_the_range(msd, window, hop):
    """--window 0.001 used to give no genre anywhere, and nan/inf/1e9 internal errors (issue 14, defect 6)."""
    with pytest.raises(UsageError, match="out of range") as raised:
        seconds_plan(msd.card, window=window, hop=hop)
    assert raised.value.hint.startswith("give ") and "seconds" in raised.value.hint


def test_vgg_takes_only_its_own_window_length_but_any_hop():
    """Its dense layer reads the flattened map of exactly 187 frames: another length would crash mid-run."""
    vgg = load_tagger("vgg-msd", "cpu")
    with pytest.raises(UsageError, match="2.992 s windows only"):
        seconds_plan(vgg.card, window=1.5)
    assert seconds_plan(vgg.card, window=2.992) == default_plan(vgg.card)
    assert seconds_plan(vgg.card, hop=1.0).hop_frames == 62


def test_a_shorter_hop_gives_overlapping_segments(tmp_path, msd):
    path = write_samples(tmp_path / "nine.flac", chirp(9.0, 44100), 44100)  # 563 frames
    (plain,) = Engine(msd, workers=0).run([path])
    (overlapped,) = Engine(msd, seconds_plan(msd.card, hop=1.0), workers=0).run([path])
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
    (outcome,) = Engine(msd, seconds_plan(msd.card, window=1.5), workers=0).run([path])
    assert [(round(s.start, 3), round(s.end, 3)) for s in outcome.result.segments] == [(0.0, 1.504), (1.504, 3.008)]
    assert not outcome.padded
