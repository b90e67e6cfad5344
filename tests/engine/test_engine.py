"""The engine over many tracks: worker processes or not, one outcome per track, batching, edge cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mtag.engine.decoding import SILENCE_DBFS
from mtag.engine.inference import ANALYSED, FAILED, SILENT, TOO_SHORT, Engine, analyse_file
from mtag.errors import AudioError
from tests.audio.synth import FORMATS, chirp, native_rate, tone, write_samples
from tests.engine.helpers import RecordingTagger, deadline, noise, segment_scores

#: One track per container family, of one window (under 6 s) or two, none the same length.
MIXED = {".mp3": 3.3, ".flac": 6.4, ".ogg": 4.1, ".m4a": 3.6, ".wav": 7.0, ".opus": 3.9, ".wma": 6.2, ".aiff": 4.4}


def music(seconds: float, rate: int, seed: int, channels: int = 1) -> np.ndarray:
    """A sweep plus a tone of its own per track, so no two tracks score alike."""
    signal = chirp(seconds, rate) + tone(seconds, rate, freq=110.0 * (seed + 2), amplitude=0.3)
    return np.repeat(signal, channels, axis=0)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("mixed")
    paths = []
    for seed, (extension, seconds) in enumerate(MIXED.items()):
        path = folder / f"track{seed}{extension}"
        rate = native_rate(path)
        channels = 2 if FORMATS[extension][1] == "vorbis" else 1  # FFmpeg's vorbis encoder is stereo only
        paths.append(write_samples(path, music(seconds, rate, seed, channels), rate))
    return paths


@pytest.mark.slow
def test_workers_inline_and_analyse_file_give_the_same_segments(mixed, msd):
    with deadline(60):
        pooled = list(Engine(msd, batch_size=4, workers=2).run(mixed))
    inline = list(Engine(msd, batch_size=4, workers=0).run(mixed))
    for outcomes in (pooled, inline):
        assert sorted(outcome.key for outcome in outcomes) == list(range(len(mixed)))
    pooled_by_key, inline_by_key = {o.key: o for o in pooled}, {o.key: o for o in inline}
    for key, (path, seconds) in enumerate(zip(mixed, MIXED.values())):
        single = analyse_file(path, msd)
        expected = segment_scores(single)
        assert len(expected) == (2 if seconds > 6 else 1)
        for outcome in (pooled_by_key[key], inline_by_key[key]):
            assert outcome.path == path and outcome.status == ANALYSED and not outcome.padded
            assert outcome.duration == pytest.approx(seconds, abs=0.06)
            starts = [segment.start for segment in outcome.result.segments]
            assert starts == pytest.approx([2.992 * i for i in range(len(expected))])
            np.testing.assert_allclose(segment_scores(outcome.result), expected, rtol=0, atol=1e-5)
    # the tracks are told apart: no outcome carries another track's scores
    means = np.stack([inline_by_key[key].result.matrix.mean(axis=0) for key in range(len(mixed))])
    assert min(np.abs(a - b).max() for i, a in enumerate(means) for b in means[i + 1 :]) > 1e-3


def test_short_tracks_share_a_batch(tmp_path, msd):
    paths = [write_samples(tmp_path / f"clip{i}.wav", music(3.5, 16000, i), 16000) for i in range(4)]
    recording = RecordingTagger(msd)
    engine = Engine(recording, batch_size=4, workers=0)
    together = list(engine.run(paths))
    assert recording.batches == [4]  # one window per track: all four tracks in one forward pass
    assert engine.windows_scored == 4
    alone = list(Engine(msd, batch_size=1, workers=0).run(paths))
    assert [o.key for o in together] == [o.key for o in alone] == [0, 1, 2, 3]
    for a, b in zip(together, alone):
        assert a.path == b.path and len(a.result.segments) == 1
        np.testing.assert_allclose(segment_scores(a.result), segment_scores(b.result), rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def awkward(tmp_path_factory) -> dict[str, Path]:
    """Tracks that are not plain music, each named for what it is, among two that are."""
    folder = tmp_path_factory.mktemp("awkward")
    quiet = 10 ** (-35 / 20) * math.sqrt(2)  # a sine's peak for an RMS of -35 dBFS
    files = {
        "music": write_samples(folder / "music.mp3", music(3.5, 44100, 0, channels=2), 44100),
        "garbage": folder / "garbage.mp3",
        "two seconds": write_samples(folder / "two seconds.flac", music(2.0, 44100, 1), 44100),
        "empty": folder / "empty.mp3",
        "quiet": write_samples(folder / "quiet.flac", tone(4.0, 44100, amplitude=quiet), 44100),
        "truncated": folder / "truncated.flac",
        "silence": write_samples(folder / "silence.wav", np.zeros((1, 4 * 16000), np.float32), 16000),
        "half second": write_samples(folder / "half second.wav", music(0.5, 16000, 2), 16000),
        "hiss": write_samples(folder / "hiss.flac", noise(4.0, 44100, dbfs=-75), 44100),
        "more music": write_samples(folder / "more music.ogg", music(3.5, 44100, 3, channels=2), 44100),
    }
    files["garbage"].write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, np.uint8).tobytes())
    files["empty"].touch()
    whole = write_samples(folder / "whole.flac", music(4.0, 44100, 4), 44100).read_bytes()
    files["truncated"].write_bytes(whole[: len(whole) // 10])
    return files


@pytest.mark.parametrize("workers", [0, 2])
def test_awkward_tracks_get_their_status_and_the_rest_is_analysed(awkward, msd, workers):
    engine = Engine(msd, workers=workers)
    with deadline(60):
        outcomes = {o.key: o for o in engine.run(awkward.values())}
    assert engine.windows_scored == 6  # one each for the two music tracks, "quiet", "two seconds" and the silent two
    assert sorted(outcomes) == list(range(len(awkward)))
    got = {name: outcomes[key] for key, name in enumerate(awkward)}
    assert all(got[name].path == path for name, path in awkward.items())

    for name in ("music", "more music", "quiet"):
        assert got[name].status == ANALYSED, name
        assert len(got[name].result.segments) == 1 and not got[name].padded
    assert got["quiet"].level_dbfs == pytest.approx(-35, abs=0.5)

    short = got["half second"]
    assert short.status == TOO_SHORT and short.result is None
    assert short.duration == pytest.approx(0.5, abs=0.01)

    padded = got["two seconds"]
    assert padded.status == ANALYSED and padded.padded
    (segment,) = padded.result.segments
    assert segment.padding == "repeat" and segment.start == 0 and segment.end == pytest.approx(2.0, abs=0.01)

    for name in ("silence", "hiss"):
        assert got[name].status == SILENT, name
        assert got[name].level_dbfs < SILENCE_DBFS
        assert got[name].result.matrix.shape[1] == len(msd.labels)  # kept for inspect
    assert got["silence"].level_dbfs == -math.inf

    for name in ("garbage", "empty", "truncated"):
        outcome = got[name]
        assert outcome.status == FAILED and outcome.result is None, name
        assert isinstance(outcome.error, AudioError)
        assert str(awkward[name]) in str(outcome.error)


def test_analyse_file_refuses_what_the_engine_does_not_analyse(awkward, msd):
    for name in ("half second", "garbage", "empty", "truncated"):
        with pytest.raises(AudioError, match=awkward[name].name):
            analyse_file(awkward[name], msd)
