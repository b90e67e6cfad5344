"""The learning-rate schedule: a linear warm-up, then a cosine decay to zero."""

from __future__ import annotations

import math

import torch


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_share: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Warm up over ``warmup_share`` of ``total_steps`` (at least one step), then follow a half cosine down.

    The warm-up keeps AdamW's first, badly estimated steps from throwing a
    freshly initialised head (or a pretrained backbone) far off.
    """
    warmup = max(1, round(total_steps * warmup_share))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
