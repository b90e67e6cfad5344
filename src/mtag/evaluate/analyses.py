"""The analysis studies (``--study rare,cross,characteristics``): what the measured results say, per model.

The audio studies change the tracks and measure again; these read what one
measurement found (the baseline condition) and ask why:

* ``rare``: each shared genre's figure (F1, or PR-AUC for tags) against its
  share of the model's training tracks, from the card's training record
  (:mod:`mtag.evaluate.rarity`); a model whose card has no such record is
  refused before any decoding.
* ``cross``: the figures on this data set beside the model's own in-domain
  ones from its card (:mod:`mtag.evaluate.crossdata`).
* ``characteristics``: measurable properties of each track (from the audio
  already in memory and the model's window scores,
  :mod:`mtag.evaluate.properties`) against being right or wrong, as effect
  sizes with intervals, and the most confidently wrong tracks with the
  ``mtag inspect`` command to look at each (:mod:`mtag.evaluate.effects`).

Each returns objects with ``to_json()`` and ``markdown()``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mtag.cards import ModelCard
from mtag.data.cache import AudioCache
from mtag.data.examples import Example
from mtag.evaluate.measure import Measured, headline


def json_figure(value: float) -> float | None:
    """A figure in a study's ``to_json()``: JSON has no NaN, so a figure not measured is null."""
    return None if math.isnan(value) else value


def shown_figure(value: float | None, spec: str = ".3f") -> str:
    """A figure in a study's ``markdown()``: ``n/a`` where it was not measured (None or NaN)."""
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


def check_analyses(names: Sequence[str], cards: Sequence[ModelCard]) -> None:
    """Refuse, before any decoding, an analysis a model cannot give (``rare`` without training counts)."""
    if "rare" in names:
        from mtag.evaluate.rarity import training_counts

        for card in cards:
            training_counts(card)  # the one-line usage error naming the model


def correct(measured: Measured) -> np.ndarray:
    """Per track: the best-scored shared genre is one of the track's genres (one rule for single- and multi-label)."""
    best = measured.predicted
    return measured.targets[np.arange(len(best)), best] > 0


def per_class_figure(measured: Measured, shared: Sequence[str], multi_label: bool) -> tuple[dict[str, float], str]:
    """``genre -> figure`` of the baseline, and the figure's name (F1 for one genre per track, else PR-AUC)."""
    name = "pr_auc" if multi_label else "f1"
    values = measured.figures.get("per_class", {}).get(name, [])
    return {genre: float(v) for genre, v in zip(shared, values)}, name


def run_analyses(
    names: Sequence[str],
    card: ModelCard,
    shared: Sequence[str],
    measured: Measured,
    examples: Sequence[Example],
    dataset_name: str,
    multi_label: bool,
    cache: AudioCache,
    seed: int,
    resamples: int,
    signals: dict[int, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """The analyses asked for, for one model's baseline measurement: name -> result (``to_json``, ``markdown``).

    ``signals`` keeps each track's measured signal (what no model changes) for the next model's analyses.
    """
    found: dict[str, Any] = {}
    if "rare" in names:
        from mtag.evaluate.rarity import rare_study

        per_class, metric = per_class_figure(measured, shared, multi_label)
        found["rare"] = rare_study(card, per_class, metric)
    if "cross" in names:
        from mtag.evaluate.crossdata import cross_row

        leading = headline(multi_label)
        figures = {k: v for k, v in measured.figures.items() if k in (leading, "roc_auc_macro") and v is not None}
        found["cross"] = cross_row(card, dataset_name, figures)
    if "characteristics" in names:
        found.update(_characteristics(card, shared, measured, examples, cache, seed, resamples, signals or {}))
    return found


def _characteristics(
    card: ModelCard,
    shared: Sequence[str],
    measured: Measured,
    examples: Sequence[Example],
    cache: AudioCache,
    seed: int,
    resamples: int,
    signals: dict[int, dict[str, float]],
) -> dict[str, Any]:
    from mtag.evaluate.effects import characteristics_study, worst_tracks
    from mtag.evaluate.properties import track_properties, window_properties

    right = correct(measured)
    properties = []
    for index, windows in zip(measured.tracks, measured.window_scores):
        if index not in signals:  # the signal's properties are the same for every model: measured once
            signals[index] = track_properties(cache.audio(index), cache.sample_rate)
        signal = signals[index]
        properties.append({**signal, **window_properties(windows, signal["duration_s"])})
    best = measured.predicted
    truths = [tuple(shared[int(i)] for i in np.flatnonzero(row > 0)) for row in measured.targets]
    worst = worst_tracks(
        [examples[i].path for i in measured.tracks],
        truths,
        [shared[int(i)] for i in best],
        measured.scores[np.arange(len(best)), best] if len(best) else [],
        model=card.name,
    )
    return {
        "characteristics": characteristics_study(properties, right, seed, max(resamples, 1)),
        "worst_tracks": worst,
    }
