"""``mtag datasets``: the data sets mtag can train and evaluate on."""

from __future__ import annotations

import typer
from rich.table import Table

from mtag.cli import console
from mtag.cli.datasets_check import check_command
from mtag.cli.fetch import fetch_command
from mtag.cli.options import JsonOption, VerboseOption
from mtag.data.catalog import DATASETS

datasets_app = typer.Typer(help="List the data sets mtag reads; check or fetch one.", no_args_is_help=False)
datasets_app.command("check")(check_command)
datasets_app.command("fetch")(fetch_command)


@datasets_app.callback(invoke_without_command=True)
def list_command(ctx: typer.Context, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """List the known data sets, their layout and licence (nothing is read from disk)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = [info.summary() for info in DATASETS.values()]
    if as_json:
        console.print_json_line(rows)
        return
    table = Table(title="Data sets (use with --dataset NAME --data-dir DIR)", title_justify="left")
    for column in ("name", "title", "labels", "layout", "licence"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(str(row["name"]), str(row["title"]), str(row["labels"]), str(row["layout"]), str(row["license"]))
    console.out.print(table)
