"""Where models live and what they are, read from their model.json alone.

Listing models must stay instant (``mtag models`` is run to *choose* a model),
so nothing here imports torch: a model is a folder with ``model.json`` and its
weights, and the card is that JSON.  Loading the weights is
:mod:`mtag.nets.tagger`'s job.

Search order, first match wins, so a user can shadow a shipped model:
``$MTAG_MODEL_PATH`` (folders separated by ``os.pathsep``), the user's model
folder (``$XDG_DATA_HOME/mtag/models``, where trained models go), then the
models shipped with mtag.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from mtag.errors import ModelError, UsageError

DEFAULT_MODEL = "musicnn-msd"
MODEL_FILE = "model.json"


def user_data_dir() -> Path:
    """mtag's per-user data folder, following the XDG base-directory spec."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "mtag"


def shipped_models_dir() -> Path:
    """The models that come with mtag.

    An installed wheel carries them as ``mtag/_models``; a source checkout
    (editable install, tests) has them in the repository's ``models/``.
    """
    packaged = Path(str(resources.files("mtag") / "_models"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def model_search_path() -> list[Path]:
    """Folders searched for models, in priority order."""
    extra = [Path(p) for p in os.environ.get("MTAG_MODEL_PATH", "").split(os.pathsep) if p]
    return [*extra, user_data_dir() / "models", shipped_models_dir()]


@dataclass(frozen=True)
class ModelCard:
    """A model's metadata (its model.json) and where its files are."""

    directory: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    @property
    def architecture(self) -> str:
        return self.meta["architecture"]["name"]

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "tagger")

    @property
    def license(self) -> str:
        return self.meta.get("license", "unknown")

    @property
    def source(self) -> str:
        source = self.meta.get("source", {})
        return source.get("package") or source.get("dataset") or source.get("homepage") or "local"

    @property
    def weights_path(self) -> Path:
        return self.directory / self.meta["weights"]["file"]

    @cached_property
    def size_bytes(self) -> int:
        """Bytes on disk of the model's folder (weights and metadata)."""
        return sum(f.stat().st_size for f in self.directory.iterdir() if f.is_file())

    def summary(self) -> dict[str, Any]:
        """The row ``mtag models`` shows for this model."""
        return {
            "name": self.name,
            "kind": self.kind,
            "architecture": self.architecture,
            "labels": len(self.meta["labels"]),
            "source": self.source,
            "license": self.license,
            "size_bytes": self.size_bytes,
            "path": str(self.directory),
        }


def read_card(directory: Path) -> ModelCard:
    """Read one model folder; a broken model.json is named, not a traceback."""
    path = directory / MODEL_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"unreadable model metadata: {exc}", path=path) from exc
    missing = {"name", "architecture", "labels", "preprocessing", "weights"} - meta.keys()
    if missing:
        raise ModelError(f"model.json lacks {', '.join(sorted(missing))}", path=path)
    return ModelCard(directory=directory, meta=meta)


def list_models() -> list[ModelCard]:
    """Every model found on the search path, each name once (the first found wins)."""
    cards: dict[str, ModelCard] = {}
    for folder in model_search_path():
        if not folder.is_dir():
            continue
        for directory in sorted(p for p in folder.iterdir() if (p / MODEL_FILE).is_file()):
            card = read_card(directory)
            cards.setdefault(card.name, card)
    return sorted(cards.values(), key=lambda card: card.name)


def find_model(name: str) -> ModelCard:
    """The model called ``name`` (or a path to a model folder)."""
    as_path = Path(name).expanduser()
    if (as_path / MODEL_FILE).is_file():
        return read_card(as_path)
    cards = list_models()
    for card in cards:
        if card.name == name:
            return card
    known = ", ".join(card.name for card in cards) or "none installed"
    raise UsageError(f"unknown model {name!r}", hint=f"available: {known}; see 'mtag models'")
