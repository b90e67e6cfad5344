"""``--mode keep|replace|append``: what a field becomes, given what is there and what was decided."""

from __future__ import annotations

import pytest

from mtag.errors import UsageError
from mtag.library.policy import MODES, new_names, new_value
from mtag.tags import TagValues

SEP = "; "


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("existing", [[], ["Jazz"], [""], ["Jazz", "Blues"]])
def test_nothing_decided_never_touches_the_field(mode, existing):
    assert new_value(mode, existing, [], SEP) is None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("existing", [[], [""], ["  "], ["", " "]])
def test_an_empty_or_blank_field_gets_the_decided_genres(mode, existing):
    assert new_value(mode, existing, ["Rock", "Blues"], SEP) == ["Rock; Blues"]


def test_keep_leaves_any_real_value():
    assert new_value("keep", ["Jazz"], ["Rock"], SEP) is None
    assert new_value("keep", ["", "Jazz"], ["Rock"], SEP) is None
    assert new_value("keep", ["(17)"], ["Rock"], SEP) is None  # an ID3v1 reference is a genre too


def test_replace_writes_the_decision_whatever_was_there():
    assert new_value("replace", ["Jazz"], ["Rock"], SEP) == ["Rock"]
    assert new_value("replace", ["Jazz", "Blues"], ["Rock", "Pop"], SEP) == ["Rock; Pop"]
    assert new_value("replace", ["Rock", "Pop"], ["Rock", "Pop"], SEP) == ["Rock; Pop"]  # one value, not two


@pytest.mark.parametrize("mode", MODES)
def test_a_field_already_holding_the_decision_is_unchanged(mode):
    assert new_value(mode, ["Rock; Pop"], ["Rock", "Pop"], SEP) is None


def test_append_keeps_the_users_genres_first_and_adds_only_new_ones():
    assert new_value("append", ["Jazz"], ["Rock", "Blues"], SEP) == ["Jazz; Rock; Blues"]
    assert new_value("append", ["Jazz; Rock"], ["Rock", "Blues"], SEP) == ["Jazz; Rock; Blues"]
    assert new_value("append", ["Jazz", "Rock"], ["Rock", "Blues"], SEP) == ["Jazz; Rock; Blues"]
    assert new_value("append", ["Jazz", ""], ["Blues"], SEP) == ["Jazz; Blues"]


def test_append_compares_names_ignoring_case_and_keeps_the_users_spelling():
    assert new_value("append", ["hip-hop; rock"], ["Rock", "Hip-Hop", "Soul"], SEP) == ["hip-hop; rock; Soul"]
    assert new_value("append", ["rock"], ["Rock"], SEP) is None


def test_append_recognises_genres_written_with_other_separators():
    assert new_value("append", ["Rock/Pop"], ["Rock", "Blues"], SEP) == ["Rock/Pop; Blues"]
    assert new_value("append", ["Rock, Pop"], ["Pop"], SEP) is None
    assert new_value("append", ["R&B/Soul"], ["Funk"], SEP) == ["R&B/Soul; Funk"]  # the user's value kept whole


def test_append_twice_adds_nothing_the_second_time():
    once = new_value("append", ["Jazz"], ["Rock", "Blues"], SEP)
    assert once is not None and new_value("append", once, ["Rock", "Blues"], SEP) is None


def test_another_separator_joins_and_splits_the_same_way():
    assert new_value("replace", [], ["Rock", "Blues"], " / ") == ["Rock / Blues"]
    assert new_value("append", ["Jazz / Rock"], ["Rock", "Blues"], " / ") == ["Jazz / Rock / Blues"]


def test_a_genre_containing_the_separator_is_refused():
    with pytest.raises(UsageError, match="separator"):
        new_value("replace", [], ["R&B/Soul"], "/")


def test_an_unknown_mode_is_a_bug_of_the_caller():
    with pytest.raises(ValueError, match="merge"):
        new_value("merge", [], ["Rock"], SEP)


# ID3 numeric genres: "(17)" is Rock, not a genre called "(17)" -------------------------------------


def id3_genre(mode: str, raw: list[str], names: list[str]) -> list[str] | None:
    """``new_value`` for an ID3 genre stored as ``raw``, with the names a player reads in it."""
    return new_value(mode, raw, names, SEP, TagValues("id3", {"genre": raw, "mood": []}).names("genre"))


def test_append_compares_with_the_genres_that_numeric_references_name():
    assert id3_genre("append", ["(17)"], ["Rock"]) is None
    assert id3_genre("append", ["(43)"], ["Punk", "Rock"]) == ["Punk; Rock"]  # Punk once, no "(43)"
    assert id3_genre("append", ["(17)"], ["Punk", "Rock"]) == ["Rock; Punk"]  # not "(17); Punk; Rock"
    assert id3_genre("append", ["0"], ["Rock"]) == ["Blues; Rock"]  # ID3v2.4's "0" keeps its meaning
    assert id3_genre("append", ["(17)(43)"], ["Punk", "Rock"]) is None
    assert id3_genre("append", ["(43)Punk"], ["Punk"]) is None
    assert id3_genre("append", ["(RX)", "(CR)"], ["Rock"]) == ["Remix; Cover; Rock"]


def test_keep_sees_a_numeric_reference_as_a_genre_and_replace_writes_names():
    assert id3_genre("keep", ["(17)"], ["Jazz"]) is None
    assert id3_genre("replace", ["(17)"], ["Rock"]) == ["Rock"]


def test_append_that_adds_nothing_leaves_the_value_exactly_as_written():
    """'Rock;Classic Rock' was rewritten as 'Rock; Classic Rock' and reported tagged."""
    assert new_value("append", ["Rock;Classic Rock"], ["Rock"], SEP) is None
    assert new_value("append", ["Rock;Classic Rock"], ["Classic Rock", "rock"], SEP) is None
    assert new_value("append", ["Rock,Pop"], ["Pop"], SEP) is None
    assert new_value("append", ["Rock;Classic Rock"], ["Punk"], SEP) == ["Rock; Classic Rock; Punk"]


@pytest.mark.parametrize(
    ("mode", "existing", "expected"),
    [
        ("keep", [], ["Rock", "Jazz"]),
        ("keep", ["Blues"], None),
        ("replace", ["Blues"], ["Rock", "Jazz"]),
        ("replace", ["Rock", "Jazz"], None),  # the same list: no change, though new_value's one value differs
        ("append", ["Blues", "rock"], ["Blues", "rock", "Jazz"]),
        ("append", ["Rock/Pop"], ["Rock/Pop", "Jazz"]),  # a user's own value stays whole; its Rock is known
        ("append", ["Jazz", "Rock"], None),
    ],
)
def test_a_list_field_follows_the_same_modes(mode, existing, expected):
    assert new_names(mode, existing, ["Rock", "Jazz"], SEP) == expected
