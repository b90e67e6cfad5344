"""Errors a user can act on.

Every failure the user can fix (a missing file, an unknown model name, a file
that does not decode) is raised as an :class:`MtagError`.  The CLI prints it as
one line -- which file, what is wrong, what to do -- and exits with the error's
code; anything else is a bug and keeps its traceback behind ``-v``.
"""

from __future__ import annotations

from os import PathLike

from mtag.text import printable

#: Exit codes shared by every command.
EXIT_OK = 0
EXIT_FAILED = 1  # some input failed; the rest was processed
EXIT_USAGE = 2  # the command line itself is wrong (unknown model, bad option)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a SIGINT


class MtagError(Exception):
    """A failure explained in one line, with an optional hint on what to do."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, path: str | PathLike[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.hint = hint

    def __str__(self) -> str:
        """The one line a user sees: printable even where a file name is not valid UTF-8."""
        line = self.message if self.path is None else f"{self.path}: {self.message}"
        return printable(f"{line} ({self.hint})" if self.hint else line)


class UsageError(MtagError):
    """The command line asks for something that does not exist or cannot work."""

    exit_code = EXIT_USAGE


class AudioError(MtagError):
    """A file that is missing, unreadable or not decodable audio."""


class ModelError(MtagError):
    """A model that cannot be found or loaded."""
