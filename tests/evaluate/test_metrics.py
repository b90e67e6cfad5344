"""Track-level metrics against values worked out by hand (and as scikit-learn computes them)."""

from __future__ import annotations

import math

import numpy as np

from mtag.evaluate import metrics


def test_average_precision_and_roc_auc_of_one_label() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    positives = np.array([1, 0, 1, 0])
    # Precision 1 at recall 0.5, then 2/3 at recall 1: 0.5 * 1 + 0.5 * 2/3.
    assert math.isclose(metrics.average_precision(scores, positives), 0.5 + 1 / 3)
    # Of the 4 positive-negative pairs, the positive outscores the negative in 3.
    assert math.isclose(metrics.roc_auc(scores, positives), 0.75)


def test_ties_count_half_and_form_one_threshold() -> None:
    scores = np.array([0.5, 0.5, 0.5, 0.5])
    positives = np.array([1, 0, 1, 0])
    assert metrics.roc_auc(scores, positives) == 0.5
    assert metrics.average_precision(scores, positives) == 0.5


def test_a_label_without_positives_is_left_out_of_the_macro_average() -> None:
    scores = np.array([[0.9, 0.1, 0.3], [0.2, 0.8, 0.3]])
    targets = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    assert math.isnan(metrics.per_label("pr_auc", scores, targets)[2])
    assert metrics.macro("pr_auc", scores, targets) == 1.0
    assert metrics.macro("roc_auc", scores, targets) == 1.0


def test_accuracy_and_confusion_of_single_label_scores() -> None:
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    targets = np.eye(3, dtype=np.float32)[[0, 2, 2, 1]]
    assert metrics.accuracy(scores, targets) == 0.5
    assert metrics.confusion(scores, targets).tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 1]]
    figures = metrics.summary(scores, targets, multi_label=False)
    assert list(figures) == ["accuracy", "pr_auc", "roc_auc"]
    assert metrics.headline(False) == "accuracy" and metrics.headline(True) == "pr_auc"


def test_single_label_figures_of_six_predictions_worked_out_by_hand() -> None:
    # true:      0 0 1 1 2 2 ; predicted: 0 1 1 1 0 2
    true = np.array([0, 0, 1, 1, 2, 2])
    scores = np.eye(3)[[0, 1, 1, 1, 0, 2]] * 0.8 + 0.1
    figures = metrics.single_label(true, scores, top_k=2)
    assert figures["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert math.isclose(figures["accuracy"], 4 / 6)
    assert math.isclose(figures["balanced_accuracy"], (1 / 2 + 1 + 1 / 2) / 3)
    # precision 1/2, 2/3, 1; recall 1/2, 1, 1/2 -> F1 1/2, 4/5, 2/3
    assert np.allclose(figures["per_class"]["f1"], [1 / 2, 4 / 5, 2 / 3])
    assert math.isclose(figures["macro_f1"], (1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert figures["per_class"]["support"] == [2, 2, 2]


def test_roc_auc_of_a_perfect_and_a_reversed_ranking() -> None:
    positives = np.array([1, 1, 0, 0])
    assert metrics.roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), positives) == 1.0
    assert metrics.roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), positives) == 0.0


def test_the_bootstrap_figures_follow_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        true, predicted = rng.integers(0, 4, 30), rng.integers(0, 4, 30)
        fast = metrics.single_label_headlines(true, predicted, 4)
        reference = metrics.single_label(true, np.eye(4)[predicted], top_k=1)
        for name in ("accuracy", "balanced_accuracy", "macro_f1"):
            assert math.isclose(fast[name], reference[name]), name


def test_bootstrap_intervals_repeat_with_a_seed_and_change_with_another() -> None:
    true = np.array([0, 1] * 20)
    predicted = np.array([0, 1, 1, 1] * 10)

    def figures(pick):
        return metrics.single_label_headlines(true[pick], predicted[pick], 2)

    first = metrics.bootstrap(figures, 40, 200, seed=3)
    assert first == metrics.bootstrap(figures, 40, 200, seed=3)
    assert first != metrics.bootstrap(figures, 40, 200, seed=4)
    low, high = first["accuracy"]
    assert low < 0.75 < high


def test_multi_label_figures_macro_and_micro() -> None:
    targets = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    scores = np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.6], [0.2, 0.1]])
    figures = metrics.multi_label(targets, scores)
    assert figures["roc_auc_macro"] == 1.0 and figures["pr_auc_macro"] == 1.0
    assert figures["roc_auc_micro"] == 1.0
    assert figures["per_class"]["support"] == [2, 2]


def test_a_class_absent_from_the_tracks_has_no_per_class_figures_rather_than_zeros() -> None:
    """Class 2 never occurs and is never predicted: its recall and F1 are unmeasured, not 0 (read by the rare study)."""
    true = np.array([0, 0, 1, 1])
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.1, 0.9, 0.0], [0.3, 0.7, 0.0]])
    per_class = metrics.single_label(true, scores)["per_class"]
    assert per_class["support"] == [2, 2, 0]
    assert per_class["recall"][:2] == [0.5, 1.0] and np.isnan(per_class["recall"][2])
    assert np.isnan(per_class["f1"][2]) and np.isnan(per_class["precision"][2])
    assert per_class["precision"][:2] == [1.0, 2 / 3]
