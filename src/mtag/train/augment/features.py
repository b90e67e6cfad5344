"""Augmentations of the network's input and targets: SpecAugment masks and mixup."""

from __future__ import annotations

import torch


def span_mask(size: int, starts: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """``(B, size)`` booleans: True on ``[starts[b, m], starts[b, m] + widths[b, m])`` for every mask ``m``."""
    position = torch.arange(size, device=starts.device)[None, None, :]
    inside = (position >= starts[..., None]) & (position < (starts + widths)[..., None])
    return inside.any(dim=1)


def random_spans(
    batch: int, size: int, count: int, max_share: float, gen: torch.Generator, device: torch.device
) -> torch.Tensor:
    """``count`` spans per example, each ``0..floor(max_share * size)`` wide (uniform) at a uniform start."""
    if count == 0 or size == 0:
        return torch.zeros(batch, size, dtype=torch.bool, device=device)
    longest = int(max_share * size)
    widths = torch.randint(0, longest + 1, (batch, count), generator=gen, device=device)
    starts = (torch.rand(batch, count, generator=gen, device=device) * (size - widths + 1)).long()
    return span_mask(size, starts, widths)


def specaugment(
    x: torch.Tensor,
    freq_masks: int,
    freq_share: float,
    time_masks: int,
    time_share: float,
    chosen: torch.Tensor,
    gen: torch.Generator,
) -> torch.Tensor:
    """Frequency and time masks on ``x`` ``(B, frames, bands)`` for the examples ``chosen`` (Park et al. 2019).

    A mask sets its cells to the example's mean value: Park et al. mask
    normalised features with zero, their mean; the front ends here are not
    normalised, so the mean is the value that adds no level of its own.
    """
    batch, frames, bands = x.shape
    time = random_spans(batch, frames, time_masks, time_share, gen, x.device)
    freq = random_spans(batch, bands, freq_masks, freq_share, gen, x.device)
    masked = (time[:, :, None] | freq[:, None, :]) & chosen[:, None, None]
    mean = x.mean(dim=(1, 2), keepdim=True)
    return torch.where(masked, mean, x)


def mixup(x: torch.Tensor, y: torch.Tensor, weight: float, partner: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``weight * (x, y) + (1 - weight) * (x, y)[partner]`` (Zhang et al. 2018).

    Targets are one-hot rows (single label: the mixed row is a probability
    distribution, which the cross-entropy takes as soft targets) or multi-hot
    rows (each label's mixed value is the BCE target).
    """
    return weight * x + (1 - weight) * x[partner], weight * y + (1 - weight) * y[partner]
