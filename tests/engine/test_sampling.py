"""``--sample N``: only N windows, spread over the track, decoded by seeking; the same samples as a full decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtag.audio.decode import load_audio
from mtag.engine.decoding import TrackJob, decode_track
from mtag.engine.inference import ANALYSED, Engine
from mtag.engine.plans import default_plan
from tests.audio.synth import write_samples
from tests.engine.helpers import segment_scores


def glide(seconds: float, rate: int) -> np.ndarray:
    """A tone gliding up from 220 Hz (80 Hz/s) with a wobble: every stretch differs, nothing aliases."""
    t = np.arange(round(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * (220 * t + 40 * t * t)) + 0.1 * np.sin(2 * np.pi * 97 * t) * np.sin(t)
    return wave[None].astype(np.float32)


@pytest.fixture(scope="module", params=[(".flac", 44100), (".wav", 22050)], ids=["flac-44k", "wav-22k"])
def minute(request, tmp_path_factory) -> Path:
    """A minute at a rate other than the model's, so the seeks must land between the file's samples right."""
    extension, rate = request.param
    return write_samples(tmp_path_factory.mktemp("sampling") / f"minute{extension}", glide(60.0, rate), rate)


def whole_file_chunk(audio: np.ndarray, plan, start: float) -> np.ndarray:
    """The samples a full decode's window starting at ``start`` seconds holds (never at a file edge here)."""
    first = round(start * plan.sample_rate / plan.framing.hop) * plan.framing.hop - plan.edge
    return audio[first : first + plan.chunk_samples]


def test_sampled_windows_are_spread_and_hold_the_tracks_samples(minute, msd):
    plan = default_plan(msd.card)
    messages = list(decode_track(TrackJob(0, minute, plan, sample=4)))
    assert messages[-1].kind == "done" and messages[-1].duration == pytest.approx(60.0, abs=0.01)
    windows = [window for message in messages if message.kind == "windows" for window in message.windows]
    assert [window.index for window in windows] == [0, 1, 2, 3]
    starts = [window.start for window in windows]
    assert starts == sorted(set(starts))
    assert starts[0] < 15 and starts[-1] >= 45 and windows[-1].end <= 60
    assert all(w.frames == plan.window_frames and w.padding is None for w in windows)
    audio = load_audio(minute)
    for window in windows:
        np.testing.assert_allclose(window.samples, whole_file_chunk(audio, plan, window.start), rtol=0, atol=1e-4)


def test_sampled_scores_equal_the_models_on_those_stretches(minute, msd):
    (outcome,) = Engine(msd, sample=4, workers=0).run([minute])
    assert outcome.status == ANALYSED and outcome.duration == pytest.approx(60.0, abs=0.01)
    assert len(outcome.result.segments) == 4
    plan = default_plan(msd.card)
    audio = load_audio(minute)
    chunks = np.stack([whole_file_chunk(audio, plan, segment.start) for segment in outcome.result.segments])
    expected = msd.predict(chunks, frames=plan.window_frames)
    np.testing.assert_allclose(segment_scores(outcome.result), expected, rtol=0, atol=1e-4)


def test_a_track_too_short_to_sample_is_analysed_whole(tmp_path, msd):
    path = write_samples(tmp_path / "ten.wav", glide(10.0, 16000), 16000)  # 3 windows: fewer than 4 + 1
    (sampled,) = Engine(msd, sample=4, workers=0).run([path])
    (whole,) = Engine(msd, workers=0).run([path])
    assert [s.start for s in sampled.result.segments] == pytest.approx([0.0, 2.992, 5.984])
    np.testing.assert_array_equal(segment_scores(sampled.result), segment_scores(whole.result))
