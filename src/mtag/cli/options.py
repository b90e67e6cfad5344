"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Optional

import typer

from mtag.catalog import DEFAULT_MODEL
from mtag.cli import console

if TYPE_CHECKING:
    from mtag.decision import DecisionOptions


def complete_model(incomplete: str) -> list[str]:
    """Shell completion of an installed model's name (every command that takes a model uses it)."""
    from mtag.catalog import list_models

    return [card.name for card in list_models() if card.name.startswith(incomplete)]


def _verbose(value: bool) -> bool:
    console.set_verbose(value)
    return value


ModelOption = Annotated[
    str,
    typer.Option(
        "--model", "-m", help="Model name (see 'mtag models') or a model folder.", autocompletion=complete_model
    ),
]
DeviceOption = Annotated[str, typer.Option("--device", help="auto (GPU if present), cpu, cuda, cuda:N or mps.")]
DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help="The index file \\[default: $XDG_DATA_HOME/mtag/index.db].", dir_okay=False),
]
# The audio cache that train and eval decode every track into once (mtag.data.cache).
CacheDirOption = Annotated[
    Optional[Path],
    typer.Option(
        "--cache-dir", help="Audio cache folder \\[default: $MTAG_CACHE_DIR or $XDG_CACHE_HOME/mtag].", file_okay=False
    ),
]
CacheWorkersOption = Annotated[
    Optional[int],
    typer.Option("--workers", min=0, help="Decoding processes for the audio cache \\[default: the cores]."),
]
# Help texts are Rich markup: a literal "[" is written "\\[".
BatchSizeOption = Annotated[
    Optional[int],
    typer.Option("--batch-size", min=1, help="Windows per forward pass \\[default: 2 on CPU, 64 on GPU]."),
]
ThreadsOption = Annotated[
    Optional[int],
    typer.Option(
        "--threads",
        min=1,
        help="CPU threads for the model \\[default: the cores this process may use, half of them beside decoders].",
    ),
]
# The options that decide genres, shared by tag and inspect so that inspect decides as tag does.
TopOption = Annotated[int, typer.Option("--top", min=1, help="Genres written per track, best first.")]
ThresholdOption = Annotated[
    Optional[float],
    typer.Option(
        "--threshold", min=0.0, max=1.0, help="Lowest score a genre needs \\[default: 0.25].", show_default=False
    ),
]
ModeOption = Annotated[
    Literal["keep", "replace", "append"],
    typer.Option(
        "--mode", help="keep: leave files that already have a genre; replace: overwrite; append: add new genres."
    ),
]
ParentsOption = Annotated[bool, typer.Option("--parents", help="Add each genre's parent (Heavy Metal -> Metal).")]
MoodsOption = Annotated[bool, typer.Option("--moods", help="Also write the leading moods into the MOOD field.")]
TaxonomyOption = Annotated[
    Optional[Path], typer.Option("--taxonomy", help="A genre table (TOML) instead of the default.", dir_okay=False)
]
AggregateOption = Annotated[
    Literal["mean", "max", "vote"],
    typer.Option(
        "--aggregate", help="Window scores -> track scores: mean, max, or vote (share of windows a genre wins)."
    ),
]
WindowOption = Annotated[
    Optional[float], typer.Option("--window", help="Window length in seconds \\[default: the model's, 3 s].")
]
HopOption = Annotated[Optional[float], typer.Option("--hop", help="Window hop in seconds \\[default: the window].")]
PrecisionOption = Annotated[
    Literal["auto", "fp32", "bf16", "fp16"],
    typer.Option("--precision", help="auto (measured fastest that keeps decisions), fp32, bf16 or fp16."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Write JSON to stdout instead of tables.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", callback=_verbose, help="Show tracebacks of errors.")]


def decision_options(top: int, threshold: float | None, parents: bool, moods: bool, aggregate: str) -> DecisionOptions:
    """The deciding options as tag and inspect take them (an unset threshold is the default)."""
    from mtag.decision import DecisionOptions

    default = DecisionOptions()
    return DecisionOptions(
        top=top,
        threshold=default.threshold if threshold is None else threshold,
        parents=parents,
        moods=moods,
        aggregation=aggregate,
    )


__all__ = [
    "DEFAULT_MODEL",
    "AggregateOption",
    "BatchSizeOption",
    "DbOption",
    "DeviceOption",
    "HopOption",
    "JsonOption",
    "ModeOption",
    "ModelOption",
    "MoodsOption",
    "ParentsOption",
    "PrecisionOption",
    "TaxonomyOption",
    "ThreadsOption",
    "ThresholdOption",
    "TopOption",
    "VerboseOption",
    "WindowOption",
    "decision_options",
]
