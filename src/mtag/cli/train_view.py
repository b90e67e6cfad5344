"""What ``mtag train`` draws while it runs: a progress bar per stage, a line per epoch.

Progress goes to stderr and only on a terminal; the per-epoch table goes to
stdout unless ``--json`` asked for the final record alone, one line per epoch
whatever the width (``soft_wrap``), so a log or ``grep epoch`` reads it whole.  Under torchrun
only rank 0 draws, so N processes print one table.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mtag.cli import console
from mtag.cli.progress import StagedProgress

if TYPE_CHECKING:
    from mtag.data import Dataset
    from mtag.train.events import EpochRecord

_STAGES = {
    "cache": "decoding into the cache",
    "copies": "augmented copies (--augment-copies)",
    "features": "frozen-network features",
    "train": "training",
    "test": "testing",
}


class TrainView(StagedProgress):
    """A :class:`~mtag.train.events.TrainEvents` that draws on the terminal."""

    def __init__(self, dataset: Dataset, quiet: bool = False) -> None:
        self.leader = os.environ.get("RANK", "0") == "0"
        super().__init__(show=self.leader)
        self.quiet = quiet or not self.leader
        self.dataset = dataset
        self.last_epoch = 0  # the last epoch finished (and checkpointed)

    def _describe(self) -> None:
        d = self.dataset
        counts = {split: len(d.part(split)) for split in ("train", "valid", "test")}
        console.out.print(
            f"{d.name}, {d.split} split: {len(d.labels)} labels, "
            f"{counts['train']} / {counts['valid']} / {counts['test']} tracks for train / valid / test",
            soft_wrap=True,
        )
        if d.missing:
            console.err.print(
                f"mtag: {len(d.missing)} file(s) listed by the {d.split} split are not in {console.shown(d.root)}; "
                "training on the ones found"
            )

    def stage(self, name: str, total: int) -> None:
        if name == "cache" and not self.quiet:  # the run passed its checks: say what it trains on
            self._describe()
        self.begin(_STAGES.get(name, name), total if name != "train" else None)

    def step(self, step: int, steps: int, loss: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=step, total=steps, detail=f"loss {loss:.4f}")

    def epoch(self, record: EpochRecord) -> None:
        self.last_epoch = record.epoch
        if self.quiet:
            return
        figures = "  ".join(f"{name} {value:.3f}" for name, value in record.valid.items())
        marker = "  best" if record.best else ""
        console.out.print(
            f"epoch {record.epoch:3d}  loss {record.loss:.4f}  valid: {figures}  lr {record.lr:.2e}  "
            f"{record.seconds:.1f} s ({record.examples_per_second:.0f} examples/s){marker}",
            soft_wrap=True,
        )

    def note(self, message: str) -> None:
        if self.leader:
            console.err.print(f"mtag: {message}")
