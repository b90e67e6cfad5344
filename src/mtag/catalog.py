"""Where models live and what they are, read from their model.json alone.

Listing models must stay instant (``mtag models`` is run to *choose* a model),
so nothing here imports torch: a model is a folder with ``model.json`` (its
card, :mod:`mtag.cards`) and its weights.  Loading the weights is
:mod:`mtag.nets.tagger`'s job.

Search order, first match wins, so a user can shadow a shipped model:
``$MTAG_MODEL_PATH`` (folders separated by ``os.pathsep``), the user's model
folder (``$XDG_DATA_HOME/mtag/models``, where trained models go), then the
models shipped with mtag.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from mtag.cards import CARD_FILE, ModelCard, read_card
from mtag.errors import UsageError

DEFAULT_MODEL = "musicnn-msd"


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


def list_models() -> list[ModelCard]:
    """Every model found on the search path, each name once (the first found wins)."""
    cards: dict[str, ModelCard] = {}
    for folder in model_search_path():
        if not folder.is_dir():
            continue
        for directory in sorted(p for p in folder.iterdir() if (p / CARD_FILE).is_file()):
            card = read_card(directory)
            cards.setdefault(card.name, card)
    return sorted(cards.values(), key=lambda card: card.name)


def find_model(name: str) -> ModelCard:
    """The model called ``name`` (or a path to a model folder)."""
    as_path = Path(name).expanduser()
    if (as_path / CARD_FILE).is_file():
        return read_card(as_path)
    cards = list_models()
    for card in cards:
        if card.name == name:
            return card
    known = ", ".join(card.name for card in cards) or "none installed"
    raise UsageError(f"unknown model {name!r}", hint=f"available: {known}; see 'mtag models'")
