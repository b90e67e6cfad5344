"""Labels as training targets, and the counter-weights for labels that are rare."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mtag.data import Example


def target_matrix(examples: Sequence[Example], labels: Sequence[str]) -> np.ndarray:
    """``(examples, labels)`` float32 0/1: a row per example, a 1 for each label it has."""
    column = {label: i for i, label in enumerate(labels)}
    targets = np.zeros((len(examples), len(labels)), dtype=np.float32)
    for row, example in enumerate(examples):
        for label in example.labels:
            if label in column:
                targets[row, column[label]] = 1.0
    return targets


def class_weights(targets: np.ndarray) -> np.ndarray:
    """Single-label loss weights: inverse label frequency, scaled so a balanced set gets all ones.

    A genre with a tenth of the tracks then counts as much in the loss as a
    common one, rather than being the label the network can afford to miss.
    """
    counts = targets.sum(axis=0)
    weights = np.where(counts > 0, counts.sum() / (len(counts) * np.maximum(counts, 1)), 0.0)
    return weights.astype(np.float32)


def positive_weights(targets: np.ndarray, cap: float = 50.0) -> np.ndarray:
    """Multi-label loss weights for the positives of each label: negatives / positives, capped."""
    positives = targets.sum(axis=0)
    negatives = len(targets) - positives
    return np.clip(negatives / np.maximum(positives, 1), 1.0, cap).astype(np.float32)


def sampling_weights(targets: np.ndarray) -> np.ndarray:
    """Per-example draw probabilities that give each label the same share of an epoch's draws."""
    per_label = 1.0 / np.maximum(targets.sum(axis=0), 1)
    labelled = targets.sum(axis=1)
    weights = (targets @ per_label) / np.maximum(labelled, 1)
    weights = np.where(labelled > 0, weights, per_label.min())
    return weights / weights.sum()
