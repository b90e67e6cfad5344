"""The rare-genre and cross-data-set studies read a model's card: trained cards with counts, shipped cards without."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from mtag.cards import ModelCard, read_card
from mtag.catalog import shipped_models_dir
from mtag.errors import EXIT_USAGE, UsageError
from mtag.evaluate.crossdata import cross_markdown, cross_row
from mtag.evaluate.rarity import rare_study


def _shipped(name: str = "musicnn-msd") -> ModelCard:
    return read_card(shipped_models_dir() / name)


def _trained(counts: dict[str, int], dataset: str = "gtzan", metrics: dict | None = None) -> ModelCard:
    """A GTZAN-style trained model's card: lower-case labels meaning the table's genres."""
    labels = tuple(counts)
    genres = {label: {"hiphop": "Hip-Hop"}.get(label, label.title()) for label in labels}
    training = {"dataset": dataset, "tracks": {"train": sum(counts.values())}, "label_counts": counts}
    return replace(_shipped(), name="my-gtzan", labels=labels, genres=genres, training=training, metrics=metrics)


def test_monotone_frequencies_and_metrics_give_rho_one_and_name_the_rare_genres() -> None:
    card = _trained({"rock": 100, "jazz": 80, "blues": 60, "reggae": 20, "hiphop": 10})
    per_class = {
        "Rock": 0.9,
        "Jazz": 0.8,
        "Blues": 0.7,
        "Reggae": 0.4,
        "Hip-Hop": 0.3,
    }  # canonical genres, as eval reports
    study = rare_study(card, per_class, "f1")
    assert study.rho == pytest.approx(1.0)
    assert [c.name for c in study.classes] == ["Hip-Hop", "Reggae", "Blues", "Jazz", "Rock"]  # rarest first
    assert [c.name for c in study.rare] == ["Hip-Hop", "Reggae"]  # under half the median (60 tracks)
    assert study.mean_metric(True) == pytest.approx(0.35) and study.mean_metric(False) == pytest.approx(0.8)
    assert study.classes[0].share == pytest.approx(10 / 270)
    text = study.markdown()
    assert "+1.00" in text and "Rare (under 0.5 x the median class's training tracks): Hip-Hop, Reggae" in text
    assert json.loads(json.dumps(study.to_json()))["spearman_rho"] == pytest.approx(1.0)


def test_a_balanced_data_set_has_no_rare_genre_and_no_correlation_to_compute() -> None:
    study = rare_study(_trained({"rock": 50, "jazz": 50, "blues": 50}), {"rock": 0.9, "jazz": 0.5, "blues": 0.7}, "f1")
    assert not study.rare and math.isnan(study.rho)
    assert "every class had as many training tracks" in study.markdown() and "No class is rare" in study.markdown()


def test_fewer_than_three_classes_explain_the_missing_correlation_and_unknown_classes_are_listed() -> None:
    study = rare_study(_trained({"rock": 90, "jazz": 10}), {"rock": 0.9, "jazz": 0.2, "Polka": 0.5}, "recall")
    assert math.isnan(study.rho) and "2 classes measured, it needs 3" in study.verdict()
    assert study.unmatched == ("Polka",) and "left out): Polka" in study.markdown()


def test_a_model_without_per_label_training_counts_is_refused_naming_it() -> None:
    with pytest.raises(UsageError, match="model 'musicnn-msd' does not record its training tracks per label") as caught:
        rare_study(_shipped(), {"rock": 0.9}, "roc_auc")
    assert caught.value.exit_code == EXIT_USAGE and "\n" not in str(caught.value)


def test_a_gtzan_model_on_fma_sits_beside_its_own_test_figure() -> None:
    card = _trained({"rock": 10, "jazz": 10}, metrics={"test_accuracy": 0.82, "valid_accuracy": 0.85})
    row = cross_row(card, "fma", {"accuracy": 0.61, "macro_f1": 0.5})
    assert not row.in_domain and row.trained_on == "gtzan" and row.trained_on_source == "training record"
    accuracy, f1 = row.figures
    assert accuracy.in_domain == 0.82 and accuracy.drop == pytest.approx(0.21)
    assert f1.in_domain is None and f1.drop is None and "reports no in-domain macro_f1" in row.note
    text = row.markdown()
    assert "| my-gtzan | gtzan | fma | accuracy | 0.820 | 0.610 | +0.210 |" in text
    assert json.loads(json.dumps(row.to_json()))["figures"][1]["in_domain"] is None


def test_evaluating_on_the_models_own_data_set_is_flagged_in_domain() -> None:
    row = cross_row(_trained({"rock": 10}, metrics={"test_accuracy": 0.8}), "GTZAN", {"accuracy": 0.79})
    assert row.in_domain and "not a cross-data-set one" in row.note
    mtt = cross_row(_shipped("musicnn-mtt"), "mtat", {"roc_auc": 0.9})
    assert mtt.in_domain  # "MagnaTagATune (top 50 tags)" is mtag's mtat


def test_a_shipped_model_uses_its_published_figure_and_says_where_it_comes_from() -> None:
    row = cross_row(_shipped(), "gtzan", {"roc_auc": 0.75})
    assert not row.in_domain and row.trained_on.startswith("Million Song Dataset")
    assert row.figures[0].in_domain == pytest.approx(0.880, abs=0.001)
    macro = cross_row(_shipped(), "gtzan", {"roc_auc_macro": 0.75, "macro_pr_auc": 0.2})  # the card's are macro
    assert [f.in_domain for f in macro.figures] == [pytest.approx(0.880, abs=0.001), pytest.approx(0.289, abs=0.001)]
    assert "as published (experiment.result in the musicnn 0.1.0 wheel)" in row.note


def test_a_card_without_a_training_record_falls_back_to_its_source_then_its_description() -> None:
    bare = replace(_shipped(), training=None)
    assert cross_row(bare, "gtzan", {"roc_auc": 0.7}).trained_on_source == "description"
    sourced = replace(bare, source={"dataset": "fma"})
    row = cross_row(sourced, "fma", {"roc_auc": 0.7})
    assert row.in_domain and "per the card's source" in row.note
    both = cross_markdown([row, cross_row(_shipped("musicnn-mtt"), "gtzan", {"roc_auc": 0.7})])
    assert both.count("| musicnn-") == 2
