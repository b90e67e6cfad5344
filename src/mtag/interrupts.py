"""Know that Ctrl-C was pressed even where a library swallowed the ``KeyboardInterrupt``.

Python's SIGINT handler only sets a flag; the ``KeyboardInterrupt`` is raised
at the next Python instruction, wherever that is.  When FFmpeg is blocked in a
system call (an open or read on a hung network mount), the signal makes the
call fail with EINTR, PyAV turns that into an "Interrupted system call" error,
and the ``KeyboardInterrupt`` is raised inside one of PyAV's C callbacks, which
ignore it.  The decode would then be reported as a damaged file and the run
would go on, when the user asked it to stop.

:func:`install` counts SIGINTs (and still raises ``KeyboardInterrupt`` as
Python does), so the decoder can tell an interrupted decode from a bad file
by comparing :func:`count` before and after.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_count = 0


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _count
    _count += 1
    signal.default_int_handler(signum, frame)


def install() -> None:
    """Count SIGINTs from now on, where Python's own handler is in place (main thread only)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is (
        signal.default_int_handler
    ):
        signal.signal(signal.SIGINT, _on_sigint)


def count() -> int:
    """SIGINTs received since :func:`install` (0 where it was not called)."""
    return _count


def raise_if_interrupted_since(before: int) -> None:
    """Raise ``KeyboardInterrupt`` if a SIGINT came after :func:`count` returned ``before``."""
    if _count != before:
        raise KeyboardInterrupt
