"""What ``mtag train`` prints while it runs: one whole line per epoch, whatever the output's width."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtag.cli.train_view import TrainView
from mtag.data import TEST, TRAIN, VALID, Dataset, Example
from mtag.train.events import EpochRecord


def _dataset() -> Dataset:
    examples = [
        Example(Path(f"{split}.flac"), ("blues",), split, f"g{n}") for n, split in enumerate((TRAIN, VALID, TEST))
    ]
    return Dataset("gtzan", Path("/data"), ("blues",), False, examples, "fold 1/5 (seed 0)")


def test_the_header_and_each_epoch_are_one_line_in_a_narrow_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")  # stdout is not a terminal here: Rich would wrap at this width
    record = EpochRecord(3, 0.7889, {"accuracy": 0.8, "pr_auc": 0.9, "roc_auc": 0.95}, 1e-3, 0.5, 12518.0, best=True)
    with TrainView(_dataset()) as view:
        view.stage("cache", 3)  # the header comes with the first stage, once the run passed its checks
        view.epoch(record)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "gtzan, fold 1/5 (seed 0) split: 1 labels, 1 / 1 / 1 tracks for train / valid / test"
    assert len(lines) == 2 and lines[1].startswith("epoch   3  loss 0.7889  valid: accuracy 0.800")
    assert lines[1].endswith("0.5 s (12518 examples/s)  best")
