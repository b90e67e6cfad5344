"""Finding models: the search path, shadowing, and broken model folders."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from mtag.catalog import find_model, list_models, shipped_models_dir
from mtag.errors import ModelError, UsageError
from mtag.nets.tagger import Tagger


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("MTAG_MODEL_PATH", str(folder))
    return folder


def copy_model(src: str, dest, **changes):
    shutil.copytree(shipped_models_dir() / src, dest)
    meta = json.loads((dest / "model.json").read_text())
    meta.update(changes)
    (dest / "model.json").write_text(json.dumps(meta))
    return dest


def test_models_on_the_search_path_are_listed_and_shadow_shipped_ones(user_models):
    copy_model("vgg-mtt", user_models / "mine", name="my-tagger")
    copy_model("vgg-msd", user_models / "override", name="musicnn-msd")
    names = [card.name for card in list_models()]
    assert names.count("musicnn-msd") == 1 and "my-tagger" in names
    assert find_model("musicnn-msd").directory == user_models / "override"
    assert find_model(str(user_models / "mine")).name == "my-tagger"


def test_unknown_name_lists_what_exists():
    with pytest.raises(UsageError, match="available: .*musicnn-mtt"):
        find_model("no-such-model")


def test_unreadable_model_json_names_the_file(user_models):
    broken = user_models / "broken"
    broken.mkdir()
    (broken / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"broken/model\.json: unreadable model card"):
        list_models()


@pytest.mark.parametrize(
    "architecture",
    [{"name": "musicnn", "params": {}}, {"name": "vgg", "params": {"filters": 64}}],
    ids=["other-layers", "other-shapes"],
)
def test_weights_that_do_not_fit_the_architecture_are_a_clear_error(user_models, architecture):
    card = find_model(str(copy_model("vgg-mtt", user_models / "wrong", name="wrong", architecture=architecture)))
    with pytest.raises(ModelError, match=f"weights do not fit architecture '{architecture['name']}'"):
        Tagger(card, torch.device("cpu"))
