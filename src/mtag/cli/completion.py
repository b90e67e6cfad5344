"""Shell completion scripts for bash, zsh and fish, generated from the CLI.

The scripts are small shims that ask ``mtag`` itself for candidates (Typer's
completion protocol), so they stay right as commands, options and installed
model names change.  Regenerate the committed copies with
``python -m mtag.cli.completion completions``; a test checks they are current.
"""

from __future__ import annotations

import sys
from pathlib import Path

from typer._completion_shared import get_completion_script

#: Shell -> file name that shell's completion loaders look for.
SCRIPT_NAMES = {"bash": "mtag.bash", "zsh": "_mtag", "fish": "mtag.fish"}
COMPLETE_VAR = "_MTAG_COMPLETE"


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, ending with a newline."""
    return get_completion_script(prog_name="mtag", complete_var=COMPLETE_VAR, shell=shell).rstrip("\n") + "\n"


def write_completions(folder: Path) -> list[Path]:
    """Write every shell's script into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for shell, name in SCRIPT_NAMES.items():
        path = folder / name
        path.write_text(completion_script(shell), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_completions(Path(sys.argv[1] if len(sys.argv) > 1 else "completions")):
        print(path)
