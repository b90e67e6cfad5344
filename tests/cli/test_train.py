"""``mtag train`` end to end: a folder per genre in, a model out that tag, inspect and models use by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtag.tags.formats import read_field
from tests.library.helpers import isolate_user_folders, mtag
from tests.train.helpers import BANDS, tiny_base, tone_folder, tone_track

TRAIN = ("train", "--from", "tiny-base", "--epochs", "15", "--lr", "0.05", "--batch-size", "8")
FOLDER = (*TRAIN, "--dataset", "folder")


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_user_folders(tmp_path, monkeypatch)
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    tiny_base(tmp_path / "base", monkeypatch)
    return tone_folder(tmp_path / "genres", {"blues": "low", "metal": "high"})


def test_a_trained_model_tags_and_inspects_by_name(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = mtag(capsys, *FOLDER, "--data-dir", data, "--name", "tones", "--workers", "0", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["model"] == "tones" and record["test"]["accuracy"] == 1.0
    folder = tmp_path / "data" / "mtag" / "models" / "tones"
    assert (folder / "model.json").is_file() and (folder / "training.jsonl").is_file()
    card = json.loads((folder / "model.json").read_text())
    assert card["genres"] == {"blues": "Blues", "metal": "Metal"}
    assert card["training"]["dataset"] == "folder" and card["metrics"]["test_accuracy"] == 1.0

    code, out, _ = mtag(capsys, "models", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["tones"]["metric"] == "test acc. 1.000" and rows["tones"]["source"] == "folder"

    song = tone_track(tmp_path / "music" / "song.flac", BANDS["high"], 4.0, seed=999)
    code, out, err = mtag(capsys, "tag", song.parent, "--model", "tones", "--db", tmp_path / "index.db")
    assert code == 0, err
    assert read_field(song, "genre") == ["Metal"]
    code, out, err = mtag(capsys, "inspect", song, "--model", "tones", "--json")
    assert code == 0, err
    assert json.loads(out)["decision"]["genres"] == ["Metal"]


def test_an_existing_model_name_is_refused_before_any_work(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert mtag(capsys, *FOLDER, "--data-dir", data, "--name", "tones", "--epochs", "1", "--workers", "0")[0] == 0
    code, _, err = mtag(capsys, *FOLDER, "--data-dir", data, "--name", "tones", "--workers", "0")
    assert code == 2 and "already exists" in err and "--force" in err


def test_a_wrong_data_dir_says_which_layout_was_expected(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("not music")
    code, _, err = mtag(capsys, "train", "--dataset", "gtzan", "--data-dir", elsewhere, "--from", "tiny-base")
    assert code == 2
    assert "genres/" in err and err.count("\n") <= 2


def test_more_gpus_than_the_machine_has_is_a_usage_error(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    code, _, err = mtag(capsys, *FOLDER, "--data-dir", data, "--gpus", str(torch.cuda.device_count() + 2))
    assert code == 2 and "--gpus" in err and "GPU" in err


def test_ctrl_c_says_how_to_resume_and_resume_finishes_the_run(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mtag.cli.train_view import TrainView

    shown = TrainView.epoch

    def interrupt_after_two(self: TrainView, record) -> None:  # type: ignore[no-untyped-def]
        shown(self, record)
        if record.epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(TrainView, "epoch", interrupt_after_two)
    args = (*FOLDER, "--data-dir", data, "--name", "tones", "--workers", "0", "--epochs", "4", "--patience", "10")
    code, _, err = mtag(capsys, *args)
    assert code == 130 and "after epoch 2" in err and "--resume" in err
    monkeypatch.setattr(TrainView, "epoch", shown)
    code, out, err = mtag(capsys, *args, "--resume")
    assert code == 0, err
    assert "epoch   3" in out and "epoch   1" not in out
    assert (tmp_path / "data" / "mtag" / "models" / "tones" / "model.json").is_file()


def test_a_tagged_library_trains_a_multi_label_model_from_its_own_genre_tags(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user's collection: labels from genre tags (spelt two ways), one album per group, sigmoid outputs."""
    import numpy as np

    from tests.audio.synth import write_samples
    from tests.train.helpers import RATE

    library = tmp_path / "Music"
    rng = np.random.default_rng(5)
    for genre, spelling, band in (("blues", "Blues", "low"), ("hiphop", "Hip Hop", "high")):
        for album in range(6):
            for track in range(2):
                t = np.arange(3 * RATE) / RATE
                wave = sum(0.2 * np.sin(2 * np.pi * rng.uniform(*BANDS[band]) * t) for _ in range(3))
                tags = {"genre": spelling if track else genre, "album": f"{genre} {album}", "artist": f"{genre} band"}
                path = library / genre / f"{album}-{track}.flac"
                path.parent.mkdir(parents=True, exist_ok=True)
                write_samples(path, np.asarray(wave, np.float32)[np.newaxis], RATE, metadata=tags)
    code, out, err = mtag(
        capsys,
        *TRAIN,
        "--dataset",
        "library",
        "--data-dir",
        library,
        "--min-tracks",
        "5",
        "--seed",
        "3",
        "--name",
        "mine",
        "--workers",
        "0",
        "--json",
    )
    assert code == 0, err
    record = json.loads(out)
    card = json.loads((tmp_path / "data" / "mtag" / "models" / "mine" / "model.json").read_text())
    assert card["activation"] == "sigmoid" and card["labels"] == ["Blues", "Hip-Hop"]  # "hiphop", "Hip Hop" are one
    assert record["test"]["pr_auc"] > 0.9
