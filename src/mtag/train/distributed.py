"""Training on several processes with PyTorch's own engine (``torchrun``, DistributedDataParallel).

``torchrun --nproc-per-node N -m mtag train ...`` starts N copies of the
command; each finds its rank in the environment torchrun sets.  Every rank
draws the same global batch (same seed, same epoch) and trains on its slice,
DDP averages the gradients, so N processes step exactly as one process with
the whole batch would.  Track scores are split across ranks and gathered, so
every rank computes the same validation figures; only rank 0 writes
checkpoints, logs and the model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    """This process's place among the training processes (rank 0 of 1 when alone)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def leader(self) -> bool:
        """Rank 0: the one process that writes and prints."""
        return self.rank == 0

    def share(self, items: Sequence[int]) -> list[int]:
        """This rank's slice of ``items`` (every ``world``-th from ``rank``)."""
        return list(items[self.rank :: self.world])

    def gather_rows(self, indices: Sequence[int], rows: np.ndarray) -> np.ndarray:
        """Rows each rank computed for its :meth:`share` of ``indices``, reassembled in ``indices`` order."""
        if not self.distributed:
            return rows
        parts: list[np.ndarray | None] = [None] * self.world
        dist.all_gather_object(parts, rows)
        out = np.zeros((len(indices), rows.shape[1]), dtype=np.float32)
        for rank, part in enumerate(parts):
            assert part is not None
            out[rank :: self.world] = part
        return out

    def leader_first(self, build: Callable[[], T]) -> T:
        """``build()`` on rank 0, then on the others: caches are written once and only read by the rest."""
        if not self.distributed:
            return build()
        if self.leader:
            result = build()
        dist.barrier()
        if not self.leader:
            result = build()
        return result

    def mean(self, value: float) -> float:
        """The mean of a number over all ranks."""
        if not self.distributed:
            return value
        tensor = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(tensor)
        return float(tensor.item()) / self.world


#: A process training alone.
ALONE = Ranks()


def from_environment() -> Ranks:
    """The ranks torchrun set in the environment; joins the process group when there are several."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return ALONE
    ranks = Ranks(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend, timeout=timedelta(minutes=30))
    return ranks


def device_for(ranks: Ranks, requested: str) -> str:
    """One GPU per process: rank ``local_rank`` takes ``cuda:local_rank`` where the request was a GPU."""
    if ranks.distributed and requested in {"auto", "cuda"} and torch.cuda.is_available():
        return f"cuda:{ranks.local_rank}"
    return requested


def finish(ranks: Ranks) -> None:
    """Leave the process group (torchrun waits for every rank to do so)."""
    if ranks.distributed and dist.is_initialized():
        dist.destroy_process_group()
