"""Gradient accumulation: N batches of B make the same step as one batch of N x B."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mtag.train.distributed import Ranks
from mtag.train.loop import LossFunction, fit
from mtag.train.settings import TrainSettings


class LinearTask:
    """A linear classifier on fixed random inputs, batches in a fixed order: nothing random but the start."""

    def __init__(self, batch_size: int) -> None:
        torch.manual_seed(0)
        self.net = nn.Linear(6, 3)
        generator = torch.Generator().manual_seed(1)
        self.inputs = torch.randn(16, 6, generator=generator)
        self.targets = torch.randint(0, 3, (16,), generator=generator)
        self.batch_size = batch_size

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        return [{"params": list(self.net.parameters()), "lr": lr}]

    def steps_per_epoch(self) -> int:
        return -(-16 // self.batch_size)

    def batches(self, rng: np.random.Generator, ranks: Ranks) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, 16, self.batch_size):
            yield self.inputs[start : start + self.batch_size], self.targets[start : start + self.batch_size]

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs)

    def track_scores(self, indices: Sequence[int]) -> np.ndarray:
        return np.full((len(indices), 3), 1 / 3, np.float32)


def trained_weights(tmp_path: Path, batch_size: int, accumulate: int) -> list[torch.Tensor]:
    task = LinearTask(batch_size)
    settings = TrainSettings(epochs=1, lr=0.1, warmup=0.0, clip=1e9, accumulate=accumulate)
    fit(
        task,
        settings,
        LossFunction(False),
        [0],
        np.zeros((1, 3), np.float32),
        run_folder=tmp_path / f"{batch_size}x{accumulate}",
        fingerprint={},
    )
    return [p.detach().clone() for p in task.net.parameters()]


def test_two_batches_of_four_step_as_one_batch_of_eight(tmp_path: Path) -> None:
    big = trained_weights(tmp_path, 8, 1)
    accumulated = trained_weights(tmp_path, 4, 2)
    small = trained_weights(tmp_path, 4, 1)
    for a, b in zip(big, accumulated):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not all(torch.allclose(a, b, atol=1e-4) for a, b in zip(big, small))  # without it the run differs


def test_a_short_last_group_steps_with_what_it_has(tmp_path: Path) -> None:
    # 16 examples, batches of 4, 3 per step: steps of 12 and 4 examples, as batches of 12 would make.
    for a, b in zip(trained_weights(tmp_path, 12, 1), trained_weights(tmp_path, 4, 3)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
