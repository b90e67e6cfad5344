"""Training end to end on a learnable synthetic task: the trained model beats chance and is a model like others."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from mtag.train.run import TrainRequest, train
from mtag.train.settings import TrainSettings
from tests.train.helpers import tiny_base, tone_dataset


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    tiny_base(tmp_path / "base", monkeypatch)
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    dataset = tone_dataset(tmp_path / "data")
    return tmp_path, dataset


def request(tmp_path: Path, dataset, **settings) -> TrainRequest:
    options = {"base": "tiny-base", "epochs": 15, "batch_size": 8, "lr": 0.05, **settings}
    return TrainRequest(dataset, TrainSettings(**options), name="tones", models_dir=tmp_path / "models", workers=0)


def test_frozen_head_learns_the_task(setup) -> None:
    tmp_path, dataset = setup
    result = train(request(tmp_path, dataset))
    assert result.test["accuracy"] == 1.0
    assert result.card.labels == ("low", "high")
    assert (tmp_path / "models" / "tones" / "model.json").is_file()
    # The card records the training split's tracks per label: what 'mtag eval --study rare' reads.
    trained = dataset.counts()["train"]
    card = json.loads((tmp_path / "models" / "tones" / "model.json").read_text())
    assert card["training"]["label_counts"] == {"low": trained["low"], "high": trained["high"]}
    assert sum(card["training"]["label_counts"].values()) == card["training"]["tracks"]["train"]


def test_fine_tuning_learns_the_task(setup) -> None:
    tmp_path, dataset = setup
    result = train(request(tmp_path, dataset, freeze=False, segments_per_track=2))
    assert result.test["accuracy"] == 1.0


class Interrupt(Exception):
    """Stands for a kill between two epochs."""


def test_resume_continues_exactly_where_a_killed_run_stopped(setup) -> None:
    from mtag.train.events import TrainEvents

    tmp_path, dataset = setup
    whole = train(request(tmp_path, dataset, epochs=6, patience=100), ranks=None)
    reference = load_file(whole.card.weights_path)

    class KillAfterThree(TrainEvents):
        def epoch(self, record) -> None:
            if record.epoch == 3:
                raise Interrupt

    again = request(tmp_path, dataset, epochs=6, patience=100)
    again = TrainRequest(again.dataset, again.settings, name="again", models_dir=again.models_dir, workers=0)
    with pytest.raises(Interrupt):
        train(again, KillAfterThree())
    assert not again.target.exists()  # nothing half-trained is installed
    resumed = train(TrainRequest(**{**again.__dict__, "resume": True}))
    assert [r.epoch for r in resumed.fit.history] == [1, 2, 3, 4, 5, 6]
    log = (resumed.card.directory / "training.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in log] == [1, 2, 3, 4, 5, 6]  # each epoch once, across the kill
    weights = load_file(resumed.card.weights_path)
    for key, value in reference.items():
        np.testing.assert_array_equal(weights[key], value)
    assert resumed.fit.best_valid == whole.fit.best_valid


def test_resume_with_other_settings_names_the_difference(setup) -> None:
    from mtag.errors import UsageError
    from mtag.train.events import TrainEvents

    tmp_path, dataset = setup

    class KillAfterOne(TrainEvents):
        def epoch(self, record) -> None:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(request(tmp_path, dataset), KillAfterOne())
    changed = request(tmp_path, dataset, lr=0.01)
    with pytest.raises(UsageError, match=r"settings\.lr 0\.05 \(now 0\.01\)"):
        train(TrainRequest(**{**changed.__dict__, "resume": True}))
    with pytest.raises(UsageError, match="unfinished run"):
        train(request(tmp_path, dataset))


def test_an_existing_model_is_not_replaced_without_force(setup) -> None:
    from mtag.errors import UsageError

    tmp_path, dataset = setup
    first = train(request(tmp_path, dataset, epochs=2))
    before = first.card.weights_path.read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        train(request(tmp_path, dataset, epochs=2, seed=1))
    assert first.card.weights_path.read_bytes() == before
    train(TrainRequest(**{**request(tmp_path, dataset, epochs=2, seed=1).__dict__, "force": True}))
    assert first.card.weights_path.read_bytes() != before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.__class__(**{**d.__dict__, "labels": ("low",)}), "two or more"),
        (
            lambda d: d.__class__(**{**d.__dict__, "examples": [e for e in d.examples if e.split != "valid"]}),
            "the valid split is empty",
        ),
    ],
)
def test_untrainable_data_sets_are_refused_before_decoding(setup, change, message) -> None:
    from mtag.errors import UsageError

    tmp_path, dataset = setup
    with pytest.raises(UsageError, match=message):
        train(request(tmp_path, change(dataset)))
    assert not (tmp_path / "cache").exists()


def test_multi_label_data_trains_a_sigmoid_tagger_that_ranks_the_right_labels(setup) -> None:
    """Tracks holding one or two bands of tones, each band a label: sigmoid BCE, selected by PR-AUC."""
    from mtag.data import Dataset, Example
    from tests.audio.synth import write_samples
    from tests.train.helpers import BANDS, RATE

    tmp_path, _ = setup
    rng = np.random.default_rng(0)
    (tmp_path / "multi").mkdir()
    examples = []
    for n in range(36):
        labels = tuple(sorted(rng.choice(["low", "mid", "high"], size=1 + n % 2, replace=False)))
        t = np.arange(3 * RATE) / RATE
        wave = sum(0.2 * np.sin(2 * np.pi * rng.uniform(*BANDS[label]) * t) for label in labels)
        path = write_samples(tmp_path / "multi" / f"{n:02d}.wav", np.asarray(wave, np.float32)[np.newaxis], RATE)
        examples.append(Example(path, labels, ("train", "train", "valid", "test")[n % 4], str(n)))
    dataset = Dataset("multi", tmp_path / "multi", ("low", "mid", "high"), True, examples, "fixed")
    result = train(request(tmp_path, dataset, epochs=30))
    assert result.card.activation == "sigmoid"
    assert result.test["pr_auc"] > 0.9  # chance: the share of positives, about a half
    assert result.fit.best_valid.keys() == {"pr_auc", "roc_auc"}


def test_unreadable_files_are_left_out_and_counted(setup) -> None:
    from dataclasses import replace

    from mtag.data import Example
    from mtag.train.events import TrainEvents

    tmp_path, dataset = setup
    broken = tmp_path / "data" / "low" / "broken.wav"
    broken.write_bytes(b"RIFF this is not audio")
    examples = [*dataset.examples, Example(broken, ("low",), "train", "broken")]
    notes: list[str] = []

    class Notes(TrainEvents):
        def note(self, message: str) -> None:
            notes.append(message)

    result = train(request(tmp_path, replace(dataset, examples=examples), epochs=3), Notes())
    assert result.counts["train"] == 12  # the 12 readable training tracks, not 13
    assert len(notes) == 1 and "1 unreadable file" in notes[0] and "broken.wav" in notes[0]


def test_an_unknown_transfer_point_is_refused_before_decoding(setup) -> None:
    from mtag.errors import UsageError

    tmp_path, dataset = setup
    with pytest.raises(UsageError, match="no transfer point 'pooled'.*penultimate"):
        train(request(tmp_path, dataset, point="pooled"))
    assert not (tmp_path / "cache").exists()
