"""The characteristics study's effect sizes and the worst-tracks list, on made-up properties with known answers."""

from __future__ import annotations

import json
import math
import shlex

import numpy as np
import pytest

from mtag.evaluate.effects import characteristics_study, cliffs_delta, inspect_command, worst_tracks


def _tracks(seed: int = 0, count: int = 60) -> tuple[list[dict[str, float]], np.ndarray]:
    """Half right, half wrong: loudness separates them completely, flatness is unrelated noise."""
    rng = np.random.default_rng(seed)
    correct = np.arange(count) % 2 == 0
    properties = [
        {
            "loudness_lufs": (-10.0 if right else -30.0) + rng.uniform(-5, 5),
            "flatness": float(rng.uniform(0, 0.1)),
            "bandwidth_hz": math.nan,  # never measured (silent tracks, say)
        }
        for right in correct
    ]
    return properties, correct


def test_a_property_that_separates_right_from_wrong_has_delta_one_and_a_ci_excluding_zero() -> None:
    properties, correct = _tracks()
    study = characteristics_study(properties, correct, seed=7, n_boot=300)
    first = study.effects[0]
    assert first.name == "loudness_lufs" and first.delta == 1.0
    assert first.low == first.high == 1.0 and first.clear and first.magnitude == "large"
    assert first.median_right > first.median_wrong and (first.right, first.wrong) == (30, 30)
    # ...and the reverse direction is -1: higher among the wrong tracks.
    assert characteristics_study(properties, ~correct, seed=7, n_boot=300).effects[0].delta == -1.0


def test_an_unrelated_property_has_a_ci_covering_zero() -> None:
    properties, correct = _tracks()
    flatness = {e.name: e for e in characteristics_study(properties, correct, seed=7, n_boot=500).effects}["flatness"]
    assert flatness.low < 0 < flatness.high and not flatness.clear
    assert abs(flatness.delta) < 0.33


def test_the_study_is_reproducible_with_its_seed_and_sorted_by_size() -> None:
    properties, correct = _tracks()
    once = characteristics_study(properties, correct, seed=3, n_boot=200)
    again = characteristics_study(properties, correct, seed=3, n_boot=200)
    other = characteristics_study(properties, correct, seed=4, n_boot=200)
    assert (
        once.to_json() == again.to_json() and once.effects[1] != other.effects[1]
    )  # the unrelated property's interval moves
    assert [e.name for e in once.effects] == ["loudness_lufs", "flatness", "bandwidth_hz"]  # not measurable last
    assert math.isnan(once.effects[2].delta) and once.effects[2].magnitude == "not measurable"


def test_cliffs_delta_counts_ties_for_neither_side() -> None:
    # right [1, 1], wrong [0, 1]: each right 1 beats the wrong 0 and ties the wrong 1 -> (2 wins - 0 losses) / 4 pairs.
    assert cliffs_delta(np.array([1.0, 1.0]), np.array([0.0, 1.0])) == pytest.approx(0.5)
    assert math.isnan(cliffs_delta(np.array([1.0]), np.array([])))


def test_the_report_and_json_are_plain() -> None:
    properties, correct = _tracks()
    study = characteristics_study(properties, correct, seed=1, n_boot=100)
    data = json.loads(json.dumps(study.to_json(), allow_nan=False))  # JSON has no NaN: unmeasured values are null
    assert data["properties"][0]["cliffs_delta"] == 1.0 and data["properties"][2]["cliffs_delta"] is None
    text = study.markdown()
    assert "integrated loudness (LUFS" in text and "**+1.00**" in text and "n/a" in text
    tracks = [{"bandwidth_hz": 7765.6, "loudness_range_lu": 7e-15}, {"bandwidth_hz": 3400.0, "loudness_range_lu": 2.5}]
    wide = characteristics_study(tracks, np.array([True, False]), 1, 10).markdown()
    assert "| 7766 | 3400 |" in wide and "| 0 | 2.5 |" in wide  # not 7.77e+03, nor 7e-15


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 tracks"):
        characteristics_study([{}, {}, {}], np.array([True, False]), seed=0)


def test_worst_tracks_are_the_most_confidently_wrong_with_inspect_commands_that_survive_the_shell() -> None:
    paths = ["/music/ok.mp3", "/music/Guns N' Roses/It's \"so\" easy.mp3", "/music/a b.flac", "-dash.wav"]
    worst = worst_tracks(
        paths,
        ["rock", "rock", ["jazz", "blues"], "pop"],
        ["rock", "metal", "rock", "disco"],
        np.array([0.99, 0.9, 0.95, 0.4]),
        k=2,
        model="my model",
    )
    assert [t.path for t in worst] == [paths[2], paths[1]]  # the right track is not listed; k=2 leaves the least sure
    assert shlex.split(worst.tracks[1].command) == ["mtag", "inspect", "--model", "my model", paths[1]]
    assert shlex.split(inspect_command("-dash.wav")) == ["mtag", "inspect", "--", "-dash.wav"]
    assert worst.tracks[0].truth == ("jazz", "blues") and worst.to_json()[0]["confidence"] == 0.95
    assert "jazz, blues heard as **rock** (0.95)" in worst.markdown()


def test_a_path_with_backticks_stays_one_code_span_in_the_report() -> None:
    worst = worst_tracks(["/m/`odd`.mp3"], ["rock"], ["pop"], [0.8])
    line = worst.markdown().splitlines()[-1]
    assert line.endswith("`` mtag inspect '/m/`odd`.mp3' ``")
    assert "No track was wrong." in worst_tracks(["/m/x.mp3"], ["rock"], ["rock"], [0.8]).markdown()
