"""A folder per label: nested albums kept whole, loose files, --labels, and wrong folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtag.data.check import check_trainable
from mtag.data.load import load_dataset
from mtag.data.options import DatasetOptions
from mtag.errors import UsageError
from tests.data.layouts import clip


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three labels, six albums each of two tracks (one a disc folder deeper), a single per label."""
    root = tmp_path_factory.mktemp("folder")
    for label, ext in (("Hip Hop", ".flac"), ("rock", ".wav"), ("jazz", ".mp3")):
        for album in range(6):
            clip(root / label / f"album{album}" / f"01{ext}")
            clip(root / label / f"album{album}" / "disc 2" / f"02{ext}")
        clip(root / label / f"single{ext}")
    clip(root / "loose.flac")
    (root / "rock" / "cover.jpg").write_bytes(b"jpeg")
    return root


def test_labels_are_the_folders_and_albums_never_straddle_the_split(tree: Path) -> None:
    dataset = load_dataset("folder", tree, DatasetOptions(seed=3))
    assert dataset.labels == ("Hip Hop", "jazz", "rock") and dataset.split == "random (seed 3)"
    assert len(dataset.examples) == 3 * 13
    sides: dict[str, set[str]] = {}
    for example in dataset.examples:
        sides.setdefault(example.group, set()).add(example.split)
    assert len(sides["rock/album2"]) == 1 and "rock/single.wav" in sides
    assert all(len(splits) == 1 for splits in sides.values())
    assert [(s.path.name, s.reason) for s in dataset.skipped] == [("loose.flac", "not in a label folder")]
    assert dataset.genres == {"Hip Hop": "Hip-Hop", "jazz": "Jazz", "rock": "Rock"}
    check_trainable(dataset)


def test_labels_restrict_and_an_unknown_label_names_the_folders_there(tree: Path) -> None:
    dataset = load_dataset("folder", tree, DatasetOptions(labels=("rock", "jazz"), split="folds", fold=2))
    assert dataset.labels == ("jazz", "rock") and dataset.split == "fold 2/5 (seed 0)"
    with pytest.raises(UsageError, match="no label folder 'metal'.*Hip Hop, jazz, rock"):
        load_dataset("folder", tree, DatasetOptions(labels=("metal",)))


def test_a_folder_has_no_split_of_its_own(tree: Path) -> None:
    with pytest.raises(UsageError, match="folder has no 'filtered' split"):
        load_dataset("folder", tree, DatasetOptions(split="filtered"))


def test_a_folder_of_loose_files_is_not_a_folder_per_label(tmp_path: Path) -> None:
    clip(tmp_path / "a.flac")
    with pytest.raises(UsageError, match=r"expected <label>/<any sub-folders>/<audio files>; found a\.flac"):
        load_dataset("folder", tmp_path)


def test_one_label_is_refused_before_any_decoding(tmp_path: Path) -> None:
    for album in range(10):
        clip(tmp_path / "rock" / f"album{album}" / "01.flac")
    with pytest.raises(UsageError, match=r"it has one label \(rock\); a classifier needs two or more") as error:
        check_trainable(load_dataset("folder", tmp_path))
    assert error.value.exit_code == 2
