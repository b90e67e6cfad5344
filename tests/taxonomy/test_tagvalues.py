"""Genres in one tag value: join, split in the conventions found in the wild, and append without duplicates."""

from __future__ import annotations

import pytest

from mtag.errors import UsageError
from mtag.taxonomy import join_genres, merge_genres, split_genres

GENRES = ["Heavy Metal", "Metal", "R&B", "Hip-Hop"]


@pytest.mark.parametrize("separator", ["; ", ";", "/", ", ", " | "])
def test_join_then_split_gives_the_genres_back(separator):
    value = join_genres(GENRES, separator)
    assert split_genres(value, separator) == GENRES


def test_join_uses_semicolon_by_default():
    assert join_genres(["Rock", "Hard Rock"]) == "Rock; Hard Rock"


def test_join_refuses_a_name_that_would_split_apart():
    with pytest.raises(UsageError, match="'R&B/Soul' contains the separator"):
        join_genres(["Rock", "R&B/Soul"], "/")


@pytest.mark.parametrize("value", ["Rock; Pop", "Rock;Pop", "Rock/Pop", "Rock, Pop", "Rock\0Pop", " Rock ;; Pop ;"])
def test_split_understands_common_separators(value):
    assert split_genres(value) == ["Rock", "Pop"]


def test_split_with_a_known_separator_keeps_other_punctuation():
    assert split_genres("R&B/Soul; Rock", "; ") == ["R&B/Soul", "Rock"]


def test_split_of_an_empty_tag_is_empty():
    assert split_genres("") == [] and split_genres(" ; ") == []


def test_merge_keeps_existing_order_then_adds_new_ones_once_ignoring_case():
    existing = split_genres("rock/Jazz/ROCK")
    assert merge_genres(existing, ["Rock", "Hard Rock", "jazz", "Hard Rock"]) == ["rock", "Jazz", "Hard Rock"]
