"""Each diagnostic fires on the recording made to trigger it, and on nothing clean."""

from __future__ import annotations

import re

import pytest

from mtag.inspection.findings import ERROR, INFO, WARNING

#: recording -> the findings it must raise (name: severity).  Others may fire too where the signal
#: really has that property (a telephone-band clip is also quiet in the highs the model expects).
EXPECTED = {
    "silence.flac": {"silence": ERROR},
    "gap.flac": {"silence": WARNING},
    "clip-2s.flac": {"padded": INFO},
    "clip-half-second.flac": {"too-short": ERROR},
    "clipped.flac": {"clipping": WARNING},
    "telephone.flac": {"narrow-band": WARNING},
    "noise.flac": {"not-music": WARNING},
    "speech.flac": {"not-music": WARNING},
    "medley.flac": {"parts": WARNING},
    "flip-flop.flac": {"unstable": WARNING},
    "cancelling.flac": {"stereo-cancellation": WARNING},
}


def names(inspection) -> dict[str, str]:
    return {finding.name: finding.severity for finding in inspection.findings}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_signal_triggers_its_diagnostic(inspected, name):
    fired = names(inspected(name))
    for rule, severity in EXPECTED[name].items():
        assert fired.get(rule) == severity, (name, fired)


@pytest.mark.parametrize("name", ["clean.flac", "clean.mp3"])
def test_no_diagnostic_fires_on_clean_music(inspected, name):
    inspection = inspected(name)
    assert inspection.findings == [], [f.message for f in inspection.findings]
    assert inspection.decision.genres  # and it is decided


def test_rules_that_would_be_false_alarms_stay_quiet(inspected):
    assert "parts" not in names(inspected("flip-flop.flac"))  # changes every window: unstable, not a medley
    assert "unstable" not in names(inspected("medley.flac"))  # two long parts: one change
    assert "not-music" not in names(inspected("clipped.flac"))
    assert "clipping" not in names(inspected("telephone.flac"))
    assert "narrow-band" not in names(inspected("clean.mp3"))  # an MP3's 16 kHz cut-off is not narrow


def test_silent_gap_is_located(inspected):
    (finding,) = [f for f in inspected("gap.flac").findings if f.name == "silence"]
    ((start, end),) = finding.times
    assert 11.9 <= start <= 12.0 + 2.992 and 21.0 - 2.992 <= end <= 21.1  # the segments inside 12-21 s


def test_medley_parts_are_reported_with_their_times(inspected):
    (finding,) = [f for f in inspected("medley.flac").findings if f.name == "parts"]
    (first_start, first_end), (second_start, second_end) = finding.times
    assert first_start == 0.0 and abs(first_end - 24.0) <= 3.0 and second_start == first_end
    assert second_end > 45.0
    assert "Electronic" in finding.message


def test_messages_are_one_line_with_figures(inspected):
    clipped = {f.name: f for f in inspected("clipped.flac").findings}["clipping"]
    assert "\n" not in clipped.message and "%" in clipped.message
    narrow = {f.name: f for f in inspected("telephone.flac").findings}["narrow-band"]
    stops = float(re.search(r"stops at ([\d.]+) kHz", narrow.message).group(1))
    assert 3.3 <= stops <= 3.6  # low-passed at 3.4 kHz; the spectrum's bins are 21.5 Hz wide


def test_silent_and_too_short_files_get_no_decision(inspected):
    for name in ("silence.flac", "clip-half-second.flac"):
        decision = inspected(name).decision
        assert decision.genres == [] and decision.status in ("silent", "too-short")
    assert inspected("clip-half-second.flac").segments == []


def test_low_confidence_names_the_best_genre_and_the_threshold(inspected):
    found = {f.name: f for f in inspected("cancelling.flac").findings}
    assert "low-confidence" in found and "0.25" in found["low-confidence"].message
    assert inspected("cancelling.flac").decision.status == "no-genre"
