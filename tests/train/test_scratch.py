"""Training an architecture from scratch (--arch): the card from its recipe, the schedule, every layer learning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtag.data import TRAIN
from mtag.errors import UsageError
from mtag.nets.recipes import recipe
from mtag.train.cards import scratch_card
from mtag.train.run import TrainRequest, train
from mtag.train.settings import TrainSettings
from tests.train.helpers import tone_dataset
from tests.train.scratch_nets import register_tinywave

#: musicnn and vgg at a few channels: the real architectures and recipes, trained in a second.
SMALL = {
    "musicnn": {"timbral_filters": 4, "temporal_filters": 2, "midend_filters": 8, "backend_units": 16},
    "vgg": {"filters": 8},
}


@pytest.fixture
def dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    return tone_dataset(tmp_path / "data")


def request(tmp_path: Path, dataset, name: str = "scratch", **settings) -> TrainRequest:
    options = {"arch": "cnn1d", "epochs": 8, "batch_size": 8, **settings}
    return TrainRequest(dataset, TrainSettings(**options), name=name, models_dir=tmp_path / "models", workers=0)


def test_cnn1d_from_scratch_learns_the_task_with_every_layer(tmp_path: Path, dataset) -> None:
    result = train(request(tmp_path, dataset))
    losses = [record.loss for record in result.fit.history]
    assert losses[-1] < 0.5 * losses[0]
    assert result.test["accuracy"] == 1.0
    card = result.card
    assert card.architecture == "cnn1d" and card.params == {"n_mels": 64, "n_labels": 2}
    assert card.frontend.kind == "logmel" and card.input.window_samples == 188 * 256  # 3 s in whole frames
    assert card.license == "data: test data" and card.source["architecture"] == "cnn1d"
    assert card.training is not None and card.training["architecture"] == "cnn1d"
    assert card.training["hyperparameters"]["lr"] == recipe("cnn1d").lr  # the recipe's schedule
    profile = card.profile
    assert profile is not None and profile["parameters"] == card.weights.parameters
    assert profile["macs_per_window"] > profile["parameters"] and profile["windows_per_second"] > 0


def test_every_layer_moves_and_batchnorm_trains(tmp_path: Path, dataset) -> None:
    from safetensors.torch import load_file

    from mtag.train.start import from_scratch

    result = train(request(tmp_path, dataset, epochs=1))
    initial = from_scratch(result.card, seed=0).net.state_dict()
    trained = load_file(result.card.weights_path)
    for key, value in initial.items():
        if key.endswith("num_batches_tracked"):
            assert int(trained[key]) > 0, key  # BatchNorm counted training batches: it was in training mode
        else:
            assert not np.allclose(trained[key].numpy(), value.numpy()), f"{key} did not train"


def test_frontend_options_land_in_the_card_and_an_mfcc_network_trains(tmp_path: Path, dataset) -> None:
    settings = TrainSettings(arch="cnn1d", frontend="mfcc", n_mels=32, n_mfcc=13, hop=512, n_fft=1024).resolved()
    card = scratch_card(dataset, "x", settings, cuda=False)
    assert card.frontend.to_json() == {
        "kind": "mfcc",
        "sample_rate": 16000,
        "n_fft": 1024,
        "hop_length": 512,
        "n_mels": 32,
        "fmin": 0.0,
        "fmax": None,
        "n_mfcc": 13,
    }
    assert card.params["n_mels"] == 13  # the network's input width is the coefficients
    assert card.input.window_samples == 94 * 512  # 3 s at hop 512, whole frames
    result = train(request(tmp_path, dataset, epochs=3, frontend="mfcc", n_mfcc=13, n_mels=32))
    assert result.card.frontend.kind == "mfcc" and result.test["accuracy"] >= 5 / 6


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"arch": "nope"}, "--arch: unknown architecture 'nope'"),
        ({"arch": "cnn1d", "base": "musicnn-msd"}, "--arch and --from cannot be used together"),
        ({"arch": "cnn1d", "n_mels": 0}, "--n-mels must be at least 1"),
        ({"arch": "cnn1d", "frontend": "cqt"}, "--frontend must be logmel or mfcc"),
        ({"arch": "cnn1d", "point": "pooled"}, "--point applies to --from only"),
        ({"base": "musicnn-msd", "n_mels": 32}, "--n-mels applies to --arch only"),
        ({"arch": "cnn1d", "accumulate": 0}, "--accumulate must be at least 1"),
    ],
)
def test_options_no_run_can_use_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        TrainSettings(**settings).resolved()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"arch": "tinywave", "n_mels": 32}, "--n-mels applies to spectrogram architectures only"),
        ({"arch": "cnn1d", "n_mfcc": 13}, "--n-mfcc applies to the mfcc front end only"),
        ({"arch": "cnn1d", "frontend": "mfcc", "n_mels": 10, "n_mfcc": 20}, "n_mfcc must be between 1 and n_mels"),
        ({"arch": "cnn1d", "params": {"width": 3}}, "has no parameter 'width'"),
    ],
)
def test_frontend_and_parameters_are_checked_as_a_card_would_be(
    dataset, monkeypatch: pytest.MonkeyPatch, settings: dict, message: str
) -> None:
    register_tinywave(monkeypatch)
    with pytest.raises(UsageError, match=message):
        scratch_card(dataset, "x", TrainSettings(**settings).resolved(), cuda=False)


def test_a_waveform_architecture_takes_the_sample_rate(dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    register_tinywave(monkeypatch)
    card = scratch_card(dataset, "x", TrainSettings(arch="tinywave", sample_rate=8000).resolved(), cuda=False)
    assert card.frontend.kind == "waveform" and card.input.window_samples == 8000
    assert "n_mels" not in card.params and card.params["n_features"] == 1


def test_defaults_come_from_the_recipe_and_options_override_them() -> None:
    cnn1d = recipe("cnn1d")
    settings = TrainSettings(arch="cnn1d").resolved()
    assert (settings.lr, settings.batch_size, settings.epochs) == (cnn1d.lr, cnn1d.batch_size, cnn1d.epochs)
    assert settings.base is None and not settings.freeze
    settings = TrainSettings(arch="cnn1d", lr=0.01, batch_size=4, epochs=2, segment=2.0).resolved()
    assert (settings.lr, settings.batch_size, settings.epochs, settings.segment) == (0.01, 4, 2, 2.0)
    assert TrainSettings().resolved().batch_size == 32  # --from keeps its default


def test_cuda_params_apply_on_a_gpu_only(dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from mtag.nets.cnn1d import Cnn1d

    monkeypatch.setattr(Cnn1d, "RECIPE", replace(Cnn1d.RECIPE, cuda_params={"channels": 128}))
    settings = TrainSettings(arch="cnn1d").resolved()
    assert "channels" not in scratch_card(dataset, "x", settings, cuda=False).params
    assert scratch_card(dataset, "x", settings, cuda=True).params["channels"] == 128


@pytest.mark.parametrize("arch", ["musicnn", "vgg"])
def test_the_shipped_architectures_train_from_scratch_on_their_recipe_window(tmp_path: Path, dataset, arch) -> None:
    from mtag.nets.profile import one_window
    from mtag.train.start import from_scratch

    settings = TrainSettings(arch=arch, params=SMALL[arch]).resolved()
    card = scratch_card(dataset, "x", settings, cuda=False)
    assert card.input.window_samples == 187 * 256 and card.input.fixed_length == (arch == "vgg")
    assert card.params["n_mels"] == 96 and card.frontend.kind == "musicnn-logmel"
    net = from_scratch(card, seed=0).net.eval()
    assert net(one_window(card)).shape == (1, 2)
    result = train(request(tmp_path, dataset, arch=arch, params=SMALL[arch], epochs=1, segments_per_track=1))
    assert np.isfinite(result.fit.history[0].loss) and result.card.architecture == arch


def test_a_fixed_length_network_refuses_another_segment_length(tmp_path: Path, dataset) -> None:
    with pytest.raises(UsageError, match="--segment 2: vgg takes exactly its 2.992 s window"):
        train(request(tmp_path, dataset, arch="vgg", params=SMALL["vgg"], segment=2.0))
    assert not (tmp_path / "cache").exists()


def test_resuming_with_another_architecture_names_the_setting(tmp_path: Path, dataset) -> None:
    from mtag.train.events import TrainEvents

    class Stop(Exception):
        pass

    class KillAfterOne(TrainEvents):
        def epoch(self, record) -> None:
            raise Stop

    with pytest.raises(Stop):
        train(request(tmp_path, dataset, epochs=3), KillAfterOne())
    other = request(tmp_path, dataset, epochs=3, arch="musicnn", params=SMALL["musicnn"])
    with pytest.raises(UsageError, match=r"settings\.arch 'cnn1d' \(now 'musicnn'\)"):
        train(TrainRequest(**{**other.__dict__, "resume": True}))
    changed = request(tmp_path, dataset, epochs=3, n_mels=32)
    with pytest.raises(UsageError, match=r"cannot resume: the run .* had settings\.n_mels None \(now 32\)"):
        train(TrainRequest(**{**changed.__dict__, "resume": True}))
    resumed = train(TrainRequest(**{**request(tmp_path, dataset, epochs=3).__dict__, "resume": True}))
    assert [record.epoch for record in resumed.fit.history] == [1, 2, 3]
    assert len([e for e in dataset.examples if e.split == TRAIN]) == resumed.counts["train"]


def test_another_frontend_kind_keeps_the_mel_settings_and_drops_the_old_kinds_own(dataset) -> None:
    settings = TrainSettings(arch="musicnn", frontend="logmel", n_mels=48).resolved()
    card = scratch_card(dataset, "x", settings, cuda=False)
    assert card.frontend.to_json() == {
        "kind": "logmel",
        "sample_rate": 16000,
        "n_fft": 512,
        "hop_length": 256,
        "n_mels": 48,
        "fmin": 0.0,
        "fmax": None,
        "compression": "db",
    }  # musicnn-logmel's float16 rounding is not a setting of the general log-mel
    assert card.params["n_mels"] == 48 and card.input.window_samples == 187 * 256
