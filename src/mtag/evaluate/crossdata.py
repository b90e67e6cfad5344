"""A model measured on another data set, beside the figure it has on its own.

The in-domain figure is the one the model's card reports: a trained model's
test-split figures (``metrics.test_<metric>``, written by ``mtag train``), a
shipped model's published ones (``metrics.<metric>``, e.g. musicnn's ROC-AUC on
its MSD or MTAT test set).  The data set it was trained on is the card's
training record's, else its source's, else its description.  The two figures
are not measured on the same labels -- in domain over all the model's labels,
here over the genres both sides share -- which the report says beside the drop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mtag.cards import ModelCard
from mtag.data.genres import genre_key
from mtag.evaluate.analyses import json_figure, shown_figure

#: How the data sets ``mtag`` reads are named in the shipped models' training records and descriptions.
ALIASES: dict[str, tuple[str, ...]] = {
    "mtat": ("mtat", "magnatagatune"),
    "gtzan": ("gtzan",),
    "fma": ("fma", "freemusicarchive"),
    "msd": ("msd", "millionsongdataset"),
}
#: Data sets named after their form, not their content: the same name may be other tracks.
GENERIC = ("folder", "library")


@dataclass(frozen=True)
class CrossFigure:
    """One metric: the model's in-domain figure (None where its card reports none), the one measured here."""

    metric: str
    in_domain: float | None
    measured: float

    @property
    def drop(self) -> float | None:
        """In-domain minus measured: how much is lost on the other data (negative: it does better there)."""
        return None if self.in_domain is None or math.isnan(self.measured) else self.in_domain - self.measured

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "in_domain": self.in_domain,
            "measured": json_figure(self.measured),
            "drop": self.drop,
        }


@dataclass(frozen=True)
class CrossRow:
    """A model on a data set it may not have been trained on."""

    model: str
    trained_on: str
    trained_on_source: str  # where that came from: the training record, the source, or the description
    evaluated_on: str
    in_domain: bool  # the evaluated data set is the model's own: not a cross-data-set figure
    figures: tuple[CrossFigure, ...]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "trained_on": self.trained_on,
            "trained_on_source": self.trained_on_source,
            "evaluated_on": self.evaluated_on,
            "in_domain": self.in_domain,
            "figures": [figure.to_json() for figure in self.figures],
            "note": self.note,
        }

    def markdown(self) -> str:
        return cross_markdown([self])


def cross_markdown(rows: list[CrossRow]) -> str:
    """One table for several models (side by side), each figure beside its in-domain one."""
    lines = [
        "## Across data sets: each model beside its in-domain figure",
        "",
        "In domain: the figure the model's card reports on its own test data, over all its labels; "
        "measured: on this data set, over the genres both share.",
        "",
        "| model | trained on | evaluated on | metric | in domain | measured | drop |",
        "| --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    notes = []
    for row in rows:
        for f in row.figures:
            lines.append(
                f"| {row.model} | {row.trained_on} | {row.evaluated_on} | {f.metric} | {shown_figure(f.in_domain)} | "
                f"{shown_figure(f.measured)} | {shown_figure(f.drop, '+.3f')} |"
            )
        if row.note:
            notes.append(f"- {row.model}: {row.note}")
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def trained_on(card: ModelCard) -> tuple[str, str]:
    """The model's training data set, and where the card says so."""
    recorded = (card.training or {}).get("dataset")
    if isinstance(recorded, str) and recorded:
        return recorded, "training record"
    if card.source.get("dataset"):
        return str(card.source["dataset"]), "source"
    return card.description or "unknown", "description"


def _same_data(evaluated: str, trained: str) -> bool:
    key, trained_key = genre_key(evaluated), genre_key(trained)
    if key == trained_key:
        return True
    return any(key in names and trained_key.startswith(names) for names in ALIASES.values())


def in_domain_figure(card: ModelCard, metric: str) -> float | None:
    """The card's figure for ``metric``: a trained model's test one, else a published one; None if neither.

    A card's ``pr_auc``/``roc_auc`` are macro averages over labels, so
    ``macro_roc_auc`` or ``roc_auc_macro`` finds them too.
    """
    figures = card.metrics or {}
    plain = metric.removeprefix("macro_").removesuffix("_macro")
    for key in dict.fromkeys((f"test_{metric}", metric, f"test_{plain}", plain)):
        value = figures.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def cross_row(card: ModelCard, dataset_name: str, figures: dict[str, float]) -> CrossRow:
    """``figures`` (metric -> value measured on ``dataset_name``) beside ``card``'s in-domain figures."""
    trained, where = trained_on(card)
    same = _same_data(dataset_name, trained)
    rows = tuple(CrossFigure(metric, in_domain_figure(card, metric), float(value)) for metric, value in figures.items())
    notes = []
    if same:
        notes.append(f"{dataset_name} is the data set it was trained on: an in-domain figure, not a cross-data-set one")
        if genre_key(dataset_name) in GENERIC:
            notes[-1] += f" (unless the two {dataset_name} data sets hold different tracks)"
    if where != "training record":
        notes.append(f"trained on {trained} per the card's {where}")
    source = (card.metrics or {}).get("source")
    if isinstance(source, str) and source:
        notes.append(f"in-domain figures as published ({source})")
    missing = [f.metric for f in rows if f.in_domain is None]
    if missing:
        notes.append(f"its card reports no in-domain {', '.join(missing)}")
    return CrossRow(card.name, trained, where, dataset_name, same, rows, "; ".join(notes))
