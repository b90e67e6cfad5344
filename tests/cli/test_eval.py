"""``mtag eval`` end to end: models side by side, the report folder, the record, and the refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.data.layouts import filtered_clips, gtzan_archive
from tests.evaluate.helpers import band_folder, band_model, random_model
from tests.library.helpers import mtag

EVAL = ("eval", "bands-model", "--dataset", "folder", "--part", "all", "--workers", "0", "--bootstrap", "50")


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    band_model(tmp_path / "models", monkeypatch)
    random_model(tmp_path / "models")
    return band_folder(tmp_path / "bands")


def test_two_models_side_by_side_with_a_report_that_parses(data, tmp_path, capsys):
    report = tmp_path / "report"
    code, out, err = mtag(capsys, *EVAL, "bands-random", "--data-dir", data, "--study", "codec", "--report", report)
    assert code == 0, err
    assert "bands-model" in out and "bands-random" in out and "study codec" in out and "telephone" in out
    metrics = json.loads((report / "metrics.json").read_text())
    assert [m["model"] for m in metrics["models"]] == ["bands-model", "bands-random"]
    assert metrics["models"][0]["figures"]["accuracy"] == 1.0 and metrics["decoded"] == 8
    telephone = [p for p in metrics["models"][0]["studies"]["codec"] if p["condition"] == "telephone"]
    assert telephone[0]["accuracy"] == 0.5
    rows = list(csv.DictReader((report / "predictions.csv").open()))
    assert len(rows) == 2 * 8 * 6  # models x tracks x (baseline + 5 codec conditions)
    assert {"path", "true", "predicted", "correct", "Low", "High"} <= set(rows[0])
    text = (report / "report.md").read_text()
    assert "## bands-model" in text and "figures/study-codec.png" in text
    for png in ("bands-model-confusion.png", "bands-random-confusion.png", "study-codec.png"):
        assert (report / "figures" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_output_and_models_show_lists_the_measured_figure(data, capsys):
    code, out, err = mtag(capsys, *EVAL, "--data-dir", data, "--json")
    assert code == 0, err
    assert json.loads(out)["models"][0]["figures"]["accuracy"] == 1.0
    code, out, _ = mtag(capsys, "models", "show", "bands-model")
    assert code == 0 and "folder" in out and "accuracy 1.000" in out
    code, out, _ = mtag(capsys, "models", "show", "bands-model", "--json")
    assert json.loads(out)["evaluations"][0]["value"] == 1.0

    code, out, err = mtag(capsys, *EVAL, "--data-dir", data, "--json")  # the same evaluation again
    assert code == 0, err
    code, out, _ = mtag(capsys, "models", "show", "bands-model")
    assert "1 evaluation(s)" in out and out.count("/all: accuracy 1.000") == 1


def test_an_unknown_study_is_one_line_and_exit_2_before_any_decoding(data, tmp_path, capsys):
    code, out, err = mtag(capsys, *EVAL, "--data-dir", data, "--study", "length,speed")
    assert code == 2 and "unknown study 'speed'" in err and len(err.strip().splitlines()) <= 2, err
    assert not (tmp_path / "cache").exists()


def test_an_empty_split_is_refused_before_any_decoding(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    root = gtzan_archive(tmp_path / "gtzan", filtered_clips({"train": 1})["train"])  # no test clip at all
    code, _, err = mtag(capsys, "eval", "musicnn-msd", "--dataset", "gtzan", "--data-dir", root)
    assert code == 2 and "the test split of gtzan has no tracks" in err, err
    assert not (tmp_path / "cache").exists()


def test_a_model_with_no_genre_in_common_is_refused(data, tmp_path, capsys):
    from tests.evaluate.helpers import FRONTEND
    from tests.nets.tiny import make_model

    make_model(tmp_path / "models" / "rock-jazz", FRONTEND, name="rock-jazz")  # Rock and Jazz only
    code, _, err = mtag(capsys, "eval", "rock-jazz", "--dataset", "folder", "--data-dir", data, "--part", "all")
    assert code == 2 and "no label in common" in err
    assert not (tmp_path / "cache").exists()


def test_an_unwritable_report_folder_is_refused_before_decoding(data, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = mtag(capsys, *EVAL, "--data-dir", data, "--report", blocker / "report")
    assert code == 2 and "cannot write the report" in err
    assert not (tmp_path / "cache").exists()


def test_an_unreadable_track_is_listed_and_exits_1(data, tmp_path, capsys):
    (data / "low" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    report = tmp_path / "report"
    code, _, err = mtag(capsys, *EVAL, "--data-dir", data, "--report", report)
    assert code == 1 and "unreadable" in err
    assert "broken.wav" in (report / "report.md").read_text()
    assert json.loads((report / "metrics.json").read_text())["models"][0]["figures"]["accuracy"] == 1.0


def test_the_analysis_studies_run_on_the_baseline_and_land_in_the_report(data, tmp_path, capsys):
    report = tmp_path / "report"
    study = ("--study", "rare,cross,characteristics")
    code, out, err = mtag(capsys, *EVAL, "--data-dir", data, *study, "--report", report)
    assert code == 0, err
    analyses = json.loads((report / "metrics.json").read_text())["models"][0]["analyses"]
    assert {c["class"]: c["rare"] for c in analyses["rare"]["classes"]} == {"High": True, "Low": False}
    assert analyses["cross"]["trained_on"] == "bands" and analyses["cross"]["evaluated_on"] == "folder"
    names = {p["property"] for p in analyses["characteristics"]["properties"]}
    assert {"loudness_lufs", "bandwidth_hz", "duration_s"} <= names
    assert analyses["worst_tracks"] == []  # the band model gets every track right
    text = (report / "report.md").read_text()
    assert "Rare genres" in text and "Track characteristics" in text
    assert "Rare genres" in out


def test_the_rare_study_refuses_a_model_without_training_counts_before_decoding(data, tmp_path, capsys):
    code, _, err = mtag(capsys, *EVAL, "bands-random", "--data-dir", data, "--study", "rare")
    assert code == 2 and "bands-random" in err and "training tracks per label" in err
    assert not (tmp_path / "cache").exists()
