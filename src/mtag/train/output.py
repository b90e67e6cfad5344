"""A trained network becomes a model folder: safetensors weights and a model card, like the shipped ones.

The folder is written beside its final place and renamed into it, so
``mtag models`` never lists a model whose weights are half written, and an
existing model is replaced only when the user said ``--force``.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from safetensors.torch import save
from torch import nn

from mtag.cards import ModelCard, WeightsRef, write_card
from mtag.errors import UsageError
from mtag.nets.profile import parameter_count

WEIGHTS_FILE = "weights.safetensors"
LOG_FILE = "training.jsonl"


def check_target(folder: Path, force: bool) -> None:
    """Refuse, before any work, to overwrite an existing model without ``--force``."""
    if folder.exists() and not force:
        raise UsageError(
            f"a model already exists at {folder}", hint="choose another --name, or add --force to replace it"
        )


def write_model(net: nn.Module, card: ModelCard, folder: Path, log: Path | None = None) -> ModelCard:
    """Write ``net``'s weights and ``card`` (its weights reference filled in) into ``folder``; returns the card."""
    state = {key: value.detach().cpu().contiguous() for key, value in net.state_dict().items()}
    weights = save(state)
    parameters = parameter_count(net)
    card = replace(
        card, weights=WeightsRef(WEIGHTS_FILE, hashlib.sha256(weights).hexdigest(), parameters), directory=folder
    )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        (staging / WEIGHTS_FILE).write_bytes(weights)
        if log is not None and log.is_file():
            shutil.copyfile(log, staging / LOG_FILE)
        write_card(card, staging)
        if folder.exists():
            retired = folder.with_name(f".{folder.name}.replaced")
            shutil.rmtree(retired, ignore_errors=True)
            folder.rename(retired)
            staging.rename(folder)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return replace(card, directory=folder)


def plain(value: Any) -> Any:
    """``value`` with paths as strings and tuples as lists: what a JSON card can hold."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
