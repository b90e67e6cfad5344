"""``mtag models``: what models are installed, and what each one is."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from mtag.cards import ModelCard
from mtag.catalog import find_model, list_models
from mtag.cli import console
from mtag.cli.options import JsonOption, VerboseOption, complete_model
from mtag.units import human_count

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
    table = Table(
        title="Installed models", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )
    for column in ("name", "network", "labels", "params", "figure", "licence", "size"):
        table.add_column(
            column,
            justify="right" if column in {"labels", "params", "size"} else "left",
            # One line a model: the free-text columns are cut short ('mtag models show NAME' has them whole).
            no_wrap=True,
            max_width=12 if column == "licence" else None,
            overflow="ellipsis",
        )
    for card in cards:
        row = card.summary()
        table.add_row(
            row["name"],
            row["architecture"] if row["kind"] == "tagger" else f"{row['kind']} ({row['architecture']})",
            str(row["labels"]),
            human_count(row["parameters"]) if row["parameters"] is not None else "",
            row["metric"],
            row["license"],
            console.human_size(row["size_bytes"]),
        )
    console.out.print(table)
    if not cards:
        console.err.print("No models found; set MTAG_MODEL_PATH or reinstall mtag.")


@models_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Model name or folder.", autocompletion=complete_model)],
    profile: Annotated[
        bool,
        typer.Option(
            "--profile",
            help="Count the network's parameters and MACs per window now, if its card has no profile (loads torch).",
        ),
    ] = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Show a model's metadata and its labels in order."""
    from mtag.evaluate.records import describe, evaluations_of

    card = find_model(name)
    if profile and card.profile is None:  # a shipped or older model: its network's cost, counted now
        from dataclasses import replace

        from mtag.nets.profile import card_profile

        card = replace(card, profile=card_profile(card))
    evaluations = evaluations_of(card)
    if as_json:
        console.print_json_line(
            {**card.to_json(), "path": str(card.directory), "size_bytes": card.size_bytes, "evaluations": evaluations}
        )
        return
    _print_card(card)
    if evaluations:  # what 'mtag eval' measured on this model's weights
        console.out.print(f"{len(evaluations)} evaluation(s):")
        for entry in evaluations:
            console.out.print(f"  {describe(entry)}", soft_wrap=True)


def _print_card(card: ModelCard) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    params = ", ".join(f"{k}={v}" for k, v in card.params.items())
    window = card.input
    rate = card.frontend.sample_rate
    length = "this length only" if window.fixed_length else "any length"
    rows = [
        ("name", card.name),
        ("description", card.description),
        ("architecture", f"{card.architecture} ({params})"),
        ("front end", card.frontend.describe()),
        (
            "window",
            f"{window.window_samples / rate:.3f} s ({window.window_samples} samples), hop "
            f"{window.hop_samples / rate:.3f} s; {length}; shorter tracks: {window.short_input}",
        ),
        ("output", f"{card.activation} over {len(card.labels)} labels"),
        ("cost", _cost(card)),
        ("trained on", (card.training or {}).get("dataset", "unknown")),
        ("metrics", ", ".join(f"{k} {v:.4f}" for k, v in (card.metrics or {}).items() if isinstance(v, float))),
        ("weights", f"{card.weights.file}, sha256 {card.weights.sha256[:16]}..."),
        ("source", card.origin),
        ("licence", card.license),
        ("attribution", card.attribution or ""),
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


def _cost(card: ModelCard) -> str:
    """ "38.9k parameters, 2.1M MACs per window, 950 windows/s on cpu (2 threads)": the card's profile."""
    profile = card.profile or {}
    if not profile and card.weights.parameters is not None:
        return f"{human_count(card.weights.parameters)} parameters (--profile counts MACs per window)"
    parts = []
    if "parameters" in profile:
        parts.append(f"{human_count(profile['parameters'])} parameters")
    if "macs_per_window" in profile:
        parts.append(f"{human_count(profile['macs_per_window'])} MACs per window")
    if "windows_per_second" in profile:
        parts.append(f"{profile['windows_per_second']:,.0f} windows/s on {profile.get('speed_device', '?')}")
    return ", ".join(parts)
