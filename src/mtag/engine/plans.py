"""Window plans: where a model's windows fall on a track, from its card and the user's seconds.

No torch here: the plan is made from the model card alone, so the decode
workers and a dry run's checks never load a network.
"""

from __future__ import annotations

import math

from mtag.audio.windows import WindowPlan
from mtag.cards import ModelCard
from mtag.errors import UsageError

#: ``--window`` range in seconds.  Under a second a window holds too little music for any genre (it is
#: also the shortest track mtag analyses); over 30 s a window costs ten musicnn windows of memory in one
#: forward pass and averages away the changes a shorter one shows.
WINDOW_RANGE = (1.0, 30.0)
#: ``--hop`` range in seconds: a hop under 0.1 s scores nearly the same audio again at up to 30 times the cost.
HOP_RANGE = (0.1, 30.0)


def default_plan(card: ModelCard) -> WindowPlan:
    """The model's own window and hop (for musicnn: 187 frames, no overlap)."""
    return WindowPlan(
        card.frontend.sample_rate,
        card.input.window_samples,
        card.input.hop_samples,
        card.frontend.framing,
        card.input.short_input,
    )


def whole_frames(seconds: float, plan: WindowPlan) -> int:
    """``seconds`` as a whole number of the plan's frames (at least one)."""
    return max(1, round(seconds * plan.sample_rate / plan.framing.hop))


def seconds_plan(card: ModelCard, window: float | None = None, hop: float | None = None) -> WindowPlan:
    """The model's plan with the window and/or hop set in seconds (rounded to whole frames).

    The hop defaults to the window, as in the original (no overlap).  Values
    outside :data:`WINDOW_RANGE` / :data:`HOP_RANGE` (and NaN or infinity) are
    a :class:`UsageError` naming the range.
    """
    plan = default_plan(card)
    step = plan.framing.hop

    def samples(seconds: float, what: str, bounds: tuple[float, float]) -> int:
        low, high = bounds
        if not (math.isfinite(seconds) and low <= seconds <= high):
            raise UsageError(f"--{what} {seconds:g} is out of range", hint=f"give {low:g} to {high:g} seconds")
        return whole_frames(seconds, plan) * step

    window_samples = plan.window if window is None else samples(window, "window", WINDOW_RANGE)
    if card.input.fixed_length and window_samples != plan.window:
        raise UsageError(
            f"model {card.name} takes {card.window_seconds:.3f} s windows only, not {window:g} s",
            hint="leave out --window, or use a model that takes any window length, such as musicnn",
        )
    hop_samples = window_samples if hop is None else samples(hop, "hop", HOP_RANGE)
    return WindowPlan(plan.sample_rate, window_samples, hop_samples, plan.framing, plan.short_input)
