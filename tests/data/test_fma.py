"""FMA: tracks.csv's two-row header, the official split, nested subsets, top genre or all genres."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtag.data.examples import TEST, TRAIN, VALID
from mtag.data.load import load_dataset
from mtag.data.options import DatasetOptions
from mtag.errors import UsageError
from tests.data.layouts import fma_track, fma_tree

TRACKS = [
    fma_track(2, "training", "Hip-Hop", "[21]", artist=1),
    fma_track(3, "training", "Hip-Hop", "[21]", artist=1),
    fma_track(5, "validation", "Rock", "[12, 25]", artist=2),
    fma_track(1010, "test", "Jazz", "[2]", artist=3),
    fma_track(1011, "training", "", "[10]", artist=4),  # no top genre (as in fma_large)
    fma_track(1012, "training", "Rock", "[12]", artist=5, subset="medium"),  # not in small
    fma_track(1013, "test", "Pop", "[10]", artist=6),
]


@pytest.fixture(scope="module")
def fma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = fma_tree(tmp_path_factory.mktemp("fma"), TRACKS)
    (root / "fma_small" / "001" / "001013.mp3").unlink()  # listed, not on disk
    return root


def test_official_split_of_the_small_subset_with_genre_top(fma: Path) -> None:
    dataset = load_dataset("fma", fma)
    assert dataset.split == "official (small)" and not dataset.multi_label
    found = {e.path.name: (e.labels, e.split, e.group) for e in dataset.examples}
    assert found == {
        "000002.mp3": (("Hip-Hop",), TRAIN, "artist 1"),
        "000003.mp3": (("Hip-Hop",), TRAIN, "artist 1"),
        "000005.mp3": (("Rock",), VALID, "artist 2"),
        "001010.mp3": (("Jazz",), TEST, "artist 3"),
    }
    assert dataset.missing == ["fma_small/001/001013.mp3"]
    assert [(s.path.name, s.reason) for s in dataset.skipped] == [("001011.mp3", "no genre in tracks.csv")]
    assert dataset.genres["Hip-Hop"] == "Hip-Hop"


def test_all_genres_are_named_through_genres_csv(fma: Path) -> None:
    dataset = load_dataset("fma", fma, DatasetOptions(fma_all_genres=True))
    assert dataset.multi_label
    labels = {e.path.name: e.labels for e in dataset.examples}
    assert labels["000005.mp3"] == ("Punk", "Rock") and labels["001011.mp3"] == ("Pop",)


def test_medium_includes_the_small_tracks(tmp_path: Path) -> None:
    fma_tree(tmp_path, TRACKS, audio=False)
    (tmp_path / "fma_small").rename(tmp_path / "fma_medium")
    dataset = load_dataset("fma", tmp_path, DatasetOptions(fma_subset="medium"))
    assert len(dataset.missing) == 6  # every track with a top genre of small and medium, none with audio
    assert "fma_medium/001/001012.mp3" in dataset.missing


def test_the_csv_without_the_index_name_row_reads_the_same(tmp_path: Path, fma: Path) -> None:
    fma_tree(tmp_path, TRACKS, index_row=False)
    assert len(load_dataset("fma", tmp_path).examples) == 5


def test_wrong_folders_say_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"expected fma_metadata/tracks\.csv"):
        load_dataset("fma", tmp_path)
    fma_tree(tmp_path, TRACKS)
    with pytest.raises(UsageError, match="no audio folder fma_large"):
        load_dataset("fma", tmp_path, DatasetOptions(fma_subset="large"))
    (tmp_path / "fma_metadata" / "tracks.csv").write_text("a,b\nc,d\n1,2\n")
    with pytest.raises(UsageError, match=r"tracks\.csv has no column \('set', 'split'\)"):
        load_dataset("fma", tmp_path)
