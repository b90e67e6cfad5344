"""Random and k-fold splits: groups never on both sides, stratified, reproducible, folds a partition."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mtag.data.examples import SPLITS, TEST, TRAIN, VALID, Example
from mtag.data.options import FOLDS, RANDOM, DatasetOptions
from mtag.data.splits import resplit
from mtag.errors import UsageError


def pool(groups_per_label: dict[str, int], tracks_per_group: int = 4) -> list[Example]:
    """Examples of single-label groups: ``label/gN`` with ``tracks_per_group`` tracks each."""
    return [
        Example(Path(f"/{label}/g{g}/t{t}.flac"), (label,), "", f"{label}/g{g}")
        for label, count in groups_per_label.items()
        for g in range(count)
        for t in range(tracks_per_group)
    ]


def sides(examples: list[Example]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for example in examples:
        found.setdefault(example.group, set()).add(example.split)
    return found


def test_random_split_keeps_each_group_on_one_side_and_is_stratified() -> None:
    examples, description = resplit(pool({"rock": 30, "jazz": 20, "folk": 10}), DatasetOptions(seed=1), RANDOM)
    assert description == "random (seed 1)"
    assert all(len(splits) == 1 for splits in sides(examples).values())
    for label, groups in (("rock", 30), ("jazz", 20), ("folk", 10)):
        per_split = Counter(e.split for e in examples if e.labels == (label,))
        total = groups * 4
        assert per_split[TRAIN] / total == pytest.approx(0.7, abs=0.11)
        assert per_split[TEST] / total == pytest.approx(0.2, abs=0.11)
        assert per_split[VALID] > 0


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    data = pool({"rock": 10, "jazz": 10})
    first, _ = resplit(data, DatasetOptions(seed=7), RANDOM)
    again, _ = resplit(list(reversed(data)), DatasetOptions(seed=7), RANDOM)  # input order does not matter
    other, _ = resplit(data, DatasetOptions(seed=8), RANDOM)
    assert {e.path: e.split for e in first} == {e.path: e.split for e in again}
    assert {e.path: e.split for e in first} != {e.path: e.split for e in other}


def test_k_folds_partition_the_groups_and_train_valid_test_never_share_one() -> None:
    data = pool({"rock": 12, "jazz": 8, "folk": 5}, tracks_per_group=3)
    tested: Counter[str] = Counter()
    for fold in range(1, 6):
        examples, description = resplit(data, DatasetOptions(folds=5, fold=fold, seed=2), FOLDS)
        assert description == f"fold {fold}/5 (seed 2)"
        assert all(len(splits) == 1 for splits in sides(examples).values())
        assert {e.split for e in examples} == set(SPLITS)
        tested.update(e.path.as_posix() for e in examples if e.split == TEST)
    assert sorted(tested) == sorted(e.path.as_posix() for e in data)  # every track tested exactly once
    assert set(tested.values()) == {1}


def test_folds_are_stratified_a_five_group_label_lands_once_in_each_fold() -> None:
    data = pool({"rock": 25, "folk": 5})
    for fold in range(1, 6):
        examples, _ = resplit(data, DatasetOptions(fold=fold), FOLDS)
        assert len({e.group for e in examples if e.split == TEST and e.labels == ("folk",)}) == 1


def test_multi_label_groups_are_filed_under_their_rarest_label() -> None:
    data = [Example(Path(f"/a{i}.flac"), ("rock", "sitar") if i < 5 else ("rock",), "", f"album{i}") for i in range(40)]
    examples, _ = resplit(data, DatasetOptions(seed=0), RANDOM)
    sitar = Counter(e.split for e in examples if "sitar" in e.labels)
    assert sitar[TRAIN] >= 3 and sitar[TEST] >= 1  # the 5 sitar albums are spread, not left to chance


@pytest.mark.parametrize(
    "options",
    [
        {"split": "shuffled"},
        {"folds": 1},
        {"fold": 6},
        {"fold": 0},
        {"valid_share": 0.5, "test_share": 0.5},
        {"fma_subset": "tiny"},
    ],
)
def test_impossible_options_are_refused_in_one_line(options: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        DatasetOptions(**options)  # type: ignore[arg-type]


def test_validation_is_the_next_fold_so_every_label_is_validated() -> None:
    """A fold is stratified: as validation it holds every label, where a small share could hold one genre."""
    data = pool({"rock": 10, "jazz": 10, "folk": 10, "soul": 10})
    for fold in range(1, 6):
        examples, _ = resplit(data, DatasetOptions(folds=5, fold=fold), FOLDS)
        valid = {e.labels[0] for e in examples if e.split == VALID}
        assert valid == {"rock", "jazz", "folk", "soul"}
        nxt, _ = resplit(data, DatasetOptions(folds=5, fold=fold % 5 + 1), FOLDS)
        assert {e.path for e in examples if e.split == VALID} == {e.path for e in nxt if e.split == TEST}


def test_two_folds_take_validation_from_the_training_fold() -> None:
    data = pool({"rock": 10, "jazz": 10})
    examples, _ = resplit(data, DatasetOptions(folds=2, fold=1), FOLDS)
    counts = Counter(e.split for e in examples)
    assert counts[TEST] == 40 and counts[VALID] > 0 and counts[TRAIN] > counts[VALID]


def test_a_label_with_few_groups_keeps_enough_in_training() -> None:
    data = pool({"rock": 10, "folk": 2}) + pool({"jazz": 3}, tracks_per_group=2)
    for fold in range(1, 6):
        examples, _ = resplit(data, DatasetOptions(folds=5, fold=fold), FOLDS)
        for label in ("folk", "jazz"):
            assert sum(e.split == TRAIN and e.labels == (label,) for e in examples) >= 3
