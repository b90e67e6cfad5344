"""The runner on a hand-set model whose direction under each study is known."""

from __future__ import annotations

import pytest

from mtag.data import cache as cache_module
from mtag.evaluate.runner import EvalRequest, evaluate
from mtag.evaluate.studies import BASELINE
from tests.evaluate.helpers import band_dataset, band_model, random_model
from tests.library.helpers import isolate_user_folders


@pytest.fixture
def setup(tmp_path, monkeypatch):
    isolate_user_folders(tmp_path, monkeypatch)
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    band_model(tmp_path / "models", monkeypatch)
    random_model(tmp_path / "models")
    return band_dataset(tmp_path / "bands")


def _request(dataset, models=("bands-model",), **settings):
    return EvalRequest(list(models), dataset, device="cpu", workers=0, bootstrap=50, **settings)


def _accuracy(evaluation, model, key):
    return evaluation.models[model].conditions[key].figures["accuracy"]


def test_the_band_model_is_right_as_decoded_and_fails_high_tracks_over_the_telephone(setup):
    evaluation = evaluate(_request(setup, studies="codec"))
    assert _accuracy(evaluation, 0, BASELINE.key) == 1.0
    assert _accuracy(evaluation, 0, "codec:telephone") == 0.5  # every high track now sounds low
    assert _accuracy(evaluation, 0, "codec:mp3 320k") == 1.0  # 320 kbit/s keeps 6 kHz


def test_noise_drowns_the_model_as_the_snr_falls(setup):
    evaluation = evaluate(_request(setup, studies="noise"))
    assert _accuracy(evaluation, 0, "noise:30 dB") == 1.0
    assert _accuracy(evaluation, 0, "noise:0 dB") < 1.0


def test_the_length_study_scores_crops_shorter_than_a_window_and_than_tag_accepts(setup):
    evaluation = evaluate(_request(setup, studies="length"))
    half = evaluation.models[0].conditions["length:0.5 s"]
    assert len(half.tracks) == 8 and half.windows == 8  # one repeat-padded window per track
    assert half.figures["accuracy"] == 1.0
    assert evaluation.models[0].conditions[BASELINE.key].windows == 8 * 3  # 3 s in 1 s windows


def test_each_track_is_decoded_once_for_two_models_and_two_studies(setup, monkeypatch):
    calls = []
    real = cache_module.stream_audio

    def counting(path, rate, *args, **kwargs):
        calls.append(path)
        return real(path, rate, *args, **kwargs)

    monkeypatch.setattr(cache_module, "stream_audio", counting)
    first = evaluate(_request(setup, ("bands-model", "bands-random"), studies="noise,codec"))
    assert first.decoded == 8 and sorted(calls) == sorted({e.path for e in first.examples})
    again = evaluate(_request(setup, ("bands-model", "bands-random"), studies="noise,codec"))
    assert again.decoded == 0 and len(calls) == 8  # the second run reads the audio cache
    assert [m.card.name for m in again.models] == ["bands-model", "bands-random"]


def test_bootstrap_intervals_repeat_with_a_seed(setup):
    one = evaluate(_request(setup, ("bands-random",), seed=7)).models[0].baseline.intervals
    two = evaluate(_request(setup, ("bands-random",), seed=7)).models[0].baseline.intervals
    assert one == two and set(one) == {"accuracy", "balanced_accuracy", "macro_f1"}


def test_window_level_counts_every_window(setup):
    measured = evaluate(_request(setup, level="window")).models[0].baseline
    assert measured.figures["per_class"]["support"] == [12, 12]  # 4 tracks x 3 windows per genre
