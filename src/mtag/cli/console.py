"""Where the CLI writes: results to stdout, messages to stderr, one line per problem."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from mtag.errors import MtagError
from mtag.text import json_text, printable
from mtag.units import human_size  # noqa: F401  # re-exported: console.human_size

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class _Settings:
    verbose: bool = False


settings = _Settings()


def set_verbose(value: bool) -> None:
    """``-v`` may come before or after the command name; either turns it on."""
    settings.verbose = settings.verbose or value


def report_error(error: BaseException) -> None:
    """One line on stderr; the traceback too when ``-v`` was given."""
    if settings.verbose:
        err.print_exception(show_locals=False)
    message = str(error) if isinstance(error, MtagError) else f"internal error: {error!r} (run with -v for details)"
    err.print(Text.assemble(("mtag: error: ", "bold red"), printable(message)))


def report_problem(message: str, detail: str | None = None) -> None:
    """One line for a file that failed while the run goes on; its traceback too with ``-v``."""
    if settings.verbose and detail:
        err.print(Text(printable(detail.rstrip())))
    err.print(Text.assemble(("mtag: ", "bold red"), printable(message)))


def shown(path: str | os.PathLike[str]) -> str:
    """A path for Rich markup: undecodable bytes of its name as ``\\xNN`` (see :mod:`mtag.text`), markup escaped."""
    return escape(printable(os.fspath(path)))


def print_json_line(obj: Any) -> None:
    """One JSON object per line on stdout, unwrapped, for pipes and ``jq``; valid UTF-8 whatever the file names."""
    sys.stdout.write(json_text(obj) + "\n")
    sys.stdout.flush()
