"""``mtag models``: what models are installed, and what each one is."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mtag.catalog import ModelCard, find_model, list_models
from mtag.cli import console
from mtag.cli.options import JsonOption, VerboseOption, _complete_model

models_app = typer.Typer(help="List the installed models, or show one.", no_args_is_help=False)


@models_app.callback(invoke_without_command=True)
def list_command(ctx: typer.Context, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """List the installed models (read from their model.json; no model is loaded)."""
    if ctx.invoked_subcommand is not None:
        return
    cards = list_models()
    if as_json:
        console.print_json_line([card.summary() for card in cards])
        return
    table = Table(title="Installed models", title_justify="left")
    for column in ("name", "kind", "labels", "source", "licence", "size"):
        table.add_column(column, justify="right" if column in {"labels", "size"} else "left", no_wrap=True)
    for card in cards:
        row = card.summary()
        table.add_row(
            row["name"],
            f"{row['kind']} ({row['architecture']})",
            str(row["labels"]),
            row["source"],
            row["license"],
            console.human_size(row["size_bytes"]),
        )
    console.out.print(table)
    if not cards:
        console.err.print("No models found; set MTAG_MODEL_PATH or reinstall mtag.")


@models_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Model name or folder.", autocompletion=_complete_model)],
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Show a model's metadata and its labels in order."""
    card = find_model(name)
    if as_json:
        console.print_json_line({**card.meta, "path": str(card.directory), "size_bytes": card.size_bytes})
        return
    _print_card(card)


def _print_card(card: ModelCard) -> None:
    meta = card.meta
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    params = ", ".join(f"{k}={v}" for k, v in meta["architecture"].get("params", {}).items())
    pre = meta["preprocessing"]
    rows = [
        ("name", card.name),
        ("description", meta.get("description", "")),
        ("architecture", f"{card.architecture} ({params})"),
        ("trained on", meta.get("training", {}).get("dataset", "unknown")),
        ("metrics", ", ".join(f"{k} {v:.4f}" for k, v in meta.get("metrics", {}).items() if isinstance(v, float))),
        (
            "input",
            f"{pre['sample_rate']} Hz mono, {pre['n_mels']} mel bands, window {pre['window_frames']} frames "
            f"({pre['window_frames'] * pre['hop_length'] / pre['sample_rate']:.3f} s)",
        ),
        ("source", card.source),
        ("licence", card.license),
        ("attribution", meta.get("attribution", "")),
        ("size", console.human_size(card.size_bytes)),
        ("path", str(card.directory)),
    ]
    for key, value in rows:
        if value:
            table.add_row(key, value)
    console.out.print(table)
    labels = Table(title=f"{len(card.labels)} labels", title_justify="left")
    labels.add_column("#", justify="right")
    labels.add_column("label")
    for i, label in enumerate(card.labels):
        labels.add_row(str(i), label)
    console.out.print(labels)
