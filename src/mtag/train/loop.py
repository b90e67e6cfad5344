"""The epoch loop: AdamW, warm-up + cosine, clipping, gradient accumulation, early stopping, a checkpoint per epoch.

The loop knows nothing of audio or data sets: a :class:`~mtag.train.tasks.Task`
gives it batches and track scores.  Model selection follows one validation
figure (accuracy for single-label data, PR-AUC for multi-label); the best
epoch's weights are what the run keeps.

Gradient accumulation (``settings.accumulate`` = N) makes one optimizer step
of N batches: each batch's loss is weighted by its share of the examples in
the step, so the step's gradient is the one a batch N times larger gives
(BatchNorm statistics aside: each batch still normalises over itself).
Under DistributedDataParallel the gradients are averaged across processes
only on a step's last batch (``no_sync`` on the others).
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mtag.evaluate import metrics
from mtag.train.checkpoint import load_checkpoint, save_checkpoint
from mtag.train.distributed import ALONE, Ranks
from mtag.train.events import EpochRecord
from mtag.train.schedule import warmup_cosine
from mtag.train.settings import TrainSettings
from mtag.train.tasks import Batch, Task


@dataclass
class FitResult:
    best_epoch: int
    best_valid: dict[str, float]
    history: list[EpochRecord] = field(default_factory=list)
    stopped_early: bool = False


@dataclass
class LossFunction:
    """Softmax cross-entropy (one label per track) or sigmoid BCE (several), optionally weighted."""

    multi_label: bool
    weights: torch.Tensor | None = None  # per label: class weights (single) or positive weights (multi)

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        if self.multi_label:
            return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=self.weights)
        return F.cross_entropy(logits, targets, weight=self.weights)


class _Forward(nn.Module):
    """The task's training forward as a module, so DistributedDataParallel can wrap it."""

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.net = task.net
        self.task = [task]  # a list, so the task is not registered as a submodule

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.task[0].logits(inputs)


#: (step within the epoch, steps in the epoch, running loss) during an epoch
StepCallback = Callable[[int, int, float], None]


def fit(
    task: Task,
    settings: TrainSettings,
    loss_function: LossFunction,
    valid: Sequence[int],
    valid_targets: np.ndarray,
    *,
    run_folder: Path,
    fingerprint: dict[str, Any],
    resume: bool = False,
    ranks: Ranks = ALONE,
    autocast_dtype: torch.dtype | None = None,
    on_step: StepCallback | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> FitResult:
    """Train ``task`` for ``settings.epochs`` epochs or until validation stops improving."""
    assert settings.epochs is not None and settings.lr is not None
    multi_label = loss_function.multi_label
    headline = metrics.headline(multi_label)
    optimizer = torch.optim.AdamW(task.parameter_groups(settings.lr), weight_decay=settings.weight_decay)
    steps = task.steps_per_epoch()  # batches; the optimizer steps once per `accumulate` of them
    scheduler = warmup_cosine(optimizer, settings.epochs * -(-steps // settings.accumulate), settings.warmup)
    device = next(task.net.parameters()).device
    scaler = torch.amp.GradScaler("cuda", enabled=autocast_dtype == torch.float16)
    forward: nn.Module = _Forward(task)
    if ranks.distributed:
        forward = DistributedDataParallel(forward, device_ids=[device.index] if device.type == "cuda" else None)
    trainable = [p for group in optimizer.param_groups for p in group["params"]]

    result = FitResult(best_epoch=0, best_valid={})
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs = 0
    first_epoch = 1
    if resume:
        state = load_checkpoint(run_folder, fingerprint)
        task.net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        best_state, bad_epochs = state["best_state"], state["bad_epochs"]
        result = FitResult(state["best_epoch"], state["best_valid"], [EpochRecord(**r) for r in state["history"]])
        first_epoch = state["epoch"] + 1

    for epoch in range(first_epoch, settings.epochs + 1):
        if bad_epochs >= settings.patience:  # validation stopped improving (perhaps before a resume)
            result.stopped_early = True
            break
        started = time.perf_counter()
        torch.manual_seed(settings.seed * 1_000_003 + epoch)  # dropout masks: the same whether or not resumed
        rng = np.random.default_rng([settings.seed, epoch])
        total_loss, seen, step = 0.0, 0, 0
        for group in _groups(task.batches(rng, ranks), settings.accumulate):
            optimizer.zero_grad(set_to_none=True)
            examples = sum(len(targets) for _, targets in group)
            for micro, (inputs, targets) in enumerate(group, start=1):
                last = micro == len(group)
                # DDP averages gradients across processes on the step's last batch only.
                syncing = nullcontext() if last or not ranks.distributed else forward.no_sync()  # type: ignore[operator]
                with syncing:
                    with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                        loss = loss_function(forward(inputs), targets)
                    scaler.scale(loss * (len(targets) / examples)).backward()
                total_loss += float(loss.detach()) * len(targets)
                seen += len(targets)
                step += 1
                if on_step is not None:
                    on_step(step, steps, total_loss / max(seen, 1))
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(trainable, settings.clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
        mean_loss = ranks.mean(total_loss / max(seen, 1))
        scores = ranks.gather_rows(valid, task.track_scores(ranks.share(valid)))
        figures = metrics.summary(scores, valid_targets, multi_label)
        seconds = time.perf_counter() - started
        record = EpochRecord(
            epoch, mean_loss, figures, optimizer.param_groups[0]["lr"], seconds, seen * ranks.world / seconds
        )
        if best_state is None or _better(figures[headline], result.best_valid.get(headline)):
            record.best = True
            result.best_epoch, result.best_valid = epoch, figures
            best_state = copy.deepcopy(task.net.state_dict())
            bad_epochs = 0
        else:
            bad_epochs += 1
        result.history.append(record)
        if ranks.leader:
            save_checkpoint(
                run_folder,
                {
                    "fingerprint": fingerprint,
                    "epoch": epoch,
                    "net": task.net.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "best_state": best_state,
                    "best_epoch": result.best_epoch,
                    "best_valid": result.best_valid,
                    "bad_epochs": bad_epochs,
                    "history": [r.__dict__ for r in result.history],
                },
            )
        if on_epoch is not None:
            on_epoch(record)
    assert best_state is not None
    task.net.load_state_dict(best_state)
    return result


def _groups(batches: Iterable[Batch], size: int) -> Iterator[list[Batch]]:
    """Consecutive batches ``size`` at a time (the last group may be shorter): one optimizer step each."""
    iterator = iter(batches)
    while group := list(itertools.islice(iterator, size)):
        yield group


def _better(value: float, best: float | None) -> bool:
    if math.isnan(value):
        return False
    return best is None or math.isnan(best) or value > best
