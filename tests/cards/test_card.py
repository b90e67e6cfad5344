"""The model card: read, checked and written in one place; weights are the card's or refused."""

from __future__ import annotations

import json
import shutil

import pytest

from mtag.cards import CARD_FORMAT, LogMelSpec, WaveformSpec, parse_card, read_card, read_frontend, write_card
from mtag.catalog import shipped_models_dir
from mtag.errors import ModelError
from tests.nets.tiny import make_model


def test_a_card_written_reads_back_equal(tmp_path):
    card = make_model(tmp_path / "m", LogMelSpec(22050, n_fft=1024, hop_length=512, n_mels=64, compression="log1p"))
    again = read_card(tmp_path / "m")
    assert again == card and again.frontend.describe().startswith("22050 Hz mono, log-mel (log1p): 64 mel bands")
    assert json.loads((tmp_path / "m" / "model.json").read_text())["format"] == CARD_FORMAT


def test_shipped_cards_say_what_the_models_need():
    msd = read_card(shipped_models_dir() / "musicnn-msd")
    assert msd.frontend.kind == "musicnn-logmel" and msd.frontend.framing.hop == 256
    assert (msd.input.window_samples, msd.input.fixed_length, msd.input.short_input) == (47872, False, "repeat")
    assert read_card(shipped_models_dir() / "vgg-msd").input.fixed_length


def test_a_format_1_card_still_reads_as_the_musicnn_recipe(tmp_path):
    data = json.loads((shipped_models_dir() / "musicnn-msd" / "model.json").read_text())
    old = {k: v for k, v in data.items() if k not in ("frontend", "input")}
    old["format"] = 1
    old["preprocessing"] = {
        "sample_rate": 16000,
        "n_fft": 512,
        "hop_length": 256,
        "n_mels": 96,
        "fmin": 0.0,
        "fmax": 8000.0,
        "float16_rounding": True,
        "compression": "logC",
        "window_frames": 187,
        "hop_frames": 187,
        "short_input": "repeat",
    }
    card = parse_card(old)
    current = read_card(shipped_models_dir() / "musicnn-msd")
    assert (card.frontend, card.input) == (current.frontend, current.input)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 99}, "has format 99; this mtag reads formats up to"),
        ({"labels": None}, "lacks the field 'labels'"),
        ({"activation": "relu"}, "field 'activation' must be one of sigmoid, softmax"),
        ({"frontend": {"kind": "cqt", "sample_rate": 16000}}, "field 'frontend': unknown kind 'cqt'"),
        ({"frontend": {"kind": "logmel", "sample_rate": 16000, "n_mel": 3}}, "has no setting 'n_mel'"),
        ({"input": {"window_samples": 1000}}, "whole frames of 256 samples"),
        ({"weights": {"file": "../w.safetensors", "sha256": "0" * 64}}, "'weights.file' must be a file name"),
        ({"genres": {"polka": "Polka"}}, "field 'genres' maps labels"),
    ],
)
def test_a_bad_card_is_refused_naming_its_file_and_field(tmp_path, change, message):
    folder = tmp_path / "bad"
    shutil.copytree(shipped_models_dir() / "musicnn-msd", folder)
    data = json.loads((folder / "model.json").read_text())
    data.update({k: v for k, v in change.items() if v is not None})
    for key in [k for k, v in change.items() if v is None]:
        del data[key]
    (folder / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match=message) as raised:
        read_card(folder)
    assert str(folder / "model.json") in str(raised.value)


def test_frontend_settings_are_checked():
    with pytest.raises(ValueError, match="fmax"):
        read_frontend({"kind": "logmel", "sample_rate": 16000, "fmax": 9000.0})
    with pytest.raises(ValueError, match="sample_rate must be int"):
        read_frontend({"kind": "waveform", "sample_rate": "16k"})
    assert read_frontend({"kind": "waveform", "sample_rate": 16000}) == WaveformSpec(16000)


def test_weights_that_are_not_the_cards_are_refused_with_a_line_naming_the_file(tmp_path):
    from mtag.nets.tagger import load_tagger

    folder = tmp_path / "copy"
    shutil.copytree(shipped_models_dir() / "musicnn-msd", folder)
    weights = folder / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # one changed byte of the last tensor: a model that would load and tag without a word
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="weights do not match the model card") as raised:
        load_tagger(str(folder), "cpu")
    assert str(weights) in str(raised.value)


def test_write_card_replaces_the_file_whole(tmp_path):
    card = make_model(tmp_path / "m", WaveformSpec(16000))
    write_card(card, tmp_path / "m")
    assert [p.name for p in (tmp_path / "m").iterdir() if p.name.startswith(".")] == []
