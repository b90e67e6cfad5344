"""Deciding genres from label scores: merging, ranking, cut-offs, parents, and the reference tracks."""

from __future__ import annotations

import numpy as np
import pytest

from mtag.cards import read_card
from mtag.catalog import shipped_models_dir
from mtag.taxonomy import DEFAULT_THRESHOLD, Choice

LABELS = ["electronic", "electronica", "rock", "heavy metal", "metal", "female vocalists", "80s", "guitar", "sad"]


def decide(taxonomy, scores, **options) -> list[Choice]:
    return taxonomy.decide(LABELS, np.array(scores, dtype=float), **options)


def names(choices: list[Choice]) -> list[str]:
    return [choice.name for choice in choices]


def test_aliases_merge_into_one_genre_scored_as_the_best_label(shipped):
    (electronic,) = decide(shipped, [0.3, 0.6, 0, 0, 0, 0, 0, 0, 0])
    assert electronic.name == "Electronic"
    assert electronic.score == pytest.approx(0.6)
    assert electronic.labels == ("electronica", "electronic")  # both carried it, best first


def test_label_below_threshold_does_not_carry_its_merged_genre(shipped):
    (electronic,) = decide(shipped, [0.6, 0.1, 0, 0, 0, 0, 0, 0, 0])
    assert electronic.labels == ("electronic",)


def test_best_first_and_at_most_top(shipped):
    scores = [0.5, 0, 0.9, 0.7, 0.3, 0, 0, 0, 0]
    assert names(decide(shipped, scores)) == ["Rock", "Heavy Metal", "Electronic"]
    assert names(decide(shipped, scores, top=1)) == ["Rock"]
    assert names(decide(shipped, scores, top=10)) == ["Rock", "Heavy Metal", "Electronic", "Metal"]


def test_threshold_is_inclusive_and_cuts_the_rest(shipped):
    scores = [0.5, 0, 0.9, 0.7, 0.3, 0, 0, 0, 0]
    assert names(decide(shipped, scores, threshold=0.7)) == ["Rock", "Heavy Metal"]
    assert decide(shipped, scores, threshold=0.95) == []


def test_with_parents_adds_ancestors_after_the_child_without_counting_them(shipped):
    choices = decide(shipped, [0, 0, 0.4, 0.8, 0, 0, 0, 0, 0], top=1, with_parents=True)
    assert names(choices) == ["Heavy Metal", "Metal"]
    metal = choices[1]
    assert metal.implied and metal.implied_by == "Heavy Metal"
    assert metal.score == pytest.approx(0.8) and metal.labels == ("heavy metal",)
    assert not choices[0].implied and choices[0].parent == "Metal"


def test_with_parents_does_not_repeat_a_parent_chosen_on_its_own(shipped):
    choices = decide(shipped, [0, 0, 0, 0.8, 0.5, 0, 0, 0, 0], with_parents=True)
    assert names(choices) == ["Heavy Metal", "Metal"]
    assert not choices[1].implied and choices[1].score == pytest.approx(0.5)


def test_non_genre_labels_never_come_out_as_genres(shipped):
    choices = decide(shipped, [0, 0, 0, 0, 0, 0.99, 0.99, 0.99, 0.99], threshold=0.0, top=50)
    assert not {"Female Vocals", "1980s", "Guitar", "Sad", "female vocalists", "80s", "guitar"} & set(names(choices))
    assert {choice.kind for choice in choices} == {"genre"}


def test_moods_are_decided_with_kind_mood(shipped):
    (sad,) = decide(shipped, [0.9, 0, 0.9, 0, 0, 0, 0, 0, 0.6], kind="mood")
    assert (sad.name, sad.kind, sad.labels) == ("Sad", "mood", ("sad",))


def test_unknown_labels_are_never_genres(shipped):
    assert shipped.decide(["shoegaze"], np.array([0.99])) == []
    (other,) = shipped.decide(["shoegaze"], np.array([0.99]), kind="other")
    assert other.name == "shoegaze"


def test_scores_must_match_labels(shipped):
    with pytest.raises(ValueError, match="one per label"):
        shipped.decide(LABELS, np.zeros((2, len(LABELS))))


# The original musicnn's taggrams (shared/reference/musicnn): per-window scores, decided on their track mean.
REFERENCE_DECISIONS = [
    ("rock.00000", "musicnn-msd", "MSD_musicnn", "Rock"),
    ("rock.00000", "vgg-msd", "MSD_vgg", "Rock"),
    ("rock.00000", "vgg-mtt", "MTT_vgg", "Rock"),
    ("techno", "musicnn-msd", "MSD_musicnn", "Electronic"),
    ("techno", "musicnn-mtt", "MTT_musicnn", "Techno"),
]


@pytest.mark.parametrize(("stem", "model", "reference_model", "genre"), REFERENCE_DECISIONS)
def test_default_threshold_finds_the_genre_of_real_music(reference, shipped, stem, model, reference_model, genre):
    scores = np.load(reference / f"{stem}.{reference_model}.taggram.npy").mean(axis=0)
    labels = read_card(shipped_models_dir() / model).labels
    chosen = shipped.decide(labels, scores, threshold=DEFAULT_THRESHOLD)
    assert chosen[0].name == genre


@pytest.mark.parametrize(("model", "reference_model"), [("musicnn-msd", "MSD_musicnn"), ("musicnn-mtt", "MTT_musicnn")])
def test_default_threshold_finds_nothing_in_silence(reference, shipped, model, reference_model):
    scores = np.load(reference / f"silence_5s.{reference_model}.taggram.npy").mean(axis=0)
    labels = read_card(shipped_models_dir() / model).labels
    assert shipped.decide(labels, scores) == []
    assert shipped.decide(labels, scores, kind="mood") == []
