"""Track-level metrics: what a model's figures mean to a user, computed with scikit-learn.

Scores are one row per track (window scores already aggregated the way
``mtag tag`` aggregates them), targets a 0/1 matrix of the same shape.
Single-label data sets are measured by accuracy (the top label is the
track's label); multi-label ones by the area under the precision-recall
curve, macro-averaged over labels (PR-AUC: what "the tags it writes are
right" means when most labels are absent from most tracks), with ROC-AUC
beside it because the MagnaTagATune literature reports it.

scikit-learn's metrics are the field's reference implementation, so the
trainer and ``mtag eval`` both use them (imported lazily: ``mtag --help``
and the decode workers never pay for the import).  A label that cannot be
measured (no positive, or no negative, track) is NaN and left out of macro
averages rather than counted as 0 or 1.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def _sk() -> Any:
    import sklearn.metrics

    return sklearn.metrics


def accuracy(scores: np.ndarray, targets: np.ndarray) -> float:
    """Share of tracks whose best-scored label is one of their labels."""
    if not len(scores):
        return float("nan")
    best = scores.argmax(axis=1)
    hits = targets[np.arange(len(best)), best] > 0
    return float(_sk().accuracy_score(np.ones(len(hits), bool), hits))


def confusion(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``(labels, labels)`` counts: row = true label (the first, for single-label), column = predicted."""
    n = targets.shape[1]
    return _sk().confusion_matrix(targets.argmax(axis=1), scores.argmax(axis=1), labels=np.arange(n)).astype(np.int64)


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under one label's precision-recall curve (step-wise); NaN without a positive track."""
    positives = np.asarray(positives).astype(bool)
    if not positives.any():
        return float("nan")
    return float(_sk().average_precision_score(positives, scores))


def roc_auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under one label's ROC curve: the chance a positive outscores a negative (ties count half)."""
    positives = np.asarray(positives).astype(bool)
    if positives.all() or not positives.any():
        return float("nan")
    return float(_sk().roc_auc_score(positives, scores))


def per_label(metric: str, scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``average_precision`` or ``roc_auc`` of every label (NaN where not measurable)."""
    function = {"pr_auc": average_precision, "roc_auc": roc_auc}[metric]
    return np.array([function(scores[:, i], targets[:, i]) for i in range(targets.shape[1])])


def macro(metric: str, scores: np.ndarray, targets: np.ndarray) -> float:
    """Mean of a per-label metric over the labels where it is measurable."""
    values = per_label(metric, scores, targets)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def micro(metric: str, scores: np.ndarray, targets: np.ndarray) -> float:
    """A metric over every (track, label) pair pooled: dominated by the frequent labels."""
    flat = np.asarray(targets).ravel() > 0
    function = {"pr_auc": average_precision, "roc_auc": roc_auc}[metric]
    return function(np.asarray(scores).ravel(), flat)


def summary(scores: np.ndarray, targets: np.ndarray, multi_label: bool) -> dict[str, float]:
    """The figures a training record and ``mtag models`` show for one split."""
    figures = {"pr_auc": macro("pr_auc", scores, targets), "roc_auc": macro("roc_auc", scores, targets)}
    if not multi_label:
        figures = {"accuracy": accuracy(scores, targets), **figures}
    return figures


def headline(multi_label: bool) -> str:
    """The metric early stopping and model selection follow."""
    return "pr_auc" if multi_label else "accuracy"


# Single-label figures of ``mtag eval`` ------------------------------------------------------------


def single_label(true: np.ndarray, scores: np.ndarray, top_k: int = 3) -> dict[str, Any]:
    """Every single-label figure of ``true`` class indices against ``scores`` ``(tracks, classes)``.

    The prediction is the best-scored class.  Classes count from 0 to
    ``classes - 1`` whether or not a track has them, so the per-class lists
    and the confusion matrix always have one entry per class; macro-F1 and
    balanced accuracy average over the classes that occur, as scikit-learn does.
    """
    sk = _sk()
    n = scores.shape[1]
    labels = np.arange(n)
    predicted = scores.argmax(axis=1)
    precision, recall, f1, support = sk.precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    # A class no track has has no recall or F1, and one never predicted no precision: NaN, not scikit-learn's
    # zero_division 0, which would read as "always wrong" in the per-class table and the rare-genre study.
    chosen = np.bincount(predicted, minlength=n)
    precision = np.where(chosen > 0, precision, np.nan)
    recall, f1 = (np.where(support > 0, values, np.nan) for values in (recall, f1))
    with warnings.catch_warnings():  # a class no track has, or one class only: sklearn warns, the figure stands
        warnings.simplefilter("ignore")
        balanced = sk.balanced_accuracy_score(true, predicted)
        macro_f1 = sk.f1_score(true, predicted, average="macro", zero_division=0)
    return {
        "accuracy": float(sk.accuracy_score(true, predicted)),
        "balanced_accuracy": float(balanced),
        # Over the classes that occur (as truth or prediction): a genre the split has no track of and the model
        # never predicts says nothing, and counting it as F1 0 would punish a model for the split's make-up.
        "macro_f1": float(macro_f1),
        f"top{top_k}_accuracy": top_k_accuracy(true, scores, top_k),
        "per_class": {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "support": support.tolist(),
        },
        "confusion": sk.confusion_matrix(true, predicted, labels=labels).tolist(),
    }


def top_k_accuracy(true: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of tracks whose class is among the ``k`` best-scored (1 when ``k`` covers every class)."""
    n = scores.shape[1]
    if k >= n:
        return 1.0
    if n == 2:  # k == 1: scikit-learn takes a binary problem's scores as one column
        return float(_sk().top_k_accuracy_score(true, scores[:, 1], k=1, labels=np.arange(2)))
    return float(_sk().top_k_accuracy_score(true, scores, k=k, labels=np.arange(n)))


def single_label_headlines(true: np.ndarray, predicted: np.ndarray, n: int) -> dict[str, float]:
    """Accuracy, balanced accuracy and macro-F1 from the confusion matrix, as scikit-learn defines them.

    The bootstrap recomputes these a thousand times per model and condition,
    where scikit-learn's input checks would cost seconds; a test holds these
    formulas to scikit-learn's on random predictions.
    """
    matrix = np.bincount(true * n + predicted, minlength=n * n).reshape(n, n).astype(np.float64)
    total = matrix.sum()
    hits = np.diag(matrix)
    truths, calls = matrix.sum(axis=1), matrix.sum(axis=0)
    present = truths > 0
    recall = np.divide(hits, truths, out=np.zeros(n), where=present)
    shown = present | (calls > 0)  # balanced accuracy: the classes in y_true or y_pred, absent truths skipped
    balanced = float(recall[present & shown].mean()) if present.any() else float("nan")
    denominator = truths + calls
    f1 = np.divide(2 * hits, denominator, out=np.zeros(n), where=denominator > 0)
    return {
        "accuracy": float(hits.sum() / total) if total else float("nan"),
        "balanced_accuracy": balanced,
        "macro_f1": float(f1[shown].mean()) if shown.any() else float("nan"),
    }


# Multi-label figures ------------------------------------------------------------------------------


def multi_label(targets: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """ROC-AUC and PR-AUC, macro (each tag counts the same) and micro (each decision does), and per tag."""
    return {
        "roc_auc_macro": macro("roc_auc", scores, targets),
        "pr_auc_macro": macro("pr_auc", scores, targets),
        "roc_auc_micro": micro("roc_auc", scores, targets),
        "pr_auc_micro": micro("pr_auc", scores, targets),
        "per_class": {
            "roc_auc": per_label("roc_auc", scores, targets).tolist(),
            "pr_auc": per_label("pr_auc", scores, targets).tolist(),
            "support": np.asarray(targets > 0).sum(axis=0).astype(int).tolist(),
        },
    }


def multi_label_headlines(targets: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """The figures a multi-label evaluation leads with (and bootstraps)."""
    return {"roc_auc_macro": macro("roc_auc", scores, targets), "pr_auc_macro": macro("pr_auc", scores, targets)}


# Bootstrap confidence intervals -------------------------------------------------------------------


def bootstrap(
    figures: Any, count: int, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Percentile confidence intervals of ``figures(indices) -> {name: value}`` over resampled tracks.

    Each resample draws ``count`` track indices with replacement from one
    generator seeded with ``seed``, so the same seed gives the same
    intervals.  Resamples where a figure cannot be measured (NaN) are left
    out of that figure's interval.
    """
    if resamples <= 0 or count == 0:
        return {}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        for name, value in figures(rng.integers(0, count, count)).items():
            draws.setdefault(name, []).append(value)
    tail = (1 - level) / 2 * 100
    intervals = {}
    for name, values in draws.items():
        array = np.asarray(values, dtype=np.float64)
        array = array[np.isfinite(array)]
        if array.size:
            low, high = np.percentile(array, [tail, 100 - tail])
            intervals[name] = (float(low), float(high))
    return intervals
