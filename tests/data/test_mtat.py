"""MagnaTagATune: the tab-separated CSV, the top-50 tags, the standard split and album groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtag.data.examples import TEST, TRAIN, VALID
from mtag.data.layout import shipped_list
from mtag.data.load import load_dataset
from mtag.data.mtat import album
from mtag.data.options import DatasetOptions
from mtag.errors import UsageError
from tests.data.layouts import mtat_tree


@pytest.fixture(scope="module")
def listed() -> dict[str, list[str]]:
    """Two clips of each split list (the first train clips share an album)."""
    return {split: shipped_list("mtat", f"{split}.txt")[:2] for split in (TRAIN, VALID, TEST)}


@pytest.fixture(scope="module")
def mtat(tmp_path_factory: pytest.TempPathFactory, listed: dict[str, list[str]]) -> Path:
    clips = {
        listed[TRAIN][0]: ("classical", "noVocal", "strings"),
        listed[TRAIN][1]: ("maleVocal", "newAge"),
        listed[VALID][0]: ("rock",),
        listed[VALID][1]: (),  # no top-50 tag: a negative for every tag
        listed[TEST][0]: ("techno", "beat"),
    }
    return mtat_tree(tmp_path_factory.mktemp("mtat"), clips, absent=[listed[TEST][1]])


def test_the_standard_split_with_top_50_tags_matched_across_spellings(mtat: Path, listed: dict[str, list[str]]) -> None:
    dataset = load_dataset("mtat", mtat)
    assert dataset.multi_label and dataset.split == "official" and len(dataset.labels) == 50
    by_clip = {e.path.relative_to(mtat).as_posix(): e for e in dataset.examples}
    first = by_clip[listed[TRAIN][0].replace(".npy", ".mp3")]
    assert first.split == TRAIN and first.labels == ("classical", "strings", "noVocal")  # top-50 list order
    assert by_clip[listed[TRAIN][1].replace(".npy", ".mp3")].labels == ("maleVocal", "newAge")
    assert by_clip[listed[VALID][1].replace(".npy", ".mp3")].labels == ()  # kept: the split lists it
    assert len(dataset.examples) == 5


def test_listed_clips_without_audio_are_missing(mtat: Path, listed: dict[str, list[str]]) -> None:
    dataset = load_dataset("mtat", mtat)
    assert listed[TEST][1].replace(".npy", ".mp3") in dataset.missing
    assert len(dataset.missing) == 15244 + 1529 + 4332 - 5


def test_the_group_is_the_album() -> None:
    clip = "0/american_bach_soloists-joseph_haydn__masses-01-kyrie__allegro_moderato-30-59.mp3"
    assert album(clip) == "american_bach_soloists-joseph_haydn__masses"


def test_a_drawn_split_keeps_albums_whole(mtat: Path) -> None:
    dataset = load_dataset("mtat", mtat, DatasetOptions(split="random"))
    groups: dict[str, set[str]] = {}
    for example in dataset.examples:
        groups.setdefault(example.group, set()).add(example.split)
    assert all(len(splits) == 1 for splits in groups.values())


def test_a_folder_without_the_csv_says_what_it_expected(tmp_path: Path) -> None:
    (tmp_path / "0").mkdir()
    with pytest.raises(UsageError, match=r"expected annotations_final\.csv .*; found 0/"):
        load_dataset("mtat", tmp_path)


def test_a_csv_without_the_tag_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "annotations_final.csv").write_text("clip_id\tguitar\tmp3_path\n1\t1\t0/a-b-1-c-0-29.mp3\n")
    with pytest.raises(UsageError, match="its header lacks 49 of them"):
        load_dataset("mtat", tmp_path)
