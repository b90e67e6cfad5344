"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mtag.catalog import DEFAULT_MODEL
from mtag.cli import console


def _complete_model(incomplete: str) -> list[str]:
    from mtag.catalog import list_models

    return [card.name for card in list_models() if card.name.startswith(incomplete)]


def _verbose(value: bool) -> bool:
    console.set_verbose(value)
    return value


ModelOption = Annotated[
    str,
    typer.Option(
        "--model", "-m", help="Model name (see 'mtag models') or a model folder.", autocompletion=_complete_model
    ),
]
DeviceOption = Annotated[str, typer.Option("--device", help="auto (GPU if present), cpu, cuda, cuda:N or mps.")]
DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help="The index file \\[default: $XDG_DATA_HOME/mtag/index.db].", dir_okay=False),
]
# Help texts are Rich markup: a literal "[" is written "\\[".
BatchSizeOption = Annotated[
    Optional[int],
    typer.Option("--batch-size", min=1, help="Windows per forward pass \\[default: 2 on CPU, 64 on GPU]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Write JSON to stdout instead of tables.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", callback=_verbose, help="Show tracebacks of errors.")]

__all__ = ["DEFAULT_MODEL", "BatchSizeOption", "DbOption", "DeviceOption", "JsonOption", "ModelOption", "VerboseOption"]
