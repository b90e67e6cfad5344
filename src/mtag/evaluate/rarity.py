"""Do the genres a model saw least in training fare worst?  Per-class metric against training frequency.

The frequencies come from the model's card: ``mtag train`` records the
training split's tracks per label (``training.label_counts``).  The shipped
musicnn models' cards do not hold them: the Million Song Dataset's and
MagnaTagATune's per-tag counts for the musicnn checkpoints are published
neither in the musicnn package nor in its reference material, so the study
refuses those models rather than guess.

A class is *rare* when it had fewer than half the median class's training
tracks (RARE_SHARE_OF_MEDIAN): relative to the model's own data, so it means
the same for a 100-track folder and for FMA, and unlike a bottom quartile it
names no class rare in a balanced data set such as GTZAN.  The relation is
Spearman's rank correlation (monotone, not linear: counts span orders of
magnitude), with its p-value; it is not computed for fewer than 3 classes or
when either column is constant.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from mtag.cards import ModelCard
from mtag.data.genres import genre_key
from mtag.errors import UsageError
from mtag.evaluate.analyses import json_figure, shown_figure

#: A class is rare under this share of the median class's training tracks.
RARE_SHARE_OF_MEDIAN = 0.5
#: Spearman's rho needs this many classes to say anything.
MIN_CLASSES = 3


@dataclass(frozen=True)
class ClassFrequency:
    """One class: its training tracks, their share of the training split, its metric, and whether it is rare."""

    name: str
    tracks: int
    share: float
    value: float
    rare: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.name,
            "training_tracks": self.tracks,
            "training_share": self.share,
            "metric": json_figure(self.value),
            "rare": self.rare,
        }


@dataclass(frozen=True)
class RareStudy:
    """Each class's training frequency beside its metric, rarest first, and the rank correlation."""

    model: str
    metric: str
    classes: tuple[ClassFrequency, ...]
    rho: float
    p_value: float
    note: str  # why rho is NaN, when it is
    unmatched: tuple[str, ...]  # classes measured but not found among the model's training labels

    @property
    def rare(self) -> tuple[ClassFrequency, ...]:
        return tuple(c for c in self.classes if c.rare)

    def mean_metric(self, rare: bool) -> float:
        """Mean metric of the rare (or the other) classes; NaN when there are none."""
        values = [c.value for c in self.classes if c.rare == rare and not math.isnan(c.value)]
        return float(np.mean(values)) if values else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "metric": self.metric,
            "rare_rule": f"fewer than {RARE_SHARE_OF_MEDIAN:g} x the median class's training tracks",
            "spearman_rho": json_figure(self.rho),
            "p_value": json_figure(self.p_value),
            "note": self.note or None,
            "mean_metric_rare": json_figure(self.mean_metric(True)),
            "mean_metric_others": json_figure(self.mean_metric(False)),
            "classes": [c.to_json() for c in self.classes],
            "unmatched": list(self.unmatched),
        }

    def markdown(self) -> str:
        lines = ["## Rare genres: training frequency against " + self.metric, "", self.verdict(), ""]
        lines += [f"| class | training tracks | share | {self.metric} | rare |", "| --- | ---: | ---: | ---: | --- |"]
        for c in self.classes:
            value = shown_figure(c.value)
            lines.append(f"| {c.name} | {c.tracks} | {100 * c.share:.1f} % | {value} | {'yes' if c.rare else ''} |")
        if self.unmatched:
            lines += ["", f"Not among {self.model}'s training labels (left out): {', '.join(self.unmatched)}."]
        return "\n".join(lines) + "\n"

    def verdict(self) -> str:
        """The study in two sentences: the correlation, and how the rare classes fare."""
        if math.isnan(self.rho):
            said = f"Spearman's rho is not computed: {self.note}."
        else:
            said = (
                f"Spearman's rho between training tracks and {self.metric}: {self.rho:+.2f} (p = {self.p_value:.2g})."
            )
        rare = self.rare
        if not rare:
            return said + f" No class is rare (under {RARE_SHARE_OF_MEDIAN:g} x the median class's training tracks)."
        names = ", ".join(c.name for c in rare)
        return said + (
            f" Rare (under {RARE_SHARE_OF_MEDIAN:g} x the median class's training tracks): {names}; "
            f"their mean {self.metric} {shown_figure(self.mean_metric(True))} "
            f"against {shown_figure(self.mean_metric(False))} for the others."
        )


def training_counts(card: ModelCard) -> dict[str, int]:
    """Training tracks per label from the card; a :class:`UsageError` naming the model when it has none."""
    counts = (card.training or {}).get("label_counts")
    if not isinstance(counts, dict) or not counts:
        raise UsageError(
            f"model {card.name!r} does not record its training tracks per label, so the rare study cannot run",
            hint="use a model trained with 'mtag train' (its card lists them); the shipped models' cards "
            "do not hold their data sets' tag frequencies",
        )
    return {str(label): int(count) for label, count in counts.items()}


def rare_study(card: ModelCard, per_class: dict[str, float], metric: str) -> RareStudy:
    """Per-class ``metric`` (class -> value) against the class's training frequency in ``card``.

    Classes are matched to training labels by name, or through the card's
    label -> genre mapping (``mtag eval`` reports canonical genres), spelling
    aside; labels meaning one genre add up.
    """
    counts = training_counts(card)
    total = sum(counts.values())
    by_key: dict[str, int] = {}
    for label, count in counts.items():
        for key in {genre_key(label), genre_key(card.genres.get(label, label))}:
            by_key[key] = by_key.get(key, 0) + count
    matched = {name: by_key[genre_key(name)] for name in per_class if genre_key(name) in by_key}
    unmatched = tuple(name for name in per_class if name not in matched)
    median = float(np.median(list(matched.values()))) if matched else 0.0
    classes = sorted(
        (
            ClassFrequency(
                name,
                tracks,
                tracks / total if total else 0.0,
                float(per_class[name]),
                tracks < RARE_SHARE_OF_MEDIAN * median,
            )
            for name, tracks in matched.items()
        ),
        key=lambda c: (c.tracks, c.name),
    )
    rho, p_value, note = _spearman([c.tracks for c in classes], [c.value for c in classes])
    return RareStudy(card.name, metric, tuple(classes), rho, p_value, note, unmatched)


def _spearman(tracks: list[int], values: list[float]) -> tuple[float, float, str]:
    pairs = [(t, v) for t, v in zip(tracks, values) if not math.isnan(v)]
    if len(pairs) < MIN_CLASSES:
        return math.nan, math.nan, f"{len(pairs)} classes measured, it needs {MIN_CLASSES}"
    x, y = zip(*pairs)
    if len(set(x)) == 1 or len(set(y)) == 1:
        return (
            math.nan,
            math.nan,
            "every class had as many training tracks" if len(set(x)) == 1 else "every class scored the same",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = spearmanr(x, y)
    return float(result.statistic), float(result.pvalue), ""
