"""``mtag train --arch``: a network trained from scratch through the CLI is a model tag and models use by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtag.tags.formats import read_field
from tests.library.helpers import mtag
from tests.train.helpers import BANDS, tiny_base, tone_folder, tone_track
from tests.train.scratch_nets import register_tinywave

SCRATCH = ("train", "--dataset", "folder", "--arch", "cnn1d", "--epochs", "8", "--batch-size", "8", "--workers", "0")


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    return tone_folder(tmp_path / "genres", {"blues": "low", "metal": "high"})


def test_cnn1d_from_scratch_tags_a_file_and_lists_its_size(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = mtag(capsys, *SCRATCH, "--data-dir", data, "--accumulate", "2", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["model"] == "folder-cnn1d" and record["test"]["accuracy"] >= 0.75
    card = json.loads((tmp_path / "data" / "mtag" / "models" / "folder-cnn1d" / "model.json").read_text())
    assert card["architecture"] == {"name": "cnn1d", "params": {"n_mels": 64, "n_labels": 2}}
    assert card["training"]["hyperparameters"]["accumulate"] == 2 and "base" not in card["source"]
    parameters = card["profile"]["parameters"]

    code, out, _ = mtag(capsys, "models", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["folder-cnn1d"]["parameters"] == parameters and rows["folder-cnn1d"]["macs_per_window"] > 0
    code, out, _ = mtag(capsys, "models")
    assert "params" in out and f"{parameters / 1000:.3g}k" in out
    code, out, _ = mtag(capsys, "models", "show", "folder-cnn1d")
    assert "MACs per window" in out and "windows/s on cpu" in out

    song = tone_track(tmp_path / "music" / "song.flac", BANDS["high"], 4.0, seed=999)
    code, out, err = mtag(capsys, "tag", song.parent, "--model", "folder-cnn1d", "--db", tmp_path / "index.db")
    assert code == 0, err
    assert read_field(song, "genre") == ["Metal"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--arch", "nope"), "unknown architecture 'nope'"),
        (("--arch", "cnn1d", "--from", "tiny-base"), "--arch and --from cannot be used together"),
        (("--arch", "cnn1d", "--n-mels", "0"), "--n-mels must be at least 1"),
        (("--arch", "tinywave", "--n-mels", "32"), "--n-mels applies to spectrogram architectures only"),
        (("--from", "tiny-base", "--frontend", "mfcc"), "--frontend applies to --arch only"),
        (("--arch", "cnn1d", "--param", "channels"), "--param 'channels' must be NAME=VALUE"),
        (("--arch", "cnn1d", "--param", "width=3"), "has no parameter 'width'"),
        (("--arch", "cnn1d", "--frontend", "mfcc", "--n-mels", "8"), "n_mfcc must be between 1 and n_mels (8)"),
    ],
)
def test_unusable_options_are_one_usage_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: tuple[str, ...],
    message: str,
) -> None:
    tiny_base(tmp_path / "base", monkeypatch)
    register_tinywave(monkeypatch)
    nowhere = tmp_path / "nowhere"  # refused before the data set is looked for
    code, out, err = mtag(capsys, "train", "--dataset", "folder", "--data-dir", nowhere, "--workers", "0", *options)
    assert code == 2 and message in err
    assert err.count("\n") <= 2 and "Traceback" not in err
    assert not (tmp_path / "data" / "mtag" / "models").exists()


def test_param_overrides_the_recipe(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = (*SCRATCH, "--data-dir", data, "--epochs", "1", "--param", "channels=16", "--param", "layers=2")
    code, out, err = mtag(capsys, *args, "--frontend", "mfcc", "--n-mfcc", "13", "--name", "small")
    assert code == 0, err
    card = json.loads((tmp_path / "data" / "mtag" / "models" / "small" / "model.json").read_text())
    assert card["architecture"]["params"] == {"channels": 16, "layers": 2, "n_mels": 13, "n_labels": 2}
    assert card["frontend"]["kind"] == "mfcc" and card["frontend"]["n_mfcc"] == 13


def test_augmentation_applies_to_a_network_trained_from_scratch(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--arch trains on segments, so on-the-fly augmentation is not refused as on the frozen path."""
    args = (*SCRATCH, "--data-dir", data, "--epochs", "1", "--augment", "noise:snr=10,specaugment,mixup:0.2")
    code, out, err = mtag(capsys, *args)
    assert code == 0, err
    card = json.loads((tmp_path / "data" / "mtag" / "models" / "folder-cnn1d" / "model.json").read_text())
    assert {"noise", "specaugment", "mixup"} <= set(
        json.dumps(card["training"]["augmentation"]).replace('"', " ").split()
    )


def test_specaugment_for_a_waveform_network_is_refused_before_any_decoding(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    register_tinywave(monkeypatch)
    args = ("train", "--dataset", "folder", "--data-dir", data, "--arch", "tinywave", "--workers", "0")
    code, out, err = mtag(capsys, *args, "--augment", "noise,specaugment")
    assert code == 2 and "masks a spectrogram" in err and err.count("\n") <= 2
    assert not (tmp_path / "cache").exists()  # nothing was decoded
