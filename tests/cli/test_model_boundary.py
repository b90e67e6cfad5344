"""Models declare what they need; decisions come from segments: tag, inspect, runs and the index agree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mtag.cards import LogMelSpec, MfccSpec, MusicnnLogMelSpec, WaveformSpec, read_card
from mtag.catalog import shipped_models_dir
from mtag.nets import registry
from mtag.tags import read_field
from tests.library.helpers import mtag, write_music, write_noise, write_taxonomy
from tests.nets.tiny import TINY, TINY_TARGET, make_model

FRONT_ENDS = {
    "logmel": LogMelSpec(22050, n_fft=1024, hop_length=512, n_mels=32),
    "mfcc": MfccSpec(16000, n_mels=40, n_mfcc=13),
    "waveform": WaveformSpec(8000),
    "musicnn-logmel": MusicnnLogMelSpec(16000, fmax=8000.0),
}


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(registry.ARCHITECTURES, TINY, TINY_TARGET)


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
@pytest.mark.parametrize("kind", list(FRONT_ENDS))
def test_a_model_of_any_front_end_tags_and_inspects_end_to_end(capsys, tmp_path, tiny, kind, activation):
    model = make_model(tmp_path / "model", FRONT_ENDS[kind], activation=activation, window_seconds=1.5)
    song = write_music(tmp_path / "lib" / "song.flac", seconds=5.0)
    code, out, err = mtag(capsys, "inspect", song, "--model", model.directory, "--json", "--threshold", "0")
    assert code == 0, err
    (report,) = json_lines(out)
    assert report["labels"] == ["rockish", "jazzy", "hiss"] and report["window"] == pytest.approx(1.5, abs=0.07)
    scores = np.array([segment["scores"] for segment in report["segments"]])
    assert len(scores) == 3  # 5 s in windows of 1.5 s, tail dropped
    if activation == "softmax":  # one class per window: the card's activation, not always a sigmoid
        np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    else:
        assert np.abs(scores.sum(axis=1) - 1.0).max() > 1e-3
    # the card's genre mapping: "jazzy" writes the table's "Jazz", "rockish" Rock, "hiss" never
    assert set(report["decision"]["genres"]) <= {"Rock", "Jazz"} and report["decision"]["genres"]
    code, out, err = mtag(
        capsys,
        "tag",
        tmp_path / "lib",
        "--model",
        model.directory,
        "--threshold",
        "0",
        "--db",
        tmp_path / "index.db",
        "--workers",
        "0",
        "--json",
    )
    assert code == 0, err
    assert read_field(song, "genre") == ["; ".join(report["decision"]["genres"])]


def test_a_short_track_is_filled_as_the_card_says(capsys, tmp_path, tiny):
    model = make_model(tmp_path / "model", FRONT_ENDS["waveform"], window_seconds=3.0)
    song = write_music(tmp_path / "short.wav", seconds=1.5)
    code, out, err = mtag(capsys, "inspect", song, "--model", model.directory, "--json")
    assert code == 0, err
    (segment,) = json_lines(out)[0]["segments"]
    assert segment["padding"] == "repeat" and segment["end"] == pytest.approx(1.5, abs=0.01)


def test_explain_on_a_model_without_mel_bands_is_a_usage_error(capsys, tmp_path, tiny):
    model = make_model(tmp_path / "model", FRONT_ENDS["mfcc"])
    song = write_music(tmp_path / "song.flac", seconds=3.0)
    code, _, err = mtag(capsys, "inspect", song, "--model", model.directory, "--explain")
    assert code == 2 and "hears mfcc" in err and err.count("\n") == 1


# Decisions from stored segments ------------------------------------------------------------------------

TABLE = """
[genres]
Blues = {}
Noise = {}

[labels.genre]
blues = "Blues"
electronic = "Noise"
"""


@pytest.fixture
def analysed(capsys, tmp_path) -> tuple[Path, Path]:
    """A small library tagged once (replace mode); its folder and index."""
    root, db = tmp_path / "lib", tmp_path / "index.db"
    write_music(root / "a.flac", seconds=9.0, seed=1)
    write_noise(root / "b.wav", seconds=7.0, seed=2)
    write_music(root / "c.mp3", seconds=4.0, seed=3)
    code, _, err = mtag(capsys, "tag", root, "--db", db, "--workers", "0")
    assert code == 0, err
    return root, db


def run_json(capsys, *args) -> dict:
    code, out, err = mtag(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("aggregate", ["mean", "max", "vote"])
def test_a_decision_from_stored_segments_equals_a_fresh_analysis(capsys, tmp_path, analysed, aggregate):
    """Changing --aggregate or the genre table decides again from the index, exactly as analysing again would."""
    root, db = analysed
    table = write_taxonomy(tmp_path / "table.toml", TABLE)
    options = ["--aggregate", aggregate, "--taxonomy", table, "--mode", "replace", "--threshold", "0.1"]
    stored = run_json(capsys, "tag", root, "--db", db, "--workers", "0", "--dry-run", *options)
    assert stored["windows"] == 0 and all(t["reused"] for t in stored["tracks"])  # nothing decoded
    fresh = run_json(capsys, "tag", root, "--db", tmp_path / "fresh.db", "--workers", "0", "--dry-run", *options)
    assert fresh["windows"] > 0 and not any(t["reused"] for t in fresh["tracks"])
    by_path = {t["path"]: (t["status"], t["genres"], t["changes"]) for t in fresh["tracks"]}
    assert {t["path"]: (t["status"], t["genres"], t["changes"]) for t in stored["tracks"]} == by_path
    real = run_json(capsys, "tag", root, "--db", db, "--workers", "0", *options)
    assert real["windows"] == 0 and all(t["reused"] for t in real["tracks"])
    assert {t["path"]: t["genres"] for t in real["tracks"]} == {p: g for p, (_, g, _) in by_path.items()}


def test_runs_lists_what_each_run_did(capsys, tmp_path, analysed):
    root, db = analysed
    run_json(capsys, "tag", root, "--db", db, "--workers", "0", "--aggregate", "max")
    code, out, _ = mtag(capsys, "runs", "--db", db)
    assert code == 0 and out.count("musicnn-msd") == 2 and "finished" in out
    runs = [json.loads(line) for line in mtag(capsys, "runs", "--db", db, "--json")[1].splitlines()]
    assert [r["id"] for r in runs] == [2, 1]
    assert runs[0]["options"]["aggregation"] == "max" and runs[1]["options"]["aggregation"] == "mean"
    digest = read_card(shipped_models_dir() / "musicnn-msd").digest  # the weights, not only the name
    assert runs[0]["summary"]["files"] == 3 and runs[0]["options"]["analysis"].startswith(f"musicnn-msd@{digest}/")


def test_changed_weights_under_the_same_name_are_analysed_again(capsys, tmp_path, analysed, tiny):
    root, db = analysed
    models = tmp_path / "models"
    for seed in (1, 2):
        make_model(models / "mine", FRONT_ENDS["musicnn-logmel"], name="mine", seed=seed)
        result = run_json(
            capsys,
            "tag",
            root,
            "--db",
            db,
            "--workers",
            "0",
            "--model",
            "mine",
            "--threshold",
            "0",
            "--mode",
            "replace",
        )
        # the second time the index holds an analysis by "mine", but by other weights: never taken for it
        assert result["windows"] > 0 and not any(t["reused"] or t["status"] == "skipped" for t in result["tracks"])
    again = run_json(
        capsys, "tag", root, "--db", db, "--workers", "0", "--model", "mine", "--threshold", "0", "--mode", "replace"
    )
    assert again["windows"] == 0 and again["statuses"] == {"skipped": 3}


@pytest.fixture(autouse=True)
def _model_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MTAG_MODEL_PATH", str(tmp_path / "models"))


def test_a_tampered_copy_of_a_shipped_model_is_refused_not_used(capsys, tmp_path):
    """A user's copy with a changed classifier and a stale sha256 used to load and tag without a word."""
    from safetensors.numpy import load, save

    copy = Path(tmp_path / "data" / "mtag" / "models" / "musicnn-msd")
    shutil.copytree(shipped_models_dir() / "musicnn-msd", copy)
    tensors = load((copy / "weights.safetensors").read_bytes())
    tensors["classifier.bias"] = tensors["classifier.bias"] + 1.0
    (copy / "weights.safetensors").write_bytes(save(tensors))
    song = write_music(tmp_path / "lib" / "song.flac", seconds=4.0)
    code, out, err = mtag(capsys, "tag", tmp_path / "lib", "--db", tmp_path / "index.db", "--workers", "0")
    assert code == 1 and "weights do not match the model card" in err and str(copy / "weights.safetensors") in err
    assert err.count("\n") == 1 and read_field(song, "genre") == []


def test_tracks_analysed_by_mtag_0_3_are_readable_and_analysed_once_more(capsys, tmp_path, analysed):
    """Old keys name the model, not its weights: they are never taken as current, but stay readable."""
    import sqlite3

    root, db = analysed
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE tracks SET analysis_key = 'musicnn-msd/fp32/w187/h187/all/mean'")
    code, out, err = mtag(capsys, "inspect", root / "a.flac", "--from-index", "--db", db, "--json")
    assert code == 0, err
    (stored,) = json_lines(out)
    assert stored["window"] == pytest.approx(2.992) and stored["decision"]["aggregation"] == "mean"
    again = run_json(capsys, "tag", root, "--db", db, "--workers", "0")
    assert again["windows"] > 0 and not any(t["status"] == "skipped" for t in again["tracks"])
    assert run_json(capsys, "tag", root, "--db", db, "--workers", "0")["statuses"] == {"skipped": 3}
