"""Targets and the counter-weights for rare labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mtag.data import Example
from mtag.train.targets import class_weights, positive_weights, sampling_weights, target_matrix


def test_targets_have_a_one_for_each_label_of_an_example() -> None:
    examples = [Example(Path("a"), ("rock",), "train", "g"), Example(Path("b"), ("jazz", "rock"), "train", "g")]
    assert target_matrix(examples, ("jazz", "rock", "pop")).tolist() == [[0, 1, 0], [1, 1, 0]]


def test_a_rare_label_weighs_as_much_in_total_as_a_common_one() -> None:
    targets = np.eye(2, dtype=np.float32)[[0] * 9 + [1]]
    weights = class_weights(targets)
    assert np.isclose(weights[0] * 9, weights[1] * 1)
    assert np.allclose(class_weights(np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]), 1.0)  # balanced: all ones
    assert positive_weights(targets).tolist() == [1.0, 9.0]


def test_balanced_sampling_gives_each_label_the_same_share_of_draws() -> None:
    targets = np.eye(3, dtype=np.float32)[[0] * 8 + [1] * 3 + [2]]
    p = sampling_weights(targets)
    assert np.isclose(p.sum(), 1.0)
    shares = targets.T @ p
    assert np.allclose(shares, 1 / 3)
