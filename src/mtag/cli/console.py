"""Where the CLI writes: results to stdout, messages to stderr, one line per problem."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.text import Text

from mtag.errors import MtagError

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
    err.print(Text.assemble(("mtag: error: ", "bold red"), message))


def report_problem(message: str, detail: str | None = None) -> None:
    """One line for a file that failed while the run goes on; its traceback too with ``-v``."""
    if settings.verbose and detail:
        err.print(Text(detail.rstrip()))
    err.print(Text.assemble(("mtag: ", "bold red"), message))


def print_json_line(obj: Any) -> None:
    """One JSON object per line on stdout, unwrapped, for pipes and ``jq``."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def human_size(n_bytes: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, as file managers show)."""
    if n_bytes < 1000:
        return f"{n_bytes} B"
    size = n_bytes / 1000
    for unit in ("kB", "MB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
