"""The evaluations a user ran, kept so ``mtag models show NAME`` lists a model's measured figures.

Shipped model folders may be read-only, so the record lives in the user's
data folder (``$XDG_DATA_HOME/mtag/evaluations.jsonl``), one JSON line per
model per evaluation, keyed by the model's name and weights digest: a model
retrained under the same name does not inherit the old figures.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mtag.cards import ModelCard
from mtag.catalog import user_data_dir

RECORD_FILE = "evaluations.jsonl"


def record_path() -> Path:
    return user_data_dir() / RECORD_FILE


def record(data: dict[str, Any], path: Path | None = None) -> None:
    """Append each model's headline of an evaluation (:func:`mtag.evaluate.report.evaluation_json`)."""
    path = path or record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    dataset = data["dataset"]
    with path.open("a", encoding="utf-8") as handle:
        for model in data["models"]:
            name = model["headline"]
            line = {
                "model": model["model"],
                "weights_sha256": model["weights_sha256"],
                "dataset": dataset["name"],
                "split": f"{dataset['split']}/{dataset['part']}",
                "metric": name,
                "value": model["figures"].get(name),
                "ci95": model["figures"]["ci95"].get(name),
                "tracks": model["figures"]["tracks"],
                "aggregate": data["settings"]["aggregate"],
                "date": date,
            }
            handle.write(json.dumps(line) + "\n")


def evaluations_of(card: ModelCard, path: Path | None = None) -> list[dict[str, Any]]:
    """The recorded evaluations of this model (this name and these weights), oldest first.

    An evaluation run again with the same result is listed once, at its latest
    date: the same figure three times says nothing more than once.
    """
    path = path or record_path()
    if not path.is_file():
        return []
    found: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a crash: skip it, keep the others
            continue
        if entry.get("model") == card.name and entry.get("weights_sha256") == card.weights.sha256:
            result = json.dumps({k: v for k, v in entry.items() if k != "date"}, sort_keys=True)
            found.pop(result, None)  # re-inserted: ordered by its latest run
            found[result] = entry
    return list(found.values())


def describe(entry: dict[str, Any]) -> str:
    """``gtzan folds/test: accuracy 0.667 [0.417, 0.917], 21 tracks, 2026-11-30``."""
    value = entry.get("value")
    text = f"{entry['dataset']} {entry['split']}: {entry['metric']} " + ("–" if value is None else f"{value:.3f}")
    if entry.get("ci95"):
        low, high = entry["ci95"]
        text += f" [{low:.3f}, {high:.3f}]"
    return f"{text}, {entry.get('tracks', '?')} tracks, {str(entry.get('date', ''))[:10]}"
