"""What a diagnostic rule reports: a named finding, its severity, a plain-words line and where it happens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Severities, mildest first.  ``info``: worth knowing, the decision stands; ``warning``: the decision
#: may be wrong for this reason; ``error``: there is no trustworthy decision for this file.
INFO, WARNING, ERROR = "info", "warning", "error"
SEVERITIES = (INFO, WARNING, ERROR)


@dataclass(frozen=True)
class Finding:
    """One rule that fired on one file."""

    name: str  # the rule's name, stable for scripts: "clipping", "narrow-band", ...
    severity: str  # one of SEVERITIES
    message: str  # one line, plain words, with the figures that made the rule fire
    times: tuple[tuple[float, float], ...] = field(default=())  # the stretches concerned (seconds), if any

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "times": [[round(start, 3), round(end, 3)] for start, end in self.times],
        }


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def span(start: float, end: float) -> str:
    """``1:02.5-1:05.5``: how times read in messages and tables."""
    return f"{_clock(start)}-{_clock(end)}"


def merge_times(times: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Touching or overlapping stretches joined, in order."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(times):
        if merged and start <= merged[-1][1] + 1e-6:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
