"""Analysis keys name the weights; keys written by mtag 0.3 stay readable but are never current."""

from __future__ import annotations

import pytest

from mtag.decision import DecisionOptions
from mtag.library.tagging import parse_analysis_key


def test_a_current_key_reads_back_its_parts():
    key = parse_analysis_key("/music/models/mine@0123456789abcdef/fp32/sr16000/w47872/h15872/sample8")
    assert key is not None
    assert (key.model, key.digest, key.precision, key.sample, key.aggregation) == (
        "/music/models/mine",
        "0123456789abcdef",
        "fp32",
        8,
        None,
    )
    assert key.window == pytest.approx(2.992) and key.hop == pytest.approx(0.992)


def test_an_old_key_is_read_with_its_aggregation_and_no_digest():
    key = parse_analysis_key("musicnn-msd/fp32/w187/h62/all/vote")
    assert key is not None and key.digest is None and key.aggregation == "vote" and key.sample is None
    assert key.window == pytest.approx(2.992) and key.hop == pytest.approx(62 * 256 / 16000)


def test_a_key_of_neither_form_is_none():
    assert parse_analysis_key("") is None and parse_analysis_key("musicnn-msd/fp32") is None


def test_decision_options_from_a_recorded_run_fill_in_only_what_it_lacks():
    recorded = {"top": 2, "threshold": 0.4, "mode": "replace", "analysis": "x", "parents": None}
    assert DecisionOptions.from_run(recorded, aggregation="max") == DecisionOptions(
        top=2, threshold=0.4, aggregation="max"
    )
    assert DecisionOptions.from_run({"aggregation": "vote"}, aggregation="max").aggregation == "vote"
    with pytest.raises(ValueError, match="unknown aggregation"):
        DecisionOptions(aggregation="median")
