"""Which properties of a track go with the model being right or wrong, and the tracks worth a look.

Effect size: Cliff's delta, the chance that a right track's value exceeds a
wrong track's minus the chance it falls below (-1 .. 1; 0 = no relation).
Rank-based, so it is untouched by the skew of durations or clipping shares and
by a few extreme values, it needs no assumption of normality, and for a 0/1
property (narrow band) it is simply the difference of the two groups' shares.
Magnitudes follow Romano et al. (2006): |delta| < 0.147 negligible, < 0.33
small, < 0.474 medium, else large.  The 95 % interval is a percentile
bootstrap, tracks resampled within the right and the wrong group, seeded per
property (by its name) so a property's interval does not change when others
are added.  It is an association, not a cause: loud tracks may just be of the
genres the model knows best.
"""

from __future__ import annotations

import math
import re
import shlex
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from mtag.evaluate.analyses import json_figure
from mtag.evaluate.properties import PROPERTIES

#: Romano et al.'s thresholds of |Cliff's delta|, with their words.
MAGNITUDES = ((0.147, "negligible"), (0.33, "small"), (0.474, "medium"), (math.inf, "large"))
#: Bootstrap replicates ranked at a time (bounds memory: block x tracks floats).
_BLOCK = 200


@dataclass(frozen=True)
class PropertyEffect:
    """One property among right and wrong tracks (``delta`` > 0: higher among the right ones)."""

    name: str
    right: int  # tracks measured (value not NaN) among the right ones
    wrong: int
    median_right: float
    median_wrong: float
    delta: float
    low: float  # the 95 % bootstrap interval of delta
    high: float

    @property
    def magnitude(self) -> str:
        if math.isnan(self.delta):
            return "not measurable"
        return next(word for bound, word in MAGNITUDES if abs(self.delta) < bound)

    @property
    def clear(self) -> bool:
        """The interval excludes 0: right and wrong tracks differ in this property beyond resampling noise."""
        return self.low > 0 or self.high < 0

    def to_json(self) -> dict[str, Any]:
        return {
            "property": self.name,
            "tracks_right": self.right,
            "tracks_wrong": self.wrong,
            "median_right": json_figure(self.median_right),
            "median_wrong": json_figure(self.median_wrong),
            "cliffs_delta": json_figure(self.delta),
            "ci95": [json_figure(self.low), json_figure(self.high)],
            "magnitude": self.magnitude,
        }


@dataclass(frozen=True)
class CharacteristicsStudy:
    """Every property's effect, largest |delta| first (not measurable last)."""

    effects: tuple[PropertyEffect, ...]
    seed: int
    n_boot: int

    def to_json(self) -> dict[str, Any]:
        return {
            "effect_size": "Cliff's delta (right vs wrong tracks; > 0: higher among right ones)",
            "ci": f"95 % percentile bootstrap, {self.n_boot} resamples within each group, seed {self.seed}",
            "properties": [effect.to_json() for effect in self.effects],
        }

    def markdown(self) -> str:
        lines = [
            "## Track characteristics: what goes with right and wrong answers",
            "",
            "Cliff's delta of each property between tracks the model got right and wrong "
            "(> 0: higher among the right ones; |delta| < 0.147 negligible, < 0.33 small, < 0.474 medium, else large), "
            f"with a 95 % bootstrap interval ({self.n_boot} resamples, seed {self.seed}). "
            "**Bold**: the interval excludes 0. An association, not a cause.",
            "",
            "| property | median right | median wrong | delta | 95 % CI | size | tracks right / wrong |",
            "| --- | ---: | ---: | ---: | --- | --- | ---: |",
        ]
        for e in self.effects:
            delta = f"**{e.delta:+.2f}**" if e.clear else _number(e.delta, "+.2f")
            interval = f"[{_number(e.low, '+.2f')}, {_number(e.high, '+.2f')}]"
            lines.append(
                f"| {e.name} | {_number(e.median_right)} | {_number(e.median_wrong)} | "
                f"{delta} | {interval} | {e.magnitude} | {e.right} / {e.wrong} |"
            )
        # The names stay short so the table fits a terminal; what each one measures follows it.
        lines += ["", *(f"- {e.name}: {PROPERTIES[e.name]}" for e in self.effects if e.name in PROPERTIES)]
        return "\n".join(lines) + "\n"


def cliffs_delta(right: np.ndarray, wrong: np.ndarray) -> float:
    """P(right > wrong) - P(right < wrong) over all pairs (ties count for neither); NaN if a group is empty."""
    if right.size == 0 or wrong.size == 0:
        return math.nan
    return float(_deltas(np.concatenate([right, wrong])[np.newaxis], right.size)[0])


def _deltas(rows: np.ndarray, n_right: int) -> np.ndarray:
    """Cliff's delta of every row, its first ``n_right`` values being the right group (Mann-Whitney U, rescaled)."""
    n_wrong = rows.shape[1] - n_right
    ranks = rankdata(rows, axis=1)[:, :n_right].sum(axis=1)
    u = ranks - n_right * (n_right + 1) / 2.0  # pairs the right group wins, ties counting half
    return 2.0 * u / (n_right * n_wrong) - 1.0


def property_effect(name: str, values: np.ndarray, correct: np.ndarray, seed: int, n_boot: int) -> PropertyEffect:
    """One property's :class:`PropertyEffect` (NaN values left out)."""
    measured = ~np.isnan(values)
    right, wrong = values[measured & correct], values[measured & ~correct]
    delta = cliffs_delta(right, wrong)
    low = high = math.nan
    if not math.isnan(delta) and n_boot > 0:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        replicates = []
        for start in range(0, n_boot, _BLOCK):
            block = min(_BLOCK, n_boot - start)
            rows = np.concatenate(
                [rng.choice(right, (block, right.size)), rng.choice(wrong, (block, wrong.size))], axis=1
            )
            replicates.append(_deltas(rows, right.size))
        low, high = (float(v) for v in np.percentile(np.concatenate(replicates), [2.5, 97.5]))
    return PropertyEffect(name, right.size, wrong.size, _median(right), _median(wrong), delta, low, high)


def characteristics_study(
    properties: list[dict[str, float]], correct: np.ndarray, seed: int, n_boot: int = 1000
) -> CharacteristicsStudy:
    """Effects of every property in ``properties`` (one dict per track, as :func:`track_properties` gives).

    ``correct`` holds one bool per track: the model's answer was right.  A
    property missing from a track's dict counts as not measured there.
    """
    correct = np.asarray(correct, dtype=bool)
    if len(properties) != correct.size:
        raise ValueError(f"{len(properties)} tracks' properties but {correct.size} right/wrong flags")
    names = list(dict.fromkeys(name for track in properties for name in track))
    effects = [
        property_effect(
            name, np.array([track.get(name, math.nan) for track in properties], float), correct, seed, n_boot
        )
        for name in names
    ]
    effects.sort(key=lambda e: (math.isnan(e.delta), -abs(e.delta) if not math.isnan(e.delta) else 0.0))
    return CharacteristicsStudy(tuple(effects), seed, n_boot)


# -- the tracks to look at -----------------------------------------------------------------------


@dataclass(frozen=True)
class WorstTrack:
    """A track the model got wrong with high confidence, and the command that shows why."""

    path: str
    truth: tuple[str, ...]
    predicted: str
    confidence: float
    command: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "true": list(self.truth),
            "predicted": self.predicted,
            "confidence": self.confidence,
            "inspect": self.command,
        }


@dataclass(frozen=True)
class WorstTracks:
    """The most confidently wrong tracks, most confident first."""

    tracks: tuple[WorstTrack, ...]

    def __iter__(self) -> Iterator[WorstTrack]:
        return iter(self.tracks)

    def __len__(self) -> int:
        return len(self.tracks)

    def to_json(self) -> list[dict[str, Any]]:
        return [track.to_json() for track in self.tracks]

    def markdown(self) -> str:
        lines = ["## The most confidently wrong tracks", ""]
        if not self.tracks:
            return "\n".join([*lines, "No track was wrong.", ""])
        lines += [
            "Each line: what the track is, what the model said and how sure it was, and the command that shows why.",
            "",
        ]
        for number, t in enumerate(self.tracks, 1):
            lines.append(
                f"{number}. {', '.join(t.truth)} heard as **{t.predicted}** ({t.confidence:.2f}): {_code(t.command)}"
            )
        return "\n".join(lines) + "\n"


def inspect_command(path: str | Path, model: str | None = None) -> str:
    """``mtag inspect`` for ``path``, quoted for a POSIX shell (spaces, quotes, a leading dash)."""
    words = ["mtag", "inspect"] + (["--model", model] if model else [])
    text = str(path)
    if text.startswith("-"):
        words.append("--")  # so a file called "-x.mp3" is not read as an option
    return " ".join(shlex.quote(word) for word in [*words, text])


def worst_tracks(
    paths: Sequence[str | Path],
    true_labels: Sequence[str | Sequence[str]],
    predicted: Sequence[str],
    confidence: Sequence[float] | np.ndarray,
    k: int = 10,
    model: str | None = None,
) -> WorstTracks:
    """The ``k`` wrong tracks with the highest confidence in their wrong answer.

    A track is wrong when ``predicted`` is not among its true labels (one
    label, or several for a multi-label data set); ``model`` goes into the
    inspect command so it looks with the model that was evaluated.
    """
    truths = [(label,) if isinstance(label, str) else tuple(str(one) for one in label) for label in true_labels]
    if not len(paths) == len(truths) == len(predicted) == len(confidence):
        raise ValueError("paths, true labels, predictions and confidences must have one entry per track")
    wrong = [i for i, (truth, guess) in enumerate(zip(truths, predicted)) if guess not in truth]
    wrong.sort(key=lambda i: -float(confidence[i]))
    return WorstTracks(
        tuple(
            WorstTrack(
                str(paths[i]), truths[i], str(predicted[i]), float(confidence[i]), inspect_command(paths[i], model)
            )
            for i in wrong[:k]
        )
    )


def _code(text: str) -> str:
    """``text`` as a Markdown code span, fenced by more backticks than it holds in a row."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else math.nan


def _number(value: float, spec: str | None = None) -> str:
    """A figure for the report: three significant digits, whole numbers from 1000 (7766 Hz, not 7.77e+03)."""
    if math.isnan(value):
        return "n/a"
    if abs(value) < 1e-9:
        value = 0.0  # rounding noise (a steady tone's loudness range: 7e-15 LU) reads as the 0 it is
    return format(value, spec or (".0f" if abs(value) >= 1000 else ".3g"))
