"""The report's figures: a confusion matrix per model, ROC and PR curves for tags, a curve per study.

matplotlib is the optional ``plot`` extra and slow to import, so it is
imported here only, drawn with the Agg canvas (no display needed); the CLI
checks for it before any decoding (:func:`mtag.inspection.plot.require_matplotlib`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mtag.evaluate.measure import headline
from mtag.evaluate.runner import Evaluation, ModelResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def draw_figures(evaluation: Evaluation, folder: Path) -> list[Path]:
    """Every figure of ``evaluation`` as PNG files in ``folder/figures``; their paths."""
    out = folder / "figures"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for result in evaluation.models:
        if evaluation.multi_label:
            paths.append(_curves(result, out / f"{result.card.name}-roc-pr.png"))
        else:
            paths.append(_confusion(result, out / f"{result.card.name}-confusion.png"))
    for study in evaluation.studies:
        paths.append(_study(evaluation, study.name, out / f"study-{study.name}.png"))
    return paths


def _confusion(result: ModelResult, path: Path) -> Path:
    matrix = np.asarray(result.baseline.figures.get("confusion", []), dtype=float)
    genres = list(result.mapping.shared)
    size = 1.5 + 0.5 * len(genres)
    figure = _figure(size + 1, size)
    axes = figure.add_subplot()
    if matrix.size:
        image = axes.imshow(matrix, cmap="Blues")
        figure.colorbar(image, ax=axes, shrink=0.8)
        for (row, column), count in np.ndenumerate(matrix):
            axes.text(column, row, f"{count:.0f}", ha="center", va="center", fontsize=8)
    axes.set_xticks(range(len(genres)), genres, rotation=45, ha="right")
    axes.set_yticks(range(len(genres)), genres)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"{result.card.name}: confusion")
    figure.savefig(path)
    return path


def _curves(result: ModelResult, path: Path) -> Path:
    from sklearn.metrics import precision_recall_curve, roc_curve

    measured = result.baseline
    targets, scores = measured.targets.ravel() > 0, measured.scores.ravel()
    figure = _figure(10, 4.5)
    roc, pr = figure.subplots(1, 2)
    if targets.any() and not targets.all():
        fpr, tpr, _ = roc_curve(targets, scores)
        precision, recall, _ = precision_recall_curve(targets, scores)
        roc.plot(fpr, tpr)
        pr.plot(recall, precision)
    roc.plot([0, 1], [0, 1], linestyle=":", color="grey")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"{result.card.name}: ROC (micro)")
    pr.set(xlabel="recall", ylabel="precision", title=f"{result.card.name}: precision-recall (micro)")
    figure.savefig(path)
    return path


def _study(evaluation: Evaluation, name: str, path: Path) -> Path:
    study = next(s for s in evaluation.studies if s.name == name)
    metric = headline(evaluation.multi_label)
    figure = _figure(7, 4)
    axes = figure.add_subplot()
    labels = [c.name for c in study.conditions]
    for result in evaluation.models:
        points = [evaluation.condition_result(result, c) for c in study.conditions]
        values = [p.figures.get(metric, np.nan) for p in points]
        low = [p.intervals.get(metric, (np.nan, np.nan))[0] for p in points]
        high = [p.intervals.get(metric, (np.nan, np.nan))[1] for p in points]
        x = np.arange(len(labels))
        axes.plot(x, values, marker="o", label=result.card.name)
        axes.fill_between(x, low, high, alpha=0.15)
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axes.set(xlabel=study.axis, ylabel=metric, title=f"study: {name}")
    axes.legend()
    figure.savefig(path)
    return path
