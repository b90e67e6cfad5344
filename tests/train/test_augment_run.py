"""``--augment`` and ``--augment-copies`` in a training run: on the fly when fine-tuning, copies cached once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mtag.data.cache import AUDIO_FOLDER, ShardStore
from mtag.errors import UsageError
from mtag.train.augment import augmenter as augmenter_module
from mtag.train.run import TrainRequest, train
from mtag.train.settings import TrainSettings
from tests.library.helpers import isolate_user_folders, mtag
from tests.train.helpers import tiny_base, tone_dataset, tone_folder

FINE_TUNE = ("train", "--from", "tiny-base", "--lr", "0.05", "--batch-size", "8", "--fine-tune", "--workers", "0")


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    tiny_base(tmp_path / "base", monkeypatch)
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path, tone_dataset(tmp_path / "data")


def request(tmp_path: Path, dataset, name: str = "tones", **settings) -> TrainRequest:
    options = {"base": "tiny-base", "epochs": 3, "batch_size": 8, "lr": 0.05, **settings}
    return TrainRequest(dataset, TrainSettings(**options), name=name, models_dir=tmp_path / "models", workers=0)


def test_fine_tuning_with_noise_trains_end_to_end_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_user_folders(tmp_path, monkeypatch)
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    tiny_base(tmp_path / "base", monkeypatch)
    data = tone_folder(tmp_path / "genres", {"blues": "low", "metal": "high"}, count=6)
    code, out, err = mtag(
        capsys, *FINE_TUNE, "--epochs", "2", "--dataset", "folder", "--data-dir", data, "--augment", "noise:snr=10",
        "--name", "noisy", "--json",
    )  # fmt: skip
    assert code == 0, err
    card = json.loads((tmp_path / "data" / "mtag" / "models" / "noisy" / "model.json").read_text())
    record = card["training"]["augmentation"]
    assert record["spec"] == "noise:snr=10:p=0.5" and record["online"] == ["noise"] and record["copies"] == 0
    assert card["training"]["hyperparameters"]["augment"] == "noise:snr=10"


def test_a_bad_spec_exits_2_with_one_line_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_user_folders(tmp_path, monkeypatch)
    tiny_base(tmp_path / "base", monkeypatch)
    data = tone_folder(tmp_path / "genres", {"blues": "low", "metal": "high"}, count=2)
    code, _, err = mtag(capsys, *FINE_TUNE, "--dataset", "folder", "--data-dir", data, "--augment", "nope")
    assert code == 2 and "unknown augmentation 'nope'" in err and err.strip().count("\n") == 0
    assert not (tmp_path / "cache").exists()


def test_the_frozen_path_refuses_on_the_fly_audio_augmentation_and_points_at_copies(setup) -> None:
    tmp_path, dataset = setup
    with pytest.raises(UsageError, match="--augment-copies"):
        train(request(tmp_path, dataset, augment="noise"))
    with pytest.raises(UsageError, match="--fine-tune"):
        train(request(tmp_path, dataset, augment="noise,specaugment", augment_copies=1))
    with pytest.raises(UsageError, match="waveform augmentations"):
        train(request(tmp_path, dataset, augment="mixup", augment_copies=2))


def test_only_training_batches_are_augmented(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path, dataset = setup
    calls = []
    original = augmenter_module.Augmenter.batch

    def counted(self, chunks, targets, featurise, rng):  # type: ignore[no-untyped-def]
        calls.append(len(chunks))
        return original(self, chunks, targets, featurise, rng)

    monkeypatch.setattr(augmenter_module.Augmenter, "batch", counted)
    settings = {"freeze": False, "segments_per_track": 2, "augment": "noise:p=1,specaugment,mixup"}
    result = train(request(tmp_path, dataset, **settings))
    # 12 training tracks x 2 segments per epoch, 3 epochs: every training segment, and nothing else.
    assert sum(calls) == 12 * 2 * 3 and len(result.fit.history) == 3


def test_copies_are_extra_training_examples_made_once_and_reused(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path, dataset = setup
    store = lambda: ShardStore(tmp_path / "cache" / AUDIO_FOLDER)  # noqa: E731
    spec = "noise:snr=10:p=1,gain:3"
    first = train(request(tmp_path, dataset, augment=spec, augment_copies=2))
    assert first.counts == {"train": 12, "valid": 6, "test": 6, "train_copies": 24}
    assert len(store()) == 24 + 24  # the 24 tracks, and 2 copies of each of the 12 training tracks
    assert first.card.training["augmentation"]["offline"] == ["gain", "noise"]

    def no_more(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a copy was computed again")

    from mtag.train.augment import copies

    monkeypatch.setattr(copies, "altered", no_more)
    again = train(request(tmp_path, dataset, name="again", augment="gain:db=3,noise:snr=10:p=1", augment_copies=2))
    assert again.counts["train_copies"] == 24 and len(store()) == 48  # another spelling of the same spec
    monkeypatch.undo()
    tiny_base(tmp_path / "base", monkeypatch)
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    train(request(tmp_path, dataset, name="other", augment="noise:snr=20:p=1", augment_copies=1))
    assert len(store()) == 48 + 12  # another spec never reuses the copies


def test_mixup_alone_trains_the_frozen_head_on_mixed_embeddings(setup) -> None:
    tmp_path, dataset = setup
    result = train(request(tmp_path, dataset, augment="mixup:0.4", epochs=15))
    assert result.card.training["augmentation"]["online"] == ["mixup"]
    assert result.test["accuracy"] == 1.0  # mixed targets are soft targets the loss takes


class Interrupt(Exception):
    """Stands for a kill between two epochs."""


def test_a_resumed_augmented_run_draws_what_the_whole_run_drew_and_another_spec_is_refused(setup) -> None:
    from safetensors.numpy import load_file

    from mtag.train.events import TrainEvents

    tmp_path, dataset = setup
    settings = {"augment": "mixup:0.4", "epochs": 4, "patience": 100}
    whole = train(request(tmp_path, dataset, name="whole", **settings))

    class KillAfterTwo(TrainEvents):
        def epoch(self, record) -> None:
            if record.epoch == 2:
                raise Interrupt

    with pytest.raises(Interrupt):
        train(request(tmp_path, dataset, name="again", **settings), KillAfterTwo())
    other = request(tmp_path, dataset, name="again", **{**settings, "augment": "mixup:0.5"})
    with pytest.raises(UsageError, match="augment"):
        train(TrainRequest(**{**other.__dict__, "resume": True}))
    resumed = train(TrainRequest(**{**request(tmp_path, dataset, name="again", **settings).__dict__, "resume": True}))
    reference = load_file(whole.card.weights_path)
    for key, value in load_file(resumed.card.weights_path).items():
        np.testing.assert_array_equal(value, reference[key])


def test_fine_tuning_trains_on_the_copies_without_altering_them_again(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path, dataset = setup
    calls = []
    original = augmenter_module.Augmenter.waveform

    def counted(self, x, dice, keep_length=True):  # type: ignore[no-untyped-def]
        calls.append(keep_length)
        return original(self, x, dice, keep_length)

    monkeypatch.setattr(augmenter_module.Augmenter, "waveform", counted)
    settings = {"freeze": False, "segments_per_track": 1, "augment": "stretch:p=1,specaugment", "augment_copies": 1}
    result = train(request(tmp_path, dataset, **settings))
    assert result.counts["train"] == 12 and result.counts["train_copies"] == 12
    assert calls == [False] * 12  # the 12 copies, each a whole track; training batches are not stretched again
    assert result.card.training["augmentation"]["online"] == ["specaugment"]
