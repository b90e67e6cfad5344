"""``mtag datasets fetch NAME --to DIR``: download, verify and extract a data set; say which --data-dir to use.

The work is in :mod:`mtag.data.fetch`; this module only talks: the size before
a large download (and the question, unless ``--yes``), the progress, and the
final line naming the ``--data-dir``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from mtag.cli import console
from mtag.cli.download_progress import download_progress
from mtag.data import fetch
from mtag.data.sources import Source, fetch_source, manual_line
from mtag.errors import EXIT_FAILED, EXIT_INTERRUPTED, UsageError
from mtag.units import human_size


def fetch_command(
    name: Annotated[
        str, typer.Argument(help="The data set: gtzan, mtat, fma (= fma-small), fma-medium, fma-large, fma-full.")
    ],
    to: Annotated[Path, typer.Option("--to", help="The folder to download into; the data set gets a sub-folder.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Start a large download without asking.")] = False,
) -> None:
    """Download a data set with resume, check its published checksums, extract it and print the --data-dir to use."""
    source = fetch_source(name)
    to = to.expanduser()
    if to.exists() and not to.is_dir():
        raise UsageError(f"--to {to} is a file, not a folder", hint="give the folder to download into")
    if not source.items:
        _nothing_to_download(source)
        return
    fetch_plan = fetch.plan(source, to)
    ready = f"use --dataset {source.dataset} --data-dir {fetch_plan.data_dir}"
    if fetch_plan.complete:
        console.out.print(Text(f"{source.name}: already downloaded, verified and extracted; {ready}"), soft_wrap=True)
        return
    _announce(fetch_plan)
    if fetch_plan.ask_first and not yes:
        _ask(fetch_plan)
    try:
        fetch.run(fetch_plan, download_progress())
    except KeyboardInterrupt:
        console.err.print(Text("mtag: interrupted; run the same command again to resume where it stopped"))
        raise typer.Exit(EXIT_INTERRUPTED) from None
    console.out.print(Text(f"{source.name} is ready: {ready}"), soft_wrap=True)


def _nothing_to_download(source: Source) -> None:
    """GTZAN (no stable checksummed URL) fails with the line saying where to get it; folder/library just say so."""
    if source.folder:
        raise fetch.FetchError(f"{source.name}: {manual_line(source)}")
    console.out.print(Text(f"{source.name}: {manual_line(source)}"), soft_wrap=True)


def _size(fetch_plan: fetch.Plan) -> str:
    left = fetch_plan.bytes_left
    return "an unknown amount (the server does not say)" if left is None else human_size(left)


def _announce(fetch_plan: fetch.Plan) -> None:
    files = len(fetch_plan.files)
    what = (
        f"{files} file{'s' if files != 1 else ''}, {_size(fetch_plan)} to download" if files else "nothing to download"
    )
    console.err.print(
        Text(f"mtag: {fetch_plan.source.name}: {what} into {fetch_plan.data_dir} ({fetch_plan.source.verified_by})")
    )


def _ask(fetch_plan: fetch.Plan) -> None:
    """Ask before a large download; refuse where nobody can answer (stdin is not a terminal)."""
    if not _stdin_is_terminal():
        raise UsageError(
            f"{fetch_plan.source.name}: {_size(fetch_plan)} to download; not starting without --yes",
            hint="stdin is not a terminal to ask on: add --yes",
        )
    if not typer.confirm(f"Download {_size(fetch_plan)} into {fetch_plan.data_dir}?", default=False, err=True):
        console.err.print(Text("mtag: nothing downloaded"))
        raise typer.Exit(EXIT_FAILED)


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
