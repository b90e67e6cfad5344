"""The genre table: the shipped one covers every model label, user files override it, mistakes are named."""

from __future__ import annotations

import pytest

from mtag.cards import read_card
from mtag.catalog import shipped_models_dir
from mtag.errors import UsageError
from mtag.taxonomy import KINDS, load_taxonomy
from tests.reference import MODELS

SMALL_TABLE = """
[genres]
Shoegaze = {}
[labels.genre]
rock = "Shoegaze"
"""


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_label_of_every_shipped_model_is_in_the_table(shipped, model):
    labels = read_card(shipped_models_dir() / model).labels
    assert shipped.unknown_labels(labels) == []
    assert all(shipped.entry(label).kind in KINDS for label in labels)


@pytest.mark.parametrize(
    ("label", "kind", "name"),
    [
        ("rnb", "genre", "R&B"),
        ("Hip-Hop", "genre", "Hip-Hop"),
        ("electronica", "genre", "Electronic"),
        ("heavy metal", "genre", "Heavy Metal"),
        ("classic", "genre", "Classical"),
        ("Mellow", "mood", "Mellow"),
        ("80s", "era", "1980s"),
        ("female vocalists", "voice", "Female Vocals"),
        ("no vocals", "voice", "Instrumental"),
        ("guitar", "instrument", "Guitar"),
        ("fast", "other", "Fast"),
        ("catchy", "other", "Catchy"),
    ],
)
def test_shipped_labels_have_the_expected_meaning(shipped, label, kind, name):
    entry = shipped.entry(label)
    assert (entry.kind, entry.name) == (kind, name)


def test_labels_match_case_sensitively(shipped):
    assert shipped.entry("Mellow").kind == "mood"
    assert shipped.entry("mellow").kind == "other"
    assert shipped.unknown_labels(["Mellow", "mellow"]) == ["mellow"]


def test_the_shipped_table_maps_only_labels_the_shipped_models_have(shipped):
    known = {label for model in MODELS for label in read_card(shipped_models_dir() / model).labels}
    assert shipped.foreign_labels(known) == []
    assert shipped.foreign_labels(known - {"Mellow", "rock"}) == ["Mellow", "rock"]


def test_shipped_hierarchy(shipped):
    assert shipped.ancestors("Heavy Metal") == ("Metal",)
    assert shipped.ancestors("Hard Rock") == ("Rock",)
    assert shipped.ancestors("Techno") == ("Electronic",)
    assert shipped.ancestors("Rock") == ()
    assert shipped.path is None


def test_explicit_file_overrides_the_shipped_table(tmp_path, no_user_table):
    path = tmp_path / "mine.toml"
    path.write_text(SMALL_TABLE, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.path == path
    assert taxonomy.entry("rock").name == "Shoegaze"
    assert taxonomy.entry("pop").kind == "other"  # not in the user's table: never a genre


def test_user_config_file_overrides_the_shipped_table(no_user_table):
    (no_user_table / "mtag").mkdir()
    (no_user_table / "mtag" / "genres.toml").write_text(SMALL_TABLE, encoding="utf-8")
    taxonomy = load_taxonomy()
    assert taxonomy.path == no_user_table / "mtag" / "genres.toml"
    assert taxonomy.entry("rock").name == "Shoegaze"


def test_explicit_file_wins_over_user_config(tmp_path, no_user_table):
    (no_user_table / "mtag").mkdir()
    (no_user_table / "mtag" / "genres.toml").write_text("not = [valid", encoding="utf-8")
    path = tmp_path / "mine.toml"
    path.write_text(SMALL_TABLE, encoding="utf-8")
    assert load_taxonomy(path).entry("rock").name == "Shoegaze"


GOOD_GENRES = '[genres]\nRock = {}\nMetal = {}\n"Heavy Metal" = { parent = "Metal" }\n'


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[genres]\nRock = {}\n[labels.genre]\nrock = "Rock"\nbroken = \n', "line 5"),
        (GOOD_GENRES + 'Doom = { parent = "Metl" }\n[labels.genre]\nrock = "Rock"', "'Metl', which is not a genre"),
        (
            '[genres]\nA = { parent = "B" }\nB = { parent = "C" }\nC = { parent = "A" }\n[labels.genre]\nx = "A"',
            "loop: A -> B -> C -> A",
        ),
        (GOOD_GENRES + '[labels.genre]\nrock = "Rokc"', "'Rokc', which is not in [genres]"),
        (GOOD_GENRES + '[labels.genre]\nrock = "Rock"\n[labels.mood]\nrock = "Rocking"', "both [labels.genre]"),
        (GOOD_GENRES + '[labels.genre]\nrock = "Rock"\n[labels.feeling]\nsad = "Sad"', "[labels.feeling]"),
        (GOOD_GENRES + '[label.genre]\nrock = "Rock"', "unknown section [label]"),
        ('[genres]\nRock = "Pop"\n[labels.genre]\nrock = "Rock"', "'Rock' must be a table"),
        (GOOD_GENRES + 'Punk = { parnet = "Rock" }\n[labels.genre]\nrock = "Rock"', "unknown key 'parnet'"),
        (GOOD_GENRES + "[labels.genre]\nrock = 1", "must be a string"),
        (GOOD_GENRES + '[labels.genre]\nrock = " Rock"', "not a usable name"),
        (GOOD_GENRES + '[labels.mood]\nsad = "Sad"', "no label is mapped to a genre"),
    ],
    ids=[
        "toml-syntax",
        "unknown-parent",
        "cycle",
        "undefined-genre",
        "label-twice",
        "unknown-kind",
        "unknown-section",
        "genre-not-table",
        "genre-typo-key",
        "value-not-string",
        "padded-name",
        "no-genres",
    ],
)
def test_malformed_table_is_a_usage_error_naming_the_file(tmp_path, text, complaint):
    path = tmp_path / "genres.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_taxonomy(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert complaint in message
    assert "\n" not in message


def test_missing_explicit_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such genre table"):
        load_taxonomy(tmp_path / "absent.toml")


def test_file_that_is_not_utf8_is_a_usage_error(tmp_path):
    path = tmp_path / "genres.toml"
    path.write_bytes("[genres]\nMötorhead = {}\n".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        load_taxonomy(path)
