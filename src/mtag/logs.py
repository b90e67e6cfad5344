"""Warnings logged by mtag's modules, shown the way the CLI shows problems: ``mtag: warning: ...``, once each.

The decoder logs what it works around (a truncated FLAC's last packet) with
:mod:`logging` rather than printing, so library callers choose what to do with
it.  Without a handler, Python's last-resort handler printed such a warning
bare, without the ``mtag:`` prefix that says which program is talking, and
``mtag inspect`` -- which decodes a file twice, for the model and for the
signal diagnostics -- printed it twice.  The CLI and each decode worker call
:func:`show_warnings` to print each distinct warning once per command.

No rich, no torch here: the decode workers import it.
"""

from __future__ import annotations

import logging
import sys

from mtag.text import printable


class _OnceEach(logging.Handler):
    """Writes each distinct message once to the current ``sys.stderr``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = printable(record.getMessage())
            if text not in self.seen:
                self.seen.add(text)
                sys.stderr.write(f"mtag: warning: {text}\n")
                sys.stderr.flush()
        except Exception:  # a broken stderr must not fail the decode that logged
            self.handleError(record)


_handler = _OnceEach()


def show_warnings() -> None:
    """Route the ``mtag`` loggers' warnings to stderr as ``mtag: warning: ...``; each shown once from now on."""
    logger = logging.getLogger("mtag")
    _handler.seen.clear()  # a new command (tests run many in one process) shows its warnings again
    if _handler not in logger.handlers:
        # With a handler on the way, logging's bare last-resort output stays silent; the record still
        # propagates, to whatever a caller configured on the root logger (and to pytest's caplog).
        logger.addHandler(_handler)
