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
