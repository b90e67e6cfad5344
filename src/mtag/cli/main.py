"""The ``mtag`` command: parses, delegates to the library, prints.

Commands import torch-backed modules inside their bodies, so ``mtag --help``,
``--version`` and ``mtag models`` start instantly.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mtag import __version__, interrupts, logs
from mtag.cli import console
from mtag.cli.datasets import datasets_app
from mtag.cli.eval import eval_command
from mtag.cli.help import use_plain_help
from mtag.cli.history import runs_command, undo_command
from mtag.cli.inspect import inspect_command
from mtag.cli.models import models_app
from mtag.cli.tag import tag_command
from mtag.cli.train import train_command
from mtag.errors import EXIT_FAILED, EXIT_INTERRUPTED, MtagError

app = typer.Typer(
    name="mtag",
    help="Tag music libraries with genres by listening to the audio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("tag")(tag_command)
app.command("undo")(undo_command)
app.command("runs")(runs_command)
app.command("inspect")(inspect_command)
app.command("train")(train_command)
app.command("eval")(eval_command)
app.add_typer(models_app, name="models")
app.add_typer(datasets_app, name="datasets")
use_plain_help(app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mtag {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks of errors.")] = False,
) -> None:
    """Tag music libraries with genres by listening to the audio."""
    console.set_verbose(verbose)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one line and an exit code."""
    interrupts.install()
    logs.show_warnings()
    try:
        app(args=argv, prog_name="mtag")
    except MtagError as error:
        console.report_error(error)
        raise SystemExit(error.exit_code) from None
    except KeyboardInterrupt:  # outside a command (typer turns one inside into exit code 130)
        console.err.print("mtag: interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as error:  # a bug: say so in one line, traceback behind -v
        console.report_error(error)
        raise SystemExit(EXIT_FAILED) from None
