"""Track-level metrics: what a trained model's figures mean to a user.

Scores are one row per track (window scores already aggregated the way
``mtag tag`` aggregates them), targets a 0/1 matrix of the same shape.
Single-label data sets are measured by accuracy (the top label is the
track's label); multi-label ones by the area under the precision-recall
curve, macro-averaged over labels (PR-AUC: what "the tags it writes are
right" means when most labels are absent from most tracks), with ROC-AUC
beside it because the MagnaTagATune literature reports it.  NumPy only, so
``mtag eval`` and the trainer agree by construction.
"""

from __future__ import annotations

import numpy as np


def accuracy(scores: np.ndarray, targets: np.ndarray) -> float:
    """Share of tracks whose best-scored label is one of their labels."""
    best = scores.argmax(axis=1)
    return float(targets[np.arange(len(best)), best].mean()) if len(best) else float("nan")


def confusion(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``(labels, labels)`` counts: row = true label (the first, for single-label), column = predicted."""
    n = targets.shape[1]
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (targets.argmax(axis=1), scores.argmax(axis=1)), 1)
    return matrix


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under one label's precision-recall curve (step-wise, as scikit-learn computes it).

    NaN when the label has no positive track: it cannot be measured, and a
    macro average must skip it rather than count it as 0 or 1.
    """
    positives = positives.astype(bool)
    if not positives.any():
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    ranked, hits = scores[order], positives[order]
    # Tied scores form one threshold: only the last index of each run of equal scores is a cut point.
    cuts = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    true_pos = np.cumsum(hits)[cuts]
    precision = true_pos / (cuts + 1)
    recall = true_pos / positives.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under one label's ROC curve: the chance a positive outscores a negative (ties count half)."""
    positives = positives.astype(bool)
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
    ends = np.r_[starts[1:], len(ranked)]
    ranks = np.empty(len(values), dtype=np.float64)
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2
    return ranks


def per_label(metric: str, scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``average_precision`` or ``roc_auc`` of every label (NaN where not measurable)."""
    function = {"pr_auc": average_precision, "roc_auc": roc_auc}[metric]
    return np.array([function(scores[:, i], targets[:, i]) for i in range(targets.shape[1])])


def macro(metric: str, scores: np.ndarray, targets: np.ndarray) -> float:
    """Mean of a per-label metric over the labels where it is measurable."""
    values = per_label(metric, scores, targets)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def summary(scores: np.ndarray, targets: np.ndarray, multi_label: bool) -> dict[str, float]:
    """The figures a training record and ``mtag models`` show for one split."""
    figures = {"pr_auc": macro("pr_auc", scores, targets), "roc_auc": macro("roc_auc", scores, targets)}
    if not multi_label:
        figures = {"accuracy": accuracy(scores, targets), **figures}
    return figures


def headline(multi_label: bool) -> str:
    """The metric early stopping and model selection follow."""
    return "pr_auc" if multi_label else "accuracy"
