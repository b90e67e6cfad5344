"""The refusals made before decoding, and the header audit that finds unreadable files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtag.data.check import audit, check_trainable, problems, without_unreadable
from mtag.data.examples import TEST, TRAIN, VALID, Dataset, Example
from tests.data.layouts import SECONDS, clip


def dataset(examples: list[Example], labels: tuple[str, ...] = ("jazz", "rock")) -> Dataset:
    return Dataset("folder", Path("/music"), labels, False, examples, "random (seed 0)")


def examples(label: str, splits: dict[str, int]) -> list[Example]:
    return [
        Example(Path(f"/music/{label}/{split}{i}.flac"), (label,), split, f"{label}/{split}{i}")
        for split, count in splits.items()
        for i in range(count)
    ]


def test_a_usable_data_set_has_no_problems() -> None:
    data = dataset(examples("jazz", {TRAIN: 3, VALID: 1, TEST: 1}) + examples("rock", {TRAIN: 3, VALID: 1, TEST: 1}))
    assert problems(data) == []
    check_trainable(data)


def test_an_empty_split_is_named_with_a_hint() -> None:
    data = dataset(examples("jazz", {TRAIN: 5}) + examples("rock", {TRAIN: 5, TEST: 1}))
    assert problems(data) == ["the valid split is empty"]
    with pytest.raises(Exception, match=r"cannot be trained on: the valid split is empty \(choose --split random"):
        check_trainable(data)


def test_labels_with_too_few_training_tracks_are_named_with_their_counts() -> None:
    data = dataset(examples("jazz", {TRAIN: 2, VALID: 1, TEST: 1}) + examples("rock", {TRAIN: 5, VALID: 1, TEST: 1}))
    assert problems(data) == ["too few training tracks (fewer than 3) for jazz (2)"]
    assert problems(data, min_train=2) == []


def test_audit_finds_durations_and_unreadable_files(tmp_path: Path) -> None:
    good = [clip(tmp_path / f"rock/{i}.flac") for i in range(3)]
    bad = tmp_path / "rock" / "bad.flac"
    bad.write_bytes(b"fLaC but nothing else")
    empty = tmp_path / "rock" / "empty.mp3"
    empty.write_bytes(b"")
    paths = [*good, bad, empty]
    data = dataset([Example(p, ("rock",), TRAIN, p.name) for p in paths], ("rock",))
    ticks: list[int] = []
    found = audit(data.examples, workers=2, on_file=lambda: ticks.append(1))
    assert len(ticks) == 5
    assert sorted(s.path.name for s in found.unreadable) == ["bad.flac", "empty.mp3"]
    spread = found.spread()
    assert spread is not None and spread["median"] == pytest.approx(SECONDS, abs=0.01)
    assert spread["total"] == pytest.approx(3 * SECONDS, abs=0.03)
    usable = without_unreadable(data, found)
    assert [e.path for e in usable.examples] == good
    assert {s.path for s in usable.skipped} == {bad, empty}
