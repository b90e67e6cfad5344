"""``mtag inspect``: what the model hears in each window of a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from mtag.cli import console
from mtag.cli.options import DEFAULT_MODEL, BatchSizeOption, DeviceOption, JsonOption, ModelOption, VerboseOption
from mtag.errors import EXIT_FAILED, MtagError

if TYPE_CHECKING:
    from mtag.engine.analysis import TrackScores


def inspect_command(
    files: Annotated[list[Path], typer.Argument(help="Audio files to analyse.", show_default=False)],
    model: ModelOption = DEFAULT_MODEL,
    as_json: JsonOption = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Labels shown per segment and for the track.")] = 3,
    batch_size: BatchSizeOption = None,
    device: DeviceOption = "auto",
    verbose: VerboseOption = False,
) -> None:
    """Show the model's scores for each segment of FILE(s) and for the whole track.

    With --json, one JSON object per file goes to stdout (one per line).
    """
    from mtag.engine.analysis import analyse_file
    from mtag.nets.tagger import load_tagger

    tagger = load_tagger(model, device)
    failed = 0
    for path in files:
        try:
            result = analyse_file(path, tagger, batch_size=batch_size)
        except MtagError as error:
            console.report_error(error)
            failed += 1
            continue
        if as_json:
            console.print_json_line(result.to_dict())
        else:
            _print_result(result, top)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _top_labels(labels: list[str], scores: np.ndarray, top: int) -> str:
    order = np.argsort(scores)[::-1][:top]
    return "  ".join(f"{labels[i]} {scores[i]:.2f}" for i in order)


def _print_result(result: TrackScores, top: int) -> None:
    count = len(result.segments)
    console.out.print(f"[bold]{escape(str(result.path))}[/]", soft_wrap=True)
    console.out.print(f"{result.duration:.2f} s, model {result.model}, {count} segment{'s' if count != 1 else ''}")
    padded = [segment for segment in result.segments if segment.padding]
    if padded:
        console.out.print(f"shorter than one window: its frames were repeated to fill it ({padded[0].padding} padding)")
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("start", justify="right")
    table.add_column("end", justify="right")
    table.add_column(f"top {top} labels")
    for i, segment in enumerate(result.segments):
        table.add_row(
            str(i), f"{segment.start:.2f}", f"{segment.end:.2f}", _top_labels(result.labels, segment.scores, top)
        )
    console.out.print(table)
    console.out.print(f"track (mean of segments): {_top_labels(result.labels, result.mean, top)}\n")
