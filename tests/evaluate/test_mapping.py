"""Data-set labels meet model labels through the genre table; the coverage says what could not be measured."""

from __future__ import annotations

import numpy as np

from mtag.catalog import find_model
from mtag.data.load import load_dataset
from mtag.evaluate.mapping import map_labels
from tests.data.layouts import filtered_clips, gtzan_archive


def test_musicnn_msd_on_a_gtzan_folder_cannot_express_classical_disco_or_reggae(tmp_path):
    clips = filtered_clips({"test": 1})
    dataset = load_dataset("gtzan", gtzan_archive(tmp_path / "gtzan", clips["test"]))
    mapping = map_labels(find_model("musicnn-msd"), dataset)
    assert set(mapping.uncovered) == {"classical", "disco", "reggae"}
    assert "Hip-Hop" in mapping.shared and "Rock" in mapping.shared  # GTZAN's "hiphop" is the table's Hip-Hop


def test_aliases_score_as_their_best_label():
    dataset_stub = type("D", (), {"labels": ("electronic",), "genres": {}})()
    card = find_model("musicnn-msd")
    mapping = map_labels(card, dataset_stub)  # type: ignore[arg-type]
    columns = mapping.model_columns[0]
    assert {card.labels[i] for i in columns} == {"electronic", "electronica"}
    scores = np.zeros(len(card.labels))
    scores[card.labels.index("electronica")] = 0.7
    assert mapping.scores(scores).tolist() == [0.7]


def test_a_tag_set_matches_its_own_tags_label_for_label():
    card = find_model("musicnn-mtt")
    dataset_stub = type("D", (), {"labels": ("guitar", "rock", "no such tag"), "genres": {}})()
    mapping = map_labels(card, dataset_stub)  # type: ignore[arg-type]
    assert mapping.shared == ("guitar", "Rock") and mapping.uncovered == ("no such tag",)
