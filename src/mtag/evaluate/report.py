"""What an evaluation leaves behind: JSON, a predictions CSV, a readable report.md and its figures.

``--report DIR`` is checked before any decoding (:func:`check_report_folder`)
so an unwritable folder costs the user nothing.  The JSON is the one
structure every output derives from (the terminal view, ``--json``,
``metrics.json``, the evaluations record).
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from mtag.errors import UsageError
from mtag.evaluate.measure import headline
from mtag.evaluate.runner import Evaluation, ModelResult

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.csv"
REPORT_FILE = "report.md"


def check_report_folder(folder: Path) -> None:
    """Refuse a report folder that cannot be created or written, in one line, before any work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".mtag-eval-", delete=True):
            pass
    except OSError as error:
        raise UsageError(
            f"cannot write the report into {folder}: {error.strerror or error}",
            hint="choose a folder you can write to with --report",
        ) from None


def model_json(evaluation: Evaluation, result: ModelResult) -> dict[str, Any]:
    """One model's figures, coverage and study curves."""
    multi = evaluation.multi_label
    name = headline(multi)
    studies = {}
    for study in evaluation.studies:
        points = []
        for condition in study.conditions:
            measured = evaluation.condition_result(result, condition)
            points.append(
                {
                    "condition": condition.name,
                    "value": condition.value,
                    name: measured.figures.get(name),
                    "ci95": list(measured.intervals.get(name, ())),
                    "tracks": len(measured.tracks),
                }
            )
        studies[study.name] = points
    usable = len(evaluation.examples) - len(evaluation.unreadable)
    return {
        "model": result.card.name,
        "weights_sha256": result.card.weights.sha256,
        "headline": name,
        "coverage": {
            **result.mapping.to_json(),
            "tracks_measured": len(result.baseline.tracks),
            "tracks_not_covered": usable - len(result.tracks),
        },
        "figures": result.baseline.to_json(),
        "studies": studies,
        "analyses": {name: found.to_json() for name, found in result.analyses.items()},
    }


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    """The whole evaluation as plain JSON (NaN becomes null)."""
    request = evaluation.request
    return _finite(
        {
            "dataset": {
                "name": request.dataset.name,
                "split": request.dataset.split,
                "part": request.part,
                "tracks": len(evaluation.examples),
                "multi_label": evaluation.multi_label,
            },
            "settings": {
                "aggregate": request.aggregate,
                "level": request.level,
                "top_k": request.top_k,
                "bootstrap": request.bootstrap,
                "seed": request.seed,
            },
            "decoded": evaluation.decoded,
            "sample_rate": evaluation.sample_rate,
            "seconds": {k: round(v, 2) for k, v in evaluation.seconds.items()},
            "unreadable": [{"path": str(s.path), "reason": s.reason} for s in evaluation.unreadable],
            "too_short": [{"path": str(s.path), "reason": s.reason} for s in evaluation.too_short],
            "models": [model_json(evaluation, result) for result in evaluation.models],
        }
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_predictions(evaluation: Evaluation, path: Path) -> None:
    """One row per track x model x condition: path, true, predicted, correct, the shared genres' scores.

    Multi-label rows list every true genre (``;``-separated), the best-scored
    one as "predicted", and "correct" says whether it is among the true ones.
    """
    genres = sorted({g for result in evaluation.models for g in result.mapping.shared})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "model", "condition", "true", "predicted", "correct", *genres])
        for result in evaluation.models:
            shared = list(result.mapping.shared)
            for key, measured in result.conditions.items():
                for track, scores, target in zip(measured.tracks, measured.scores, measured.targets):
                    best = int(scores.argmax())
                    true = [shared[i] for i in range(len(shared)) if target[i] > 0]
                    by_genre = dict(zip(shared, scores))
                    writer.writerow(
                        [
                            os.fspath(evaluation.examples[track].path),
                            result.card.name,
                            key,
                            ";".join(true),
                            shared[best],
                            int(target[best] > 0),
                            *(f"{by_genre[g]:.5f}" if g in by_genre else "" for g in genres),
                        ]
                    )


def write_report(evaluation: Evaluation, folder: Path) -> list[Path]:
    """metrics.json, predictions.csv, report.md and the figures (when matplotlib is there) into ``folder``."""
    from mtag.evaluate.figures import draw_figures

    folder.mkdir(parents=True, exist_ok=True)
    data = evaluation_json(evaluation)
    (folder / METRICS_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    write_predictions(evaluation, folder / PREDICTIONS_FILE)
    figures = draw_figures(evaluation, folder)
    (folder / REPORT_FILE).write_text(markdown(evaluation, data, figures, folder), encoding="utf-8")
    return [folder / METRICS_FILE, folder / PREDICTIONS_FILE, folder / REPORT_FILE, *figures]


def figure_text(value: Any, bounds: Any = None) -> str:
    """``0.667 [0.417, 0.917]`` (or an en dash when not measurable)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:.3f}"
    if bounds:
        text += f" [{bounds[0]:.3f}, {bounds[1]:.3f}]"
    return text


def markdown(evaluation: Evaluation, data: dict[str, Any], figures: list[Path], folder: Path) -> str:
    """report.md: what was measured, each model's figures and coverage, the studies, what was left out."""
    dataset = data["dataset"]
    settings = data["settings"]
    lines = [
        f"# mtag eval: {dataset['name']} ({dataset['part']} part of the {dataset['split']} split)",
        "",
        f"{dataset['tracks']} tracks; windows aggregated by {settings['aggregate']}, figures at {settings['level']} "
        f"level; 95 % bootstrap intervals over {settings['bootstrap']} resamples (seed {settings['seed']}). "
        f"Decoded {data['decoded']} file(s) at {data['sample_rate']} Hz (the rest came from the audio cache).",
        "",
        "| model | tracks | " + " | ".join(_headlines(evaluation)) + " |",
        "|---|---|" + "---|" * len(_headlines(evaluation)),
    ]
    for model in data["models"]:
        figures_ = model["figures"]
        cells = [figure_text(figures_.get(name), figures_["ci95"].get(name)) for name in _headlines(evaluation)]
        lines.append(f"| {model['model']} | {figures_['tracks']} | " + " | ".join(cells) + " |")
    lines.append("")
    for model in data["models"]:
        coverage = model["coverage"]
        lines += [f"## {model['model']}", ""]
        lines.append(f"Measured on: {', '.join(coverage['shared'])}.")
        if coverage["uncovered"]:
            lines.append(
                f"Not covered (the model has no such genre): {', '.join(coverage['uncovered'])}; "
                f"{coverage['tracks_not_covered']} track(s) of those genres left out."
            )
        lines.append("")
        per_class = model["figures"].get("per_class", {})
        if per_class:
            columns = [k for k in per_class if k != "support"] + ["support"]
            lines += ["| genre | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
            for i, genre in enumerate(coverage["shared"]):
                cells = [figure_text(per_class[c][i]) if c != "support" else str(per_class[c][i]) for c in columns]
                lines.append(f"| {genre} | " + " | ".join(cells) + " |")
            lines.append("")
        for study, points in model["studies"].items():
            name = model["headline"]
            lines += [f"### Study: {study}", "", f"| condition | tracks | {name} |", "|---|---|---|"]
            lines += [f"| {p['condition']} | {p['tracks']} | {figure_text(p[name], p['ci95'])} |" for p in points]
            lines.append("")
    for result in evaluation.models:  # the analysis studies, each in its own words
        for name, found in result.analyses.items():
            lines += [f"**{result.card.name}, {name}:**", "", found.markdown(), ""]
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{path.stem}]({path.relative_to(folder).as_posix()})" for path in figures]
        lines.append("")
    left = data["unreadable"] + data["too_short"]
    if left:
        lines += ["## Tracks left out", ""]
        lines += [f"- `{item['path']}`: {item['reason']}" for item in left]
        lines.append("")
    return "\n".join(lines)


def _headlines(evaluation: Evaluation) -> list[str]:
    if evaluation.multi_label:
        return ["pr_auc_macro", "roc_auc_macro", "pr_auc_micro", "roc_auc_micro"]
    top = f"top{evaluation.request.top_k}_accuracy"
    return ["accuracy", "balanced_accuracy", "macro_f1", top]
