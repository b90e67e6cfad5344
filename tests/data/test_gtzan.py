"""GTZAN in both published layouts, its filtered split, drawn splits, and a partial copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtag.audio.decode import probe
from mtag.data.check import check_trainable, missing_line
from mtag.data.examples import TEST, TRAIN, VALID
from mtag.data.gtzan import GENRES, NOT_FILTERED
from mtag.data.load import load_dataset
from mtag.data.options import DatasetOptions
from mtag.errors import UsageError
from tests.data.layouts import block_clips, clip, filtered_clips, gtzan_archive, gtzan_kaggle
from tests.reference import SHARED

GTZAN_MINI = SHARED / "datasets" / "gtzan-mini"


@pytest.fixture(scope="module")
def chosen() -> dict[str, list[str]]:
    return filtered_clips()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, chosen: dict[str, list[str]]) -> Path:
    clips = [key for keys in chosen.values() for key in keys] + ["pop/pop.00015"]  # a clip the filtered lists leave out
    return gtzan_archive(tmp_path_factory.mktemp("archive"), clips)


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory: pytest.TempPathFactory, chosen: dict[str, list[str]]) -> Path:
    return gtzan_kaggle(tmp_path_factory.mktemp("kaggle"), [key for keys in chosen.values() for key in keys])


def test_the_au_files_of_the_archive_layout_decode(archive: Path) -> None:
    info = probe(archive / "genres" / "blues" / "blues.00029.au")
    assert info.codec == "pcm_s16be" and info.duration == pytest.approx(0.25, abs=0.01)


def test_archive_layout_gives_the_filtered_split_with_the_missing_clips_counted(
    archive: Path, chosen: dict[str, list[str]]
) -> None:
    dataset = load_dataset("gtzan", archive)
    assert dataset.split == "filtered" and not dataset.multi_label
    assert dataset.labels == GENRES
    for split in (TRAIN, VALID, TEST):
        assert sorted(f"{e.labels[0]}/{e.path.stem}" for e in dataset.part(split)) == sorted(chosen[split])
    assert len(dataset.missing) == 930 - 50
    assert missing_line(dataset) == (
        f"missing 880 of the files the filtered split lists (e.g. {dataset.missing[0]}); the 50 found are used"
    )
    assert [(s.path.name, s.reason) for s in dataset.skipped] == [("pop.00015.au", NOT_FILTERED)]
    check_trainable(dataset)  # 3 training clips per genre is enough


def test_genres_map_to_the_genre_table_hiphop_is_hip_hop(archive: Path) -> None:
    genres = load_dataset("gtzan", archive).genres
    assert genres["hiphop"] == "Hip-Hop"
    assert genres["rock"] == "Rock" and genres["reggae"] == "Reggae"  # not in the table: a genre of its own


@pytest.mark.parametrize("inner", [".", "Data", "Data/genres_original"])
def test_kaggle_layout_is_found_from_any_of_its_folders(kaggle: Path, inner: str) -> None:
    dataset = load_dataset("gtzan", kaggle / inner)
    assert dataset.root == kaggle / "Data" / "genres_original"
    assert len(dataset.examples) == 50 and all(e.path.suffix == ".wav" for e in dataset.examples)


def test_kaggles_unreadable_jazz_00054_is_skipped_with_the_reason_not_missing(kaggle: Path) -> None:
    dataset = load_dataset("gtzan", kaggle)
    (bad,) = dataset.skipped
    assert bad.path.name == "jazz.00054.wav" and "Kaggle" in bad.reason
    assert "jazz/jazz.00054" not in dataset.missing  # it is in the train list, but it was found
    assert all(e.path.name != "jazz.00054.wav" for e in dataset.examples)


def test_a_converted_copy_in_any_audio_format_is_read(tmp_path: Path) -> None:
    for genre in ("blues", "rock"):
        clip(tmp_path / "genres" / genre / f"{genre}.00000.flac")
    dataset = load_dataset("gtzan", tmp_path, DatasetOptions(split="random"))
    assert sorted(e.path.name for e in dataset.examples) == ["blues.00000.flac", "rock.00000.flac"]


def test_random_and_folds_group_consecutive_index_blocks(tmp_path: Path) -> None:
    gtzan_archive(tmp_path, block_clips(("blues", "rock", "pop"), range(20)))
    for options in (DatasetOptions(split="random", seed=4), DatasetOptions(split="folds", fold=3)):
        dataset = load_dataset("gtzan", tmp_path, options)
        assert not dataset.missing and len(dataset.examples) == 60
        sides: dict[str, set[str]] = {}
        for example in dataset.examples:
            genre, number = example.path.stem.split(".")
            assert example.group == f"{genre}.{int(number) // 5}"
            sides.setdefault(example.group, set()).add(example.split)
        assert all(len(splits) == 1 for splits in sides.values())
        check_trainable(dataset)


def test_a_folder_without_gtzan_says_which_layout_was_expected_and_what_it_found(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UsageError) as error:
        load_dataset("gtzan", tmp_path)
    line = str(error.value)
    assert "genres/<genre>/<genre>.000NN.au" in line and "Data/genres_original" in line
    assert "found music/, notes.txt" in line and error.value.exit_code == 2


def test_a_missing_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the folder does not exist"):
        load_dataset("gtzan", tmp_path / "nowhere")
    with pytest.raises(UsageError, match="needs --data-dir"):
        load_dataset("gtzan", None)


def test_gtzan_has_no_official_split(archive: Path) -> None:
    with pytest.raises(UsageError, match="no 'official' split"):
        load_dataset("gtzan", archive, DatasetOptions(split="official"))


@pytest.mark.skipif(not GTZAN_MINI.is_dir(), reason=f"gtzan-mini not found at {GTZAN_MINI}")
def test_gtzan_mini_reports_the_clips_of_the_filtered_split_it_lacks() -> None:
    dataset = load_dataset("gtzan", GTZAN_MINI)
    assert len(dataset.missing) + len(dataset.examples) == 930
    assert missing_line(dataset) == (
        "missing 844 of the files the filtered split lists (e.g. blues/blues.00029); the 86 found are used"
    )
    with pytest.raises(UsageError, match="too few training tracks"):  # its clips are mostly in valid
        check_trainable(dataset)
    folds = load_dataset("gtzan", GTZAN_MINI, DatasetOptions(split="folds", fold=1))
    assert len(folds.examples) == 93 and not folds.missing
    check_trainable(folds)
