"""A run's state after each epoch, written atomically, so ``--resume`` continues exactly.

Exactly means: the same network, optimizer moments, schedule position, best
epoch so far and early-stopping count.  Randomness needs no saved state: each
epoch seeds its own generators from (seed, epoch), so epoch 5 draws the same
segments and dropout masks whether or not the run stopped after epoch 4.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from mtag.errors import UsageError

CHECKPOINT_FILE = "checkpoint.pt"
FORMAT = 1


def save_checkpoint(folder: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``folder/checkpoint.pt``; a crash mid-write leaves the previous one intact."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".checkpoint.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / CHECKPOINT_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_checkpoint(folder: Path, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint in ``folder``, refused when the run it belongs to had other settings."""
    path = folder / CHECKPOINT_FILE
    if not path.is_file():
        raise UsageError(f"nothing to resume: no checkpoint in {folder}", hint="start the run without --resume")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("format") != FORMAT:
        raise UsageError(f"{path} was written by another version of mtag", hint="start the run again without --resume")
    differences = describe_differences(state["fingerprint"], fingerprint)
    # An option the user changed (settings.*) first: what follows from it (the network built) says less.
    differences.sort(key=lambda difference: not difference.startswith("settings."))
    if differences:
        raise UsageError(
            f"cannot resume: the run in {folder} had {differences[0]}",
            hint="resume with the same settings, or start again with --force",
        )
    return state


def describe_differences(before: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[str]:
    """``"--lr 0.001 (now 0.01)"``-style descriptions of what changed between two fingerprints."""
    differences = []
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += describe_differences(old, new, f"{prefix}{key}.")
        elif old != new:
            differences.append(f"{prefix}{key} {old!r} (now {new!r})")
    return differences
