"""How ``mtag datasets fetch`` shows a download: a Rich bar on a terminal, plain lines in a log or pipe."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from mtag.cli import console
from mtag.units import human_size


class PlainProgress:
    """Lines on stderr: the start of each file and every tenth of it, so a log shows how far it got."""

    STEPS = 10

    def __init__(self) -> None:
        self._label = ""
        self._total: int | None = None
        self._done = 0
        self._shown = 0

    def note(self, line: str) -> None:
        console.err.print(Text(f"mtag: {line}"))

    def start(self, label: str, total: int | None, done: int) -> None:
        self._label, self._total, self._done = label, total, done
        self._shown = self._tenths()
        size = human_size(total) if total is not None else "size unknown"
        resumed = f", resuming at {human_size(done)}" if done else ""
        self.note(f"downloading {label} ({size}{resumed})")

    def advance(self, n_bytes: int) -> None:
        self._done += n_bytes
        tenths = self._tenths()
        if tenths > self._shown and self._total:
            self._shown = tenths
            self.note(f"{self._label}: {human_size(self._done)} of {human_size(self._total)} ({tenths * 10}%)")

    def stop(self) -> None:
        """Nothing to clear: every line printed stays true."""

    def _tenths(self) -> int:
        return self._done * self.STEPS // self._total if self._total else 0


class BarProgress:
    """A Rich bar per file (bytes, speed, time left) on stderr; notes print above it."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console.err,
            transient=True,
        )
        self._task: TaskID | None = None

    def note(self, line: str) -> None:
        console.err.print(Text(f"mtag: {line}"))

    def start(self, label: str, total: int | None, done: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, completed=done)

    def advance(self, n_bytes: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, advance=n_bytes)

    def stop(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None
        self._progress.stop()


def download_progress() -> PlainProgress | BarProgress:
    """The bar where stderr is a terminal, plain lines where it is not."""
    return BarProgress() if console.err.is_terminal else PlainProgress()
