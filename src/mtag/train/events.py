"""What a training run reports as it goes (torch-free, so the CLI can import it before any work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class EpochRecord:
    """One epoch's figures: what the per-epoch table and the JSON-lines log show."""

    epoch: int
    loss: float
    valid: dict[str, float]
    lr: float
    seconds: float
    examples_per_second: float
    best: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "loss": self.loss,
            **{f"valid_{k}": v for k, v in self.valid.items()},
            "lr": self.lr,
            "seconds": round(self.seconds, 3),
            "examples_per_second": round(self.examples_per_second, 1),
            "best": self.best,
        }


class TrainEvents:
    """What a run reports as it goes; the CLI draws it, a Python caller may ignore it."""

    def stage(self, name: str, total: int) -> None:
        """A stage began (``cache``, ``features``, ``train``, ``test``) with ``total`` units of work."""

    def advance(self, done: int, total: int) -> None:
        """``done`` of the stage's ``total`` units are finished."""

    def step(self, step: int, steps: int, loss: float) -> None:
        """A training step finished."""

    def epoch(self, record: EpochRecord) -> None:
        """An epoch finished and was validated."""

    def note(self, message: str) -> None:
        """Something the user should know that does not stop the run (missing or unreadable files)."""
