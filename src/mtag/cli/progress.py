"""The live progress line of a long run: files done of total, windows per second, time left."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from mtag.cli import console
from mtag.train.events import TrainEvents

if TYPE_CHECKING:  # torch stays out of 'mtag --help'
    from mtag.engine.inference import Engine

_Staged = TypeVar("_Staged", bound="StagedProgress")


def counting_bar(field: str | None = None, show: bool = True) -> Progress:
    """A transient "what [bar] 12/93 field 0:01:02" bar on stderr, drawn only on a terminal (and if ``show``).

    ``field`` names a task field shown beside the count (a speed, a loss).
    One look for every long command's progress.
    """
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
    if field is not None:
        columns.append(TextColumn(f"{{task.fields[{field}]}}"))
    columns.append(TimeRemainingColumn())
    return Progress(*columns, console=console.err, disable=not (show and console.err.is_terminal), transient=True)


class RunProgress:
    """A context manager giving the ``on_track`` callback that advances the bar.

    Drawn on stderr and only on a terminal, so ``--json`` output and logs stay clean.
    """

    def __init__(self, total: int, engine: Engine) -> None:
        self.engine = engine
        self.started = time.perf_counter()
        self.progress = counting_bar("speed")
        self.task = self.progress.add_task("tagging", total=total, speed="")

    def __enter__(self) -> Callable[[object], None]:
        self.progress.start()
        return self.advance

    def advance(self, _report: object) -> None:
        elapsed = time.perf_counter() - self.started
        speed = f"{self.engine.windows_scored / elapsed:.0f} windows/s" if elapsed > 0 else ""
        self.progress.update(self.task, advance=1, speed=speed)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.progress.stop()


class StagedProgress(TrainEvents):
    """One :func:`counting_bar` task per stage of a run, replaced when the next stage begins.

    ``mtag train`` and ``mtag eval`` report stages through the same
    :class:`~mtag.train.events.TrainEvents`; their views differ only in what
    they print around the bar, so the bar itself is kept here once.
    """

    def __init__(self, show: bool = True) -> None:
        self.progress = counting_bar("detail", show=show)
        self.task: TaskID | None = None

    def __enter__(self: _Staged) -> _Staged:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.progress.stop()

    def begin(self, label: str, total: int | None) -> None:
        """Replace the previous stage's bar with one for ``label`` (``total`` None: not known yet)."""
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(label, total=total, detail="")

    def advance(self, done: int, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total)
