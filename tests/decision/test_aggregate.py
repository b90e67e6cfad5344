"""Window scores -> track scores: mean, max and vote."""

from __future__ import annotations

import numpy as np
import pytest

from mtag.decision.aggregate import aggregate

#: Four windows, four labels: label 0 ("male vocalists", say) is the top score of three windows.
SCORES = np.array(
    [
        [0.9, 0.6, 0.1, 0.2],
        [0.8, 0.1, 0.7, 0.0],
        [0.2, 0.5, 0.3, 0.4],
        [0.7, 0.3, 0.4, 0.65],
    ],
    np.float32,
)


def test_mean_and_max():
    np.testing.assert_allclose(aggregate(SCORES), [0.65, 0.375, 0.375, 0.3125], rtol=1e-6)
    np.testing.assert_allclose(aggregate(SCORES, "mean"), SCORES.mean(axis=0))
    np.testing.assert_allclose(aggregate(SCORES, "max"), [0.9, 0.6, 0.7, 0.65])


def test_vote_gives_each_window_one_vote():
    shares = aggregate(SCORES, "vote")
    np.testing.assert_allclose(shares, [0.75, 0.25, 0.0, 0.0])
    assert shares.dtype == np.float32 and shares.sum() == pytest.approx(1.0)


def test_vote_counts_only_candidates():
    genres = np.array([False, True, True, True])
    shares = aggregate(SCORES, "vote", genres)
    # without label 0 the windows go to 1, 2, 1 and 3
    np.testing.assert_allclose(shares, [0.0, 0.5, 0.25, 0.25])
    assert shares.sum() == pytest.approx(1.0)
    # mean and max ignore the mask
    np.testing.assert_allclose(aggregate(SCORES, "mean", genres), aggregate(SCORES, "mean"))
    np.testing.assert_allclose(aggregate(SCORES, "max", genres), aggregate(SCORES, "max"))


def test_one_window_is_its_own_track_score():
    for method in ("mean", "max"):
        np.testing.assert_array_equal(aggregate(SCORES[1:2], method), SCORES[1])
    np.testing.assert_array_equal(aggregate(SCORES[1:2], "vote"), [1, 0, 0, 0])


@pytest.mark.parametrize(
    ("scores", "method", "candidates", "message"),
    [
        (SCORES, "median", None, "unknown aggregation"),
        (SCORES[:0], "mean", None, "at least one window"),
        (SCORES[0], "mean", None, "at least one window"),
        (SCORES, "vote", np.zeros(4, bool), "no candidate"),
    ],
)
def test_bad_requests_are_refused(scores, method, candidates, message):
    with pytest.raises(ValueError, match=message):
        aggregate(scores, method, candidates)
