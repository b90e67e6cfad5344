"""``mtag datasets fetch``: download a data set, verify it, extract it, name the ``--data-dir`` to use.

Two phases, so the CLI can show the size and ask before anything large moves:
:func:`plan` looks at what is already there (a finished item, a downloaded
archive not yet extracted, a ``.part`` to resume) and asks the server for the
size of what is missing; :func:`run` downloads, verifies and extracts it.

What is finished is never redone: a downloaded file sits under its final name
only once complete and verified (see :mod:`mtag.data.fetch_http`), and an
extracted archive leaves a small record in ``<data-dir>/.mtag-fetch/`` before its
downloaded pieces are deleted, so a second run (or one after Ctrl-C) picks up
exactly where the first stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from mtag.data.fetch_archives import extract
from mtag.data.fetch_http import FetchError, NetworkError, Progress, download, part_path, remote_size
from mtag.data.sources import Item, Remote, Source, manual_line
from mtag.disk import free_bytes
from mtag.units import human_size

#: Above this many bytes to download, the CLI shows the size and asks first (unless --yes).
ASK_ABOVE_BYTES = 1_000_000_000

RECORDS = ".mtag-fetch"


@dataclass(frozen=True)
class Pending:
    """One file still to download: its full size (None: unknown) and the bytes a ``.part`` already holds."""

    remote: Remote
    size: int | None
    have: int

    @property
    def left(self) -> int | None:
        return None if self.size is None else max(0, self.size - self.have)


@dataclass(frozen=True)
class ItemPlan:
    """An item not finished yet: the files it still needs (possibly none: only the extraction is left)."""

    item: Item
    pending: tuple[Pending, ...]


@dataclass(frozen=True)
class Plan:
    """What a fetch will do, known before it starts."""

    source: Source
    data_dir: Path
    todo: tuple[ItemPlan, ...]
    finished: tuple[Item, ...] = field(default=())

    @property
    def files(self) -> tuple[Pending, ...]:
        return tuple(pending for step in self.todo for pending in step.pending)

    @property
    def bytes_left(self) -> int | None:
        """Bytes still to download; None when the server does not say for some file."""
        lefts = [pending.left for pending in self.files]
        return None if any(left is None for left in lefts) else sum(left or 0 for left in lefts)

    @property
    def complete(self) -> bool:
        return not self.todo

    @property
    def ask_first(self) -> bool:
        """Whether the download is big (or of unknown size) enough to ask before starting."""
        left = self.bytes_left
        return bool(self.files) and (left is None or left > ASK_ABOVE_BYTES)


def plan(source: Source, to: Path) -> Plan:
    """Look at ``to`` and the servers: what is left to download and extract for ``source``."""
    data_dir = to / source.folder
    todo: list[ItemPlan] = []
    finished: list[Item] = []
    for item in source.items:
        if _finished(item, data_dir):
            finished.append(item)
            continue
        pending = []
        for remote in item.parts:
            target = data_dir / remote.filename
            if target.exists():  # complete and verified (see fetch_http), not yet extracted
                continue
            part = part_path(target)
            have = part.stat().st_size if part.exists() else 0
            with _manual_hint(source):
                size = remote_size(remote.url) or remote.approx_size
            pending.append(Pending(remote, size, have))
        todo.append(ItemPlan(item, tuple(pending)))
    return Plan(source, data_dir, tuple(todo), tuple(finished))


def run(fetch_plan: Plan, progress: Progress) -> None:
    """Download, verify and extract what ``fetch_plan`` lists; raises :class:`FetchError` with one line."""
    _check_space(fetch_plan)
    try:
        _run(fetch_plan, progress)
    except OSError as error:  # a folder that cannot be created or written: one line, not a traceback
        raise FetchError(
            f"{error.filename or fetch_plan.data_dir}: {error.strerror or error}",
            hint="choose another --to, or fix the folder's permissions, and run again",
        ) from None


def _run(fetch_plan: Plan, progress: Progress) -> None:
    data_dir = fetch_plan.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    for step in fetch_plan.todo:
        for pending in step.pending:
            target = data_dir / pending.remote.filename
            with _manual_hint(fetch_plan.source):
                download(pending.remote, target, progress)
        if step.item.kind == "file":
            continue
        pieces = [data_dir / remote.filename for remote in step.item.parts]
        progress.note(f"extracting {step.item.name} into {data_dir}")
        extract(step.item.kind, pieces, data_dir, label=str(pieces[0]))
        _record(step.item, data_dir)
        for piece in pieces:  # extracted and recorded: the archive is no longer needed
            piece.unlink()


def _finished(item: Item, data_dir: Path) -> bool:
    if item.kind == "file":
        return (data_dir / item.parts[0].filename).exists()
    return _record_path(item, data_dir).exists()


def _record_path(item: Item, data_dir: Path) -> Path:
    return data_dir / RECORDS / f"{item.name}.json"


def _record(item: Item, data_dir: Path) -> None:
    """Note that ``item`` is downloaded, verified and extracted (written atomically)."""
    path = _record_path(item, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "item": item.name,
        "parts": [{"url": remote.url, "checksum": remote.checksum} for remote in item.parts],
        "extracted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    scratch.replace(path)


def _check_space(fetch_plan: Plan) -> None:
    """Refuse a download that cannot fit on the disk before the first byte is written."""
    needed = fetch_plan.bytes_left
    if not needed:
        return
    free = free_bytes(fetch_plan.data_dir)
    if free < needed:
        raise FetchError(
            f"{fetch_plan.data_dir}: {human_size(needed)} to download but only {human_size(free)} free on that disk",
            hint="free some space or choose another --to (extracting needs about as much again)",
        )


@contextmanager
def _manual_hint(source: Source) -> Iterator[None]:
    """A network failure's line also says how to get the data by hand."""
    try:
        yield
    except NetworkError as error:
        error.hint = f"{error.hint}; {manual_line(source)}" if error.hint else manual_line(source)
        raise
