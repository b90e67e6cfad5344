"""The index of ``mtag tag``: what every run analysed, decided and wrote, in SQLite.

Durability comes from transactions, not from care at call sites: every public
write is one ``BEGIN IMMEDIATE`` transaction, so a kill -9 at any moment leaves
either all of a track's rows or none of them.  WAL journaling lets readers
(``mtag runs``, another terminal's queries) read while a run writes; with
``synchronous=NORMAL`` a commit costs no fsync, and a power cut can lose only
the last few commits -- which an incremental run simply redoes.

An :class:`Index` wraps one connection and, like it, belongs to one thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlite_utils import Database

from mtag import __version__
from mtag.catalog import user_data_dir
from mtag.errors import MtagError, UsageError
from mtag.index.lock import RunLock
from mtag.index.rows import (
    CHANGE_APPLIED,
    CHANGE_FAILED,
    CHANGE_PENDING,
    RUN_FINISHED,
    RUN_INTERRUPTED,
    RUN_RUNNING,
    TRACK_FAILED,
    TRACK_PENDING,
    PredictionRow,
    RunRow,
    SegmentRow,
    TagChangeRow,
    TrackRecord,
    TrackRow,
    decode_scores,
    encode_scores,
    path_from_db,
    path_to_db,
)
from mtag.index.schema import ANOTHER_INDEX_HINT, check_version, ensure_schema
from mtag.index.transaction import immediate
from mtag.text import json_text, printable

INDEX_FILE = "index.db"

#: Track statuses that ``is_current`` never accepts: failures may have been
#: fixed since (a locked or read-only file), a dry run wrote no tags, and a
#: pending track died before its analysis was recorded.
RETRY_STATUSES = (TRACK_FAILED, TRACK_PENDING)


def default_index_path() -> Path:
    """Where the index lives unless ``--db`` says otherwise."""
    return user_data_dir() / INDEX_FILE


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _json(value: Any) -> str:
    """JSON text for the index: stable key order, readable non-ASCII genre names, paths as strings.

    Valid UTF-8 even where a path in it is not (see :func:`mtag.text.json_text`): SQLite refuses anything else.
    """
    return json_text(value, sort_keys=True, default=str)


def _open_error(path: Path, error: OSError | sqlite3.Error) -> MtagError:
    """Turn a failure to open ``path`` into a one-line message naming the file."""
    if isinstance(error, sqlite3.DatabaseError) and any(s in str(error) for s in ("not a database", "malformed")):
        return MtagError(
            "not an mtag index: the file is not an SQLite database or is damaged",
            path=path,
            hint=f"move it aside or {ANOTHER_INDEX_HINT}",
        )
    reason = error.strerror if isinstance(error, OSError) else str(error)
    hint = f"check its permissions or {ANOTHER_INDEX_HINT}"
    return MtagError(f"cannot open the index: {reason}", path=path, hint=hint)


def no_index(path: Path) -> UsageError:
    """What a command that only reads the index says when there is none at ``path``.

    A usage error (exit code 2), as a missing path given to ``mtag tag`` is:
    almost always a mistyped ``--db``, or ``mtag tag`` never run; nothing was done.
    """
    return UsageError(f"no index at {path}", hint="'mtag tag' creates it; check the --db path")


def _connect(path: Path, timeout: float, create: bool) -> Database:
    """Open and configure the SQLite file; ``timeout`` is SQLite's busy timeout.

    Nothing in the file changes before it is known to be an mtag index (or
    empty, with ``create``): a foreign database is refused as it was found.
    """
    if path.is_dir():
        raise MtagError("is a folder, not an index file", path=path, hint=ANOTHER_INDEX_HINT)
    if not create and not path.is_file():  # a reader never leaves an empty index (or its folder) behind a typo
        raise no_index(path)
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        # connect(timeout=) sets sqlite3_busy_timeout, i.e. PRAGMA busy_timeout.
        conn = sqlite3.connect(path, timeout=timeout)
    except (OSError, sqlite3.Error) as error:
        raise _open_error(path, error) from error
    try:
        db = Database(conn, execute_plugins=False)
        if check_version(db, path) == 0 and not create:  # an empty file: not an index yet
            raise no_index(path)
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        ensure_schema(db, path)
    except BaseException as error:
        conn.close()
        if isinstance(error, sqlite3.Error):
            raise _open_error(path, error) from error
        raise
    return db


class Index:
    """The SQLite index of runs, tracks, their analyses and the tag changes made."""

    def __init__(self, db: Database, path: Path, timeout: float) -> None:
        """Use :meth:`open`; this only wraps an already configured database."""
        self.db = db
        self.path = path
        self.timeout = timeout
        self._run_locked = False

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, timeout: float = 30.0, create: bool = True) -> Index:
        """Open the index at ``path``, default :func:`default_index_path`.

        With ``create`` (what ``mtag tag`` does) a missing index and its folder
        are created; without it (``runs``, ``undo``, ``inspect --from-index``)
        a missing one is a :class:`UsageError` and nothing is created.
        ``timeout`` is how long to wait for another process's write
        transaction or, in :meth:`lock_for_run`, for its whole run.
        """
        path = default_index_path() if path is None else Path(path).expanduser()
        return cls(_connect(path, timeout, create), path, timeout)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction; SQLite failures (disk full, locked) become a user-facing error."""
        try:
            with immediate(self.db):
                yield
        except sqlite3.OperationalError as error:
            raise MtagError(
                f"cannot write the index: {error}",
                path=self.path,
                hint=f"check free disk space and permissions, or {ANOTHER_INDEX_HINT}",
            ) from error

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert ``row`` into a table keyed by an integer ``id`` and return that id; inside a write."""
        row_id = self.db.table(table).insert(row).last_pk
        if not isinstance(row_id, int):  # sqlite-utils types last_pk as Any | None; an INTEGER id is always set
            raise RuntimeError(f"inserting into {table} gave no integer id ({row_id!r})")
        return row_id

    # Runs -----------------------------------------------------------------

    @contextmanager
    def lock_for_run(self) -> Iterator[None]:
        """Hold the run lock for the block; raises :class:`IndexBusyError` after ``timeout``.

        Readers need no lock.  Writers of runs (``mtag tag``, ``mtag undo``)
        must hold it: it is what makes a ``running`` run found at
        :meth:`start_run` a dead one.
        """
        with RunLock(self.path, self.timeout):
            self._run_locked = True
            try:
                yield
            finally:
                self._run_locked = False

    def start_run(self, model: str, options: Mapping[str, Any]) -> int:
        """Record a new run and return its id; earlier ``running`` runs become ``interrupted``.

        Must be called inside :meth:`lock_for_run`: only then is a run still
        marked ``running`` known to have died.
        """
        if not self._run_locked:
            raise RuntimeError("start_run() must be called inside Index.lock_for_run()")
        with self._write():
            self.db.execute("UPDATE runs SET status = ? WHERE status = ?", [RUN_INTERRUPTED, RUN_RUNNING])
            run = {
                "started": _now(),
                "status": RUN_RUNNING,
                "model": printable(model),  # a model folder's name need not be UTF-8 either
                "options": _json(dict(options)),
                "mtag_version": __version__,
            }
            return self._insert("runs", run)

    def finish_run(self, run_id: int, summary: Mapping[str, Any], status: str = RUN_FINISHED) -> None:
        """Close a run that ended on its own terms (also an interruption by Ctrl-C) with its summary."""
        with self._write():
            self.db.table("runs").update(
                run_id, {"finished": _now(), "status": status, "summary": _json(dict(summary))}
            )

    def mark_run(self, run_id: int, status: str) -> None:
        """Change a run's status only, e.g. to ``undone`` once ``mtag undo`` restored it."""
        with self._write():
            self.db.table("runs").update(run_id, {"status": status})

    def run(self, run_id: int) -> RunRow | None:
        rows = list(self.db.table("runs").rows_where("id = ?", [run_id]))
        return RunRow.from_row(rows[0]) if rows else None

    def runs(self, limit: int = 20) -> list[RunRow]:
        """The latest ``limit`` runs, newest first."""
        return [RunRow.from_row(row) for row in self.db.table("runs").rows_where(order_by="id DESC", limit=limit)]

    def last_run_id(self, with_changes: bool = True) -> int | None:
        """The newest run; with ``with_changes``, the newest that still has tag changes to undo."""
        if with_changes:
            return self._one(
                "SELECT MAX(run_id) FROM tag_changes WHERE state IN (?, ?)", [CHANGE_APPLIED, CHANGE_PENDING]
            )
        return self._one("SELECT MAX(id) FROM runs")

    # Tracks ---------------------------------------------------------------

    def paths(self) -> list[str]:
        """Every file the index has a row for, sorted: the tracks a data set of the user's library starts from."""
        return sorted(path_from_db(row[0]) for row in self.db.execute("SELECT path FROM tracks"))

    def is_current(self, path: str | os.PathLike[str], size: int, mtime_ns: int, analysis_key: str) -> bool:
        """Whether the file needs no work: analysed with this key, unchanged since, and not to be retried.

        Each track is committed on its own, so this is also how a killed run
        resumes: its finished tracks are current, the rest are not.
        """
        found = self._one(
            "SELECT 1 FROM tracks WHERE path = ? AND size = ? AND mtime_ns = ? AND analysis_key = ?"
            f" AND status NOT IN ({', '.join('?' * len(RETRY_STATUSES))})",
            [path_to_db(path), size, mtime_ns, analysis_key, *RETRY_STATUSES],
        )
        return found is not None

    def _track_id(self, path: str, run_id: int) -> int:
        """The id of the track at ``path``, inserting a ``pending`` row if it is new; inside a write."""
        found = self._one("SELECT id FROM tracks WHERE path = ?", [path])
        if found is not None:
            return found
        return self._insert("tracks", {"path": path, "status": TRACK_PENDING, "run_id": run_id})

    def record_track(self, run_id: int, record: TrackRecord) -> int:
        """Store a track's analysis in one transaction, replacing its previous one; returns the track id.

        Only the latest analysis of a file is kept, so ``--force`` reruns do
        not grow the index.
        """
        with self._write():
            track_id = self._track_id(path_to_db(record.path), run_id)
            self.db.table("tracks").update(
                track_id,
                {
                    "size": record.size,
                    "mtime_ns": record.mtime_ns,
                    "duration": record.duration,
                    "format": None if record.format is None else printable(record.format),
                    "status": record.status,
                    "error": None if record.error is None else printable(record.error),
                    "run_id": run_id,
                    "analysis_key": record.analysis_key,
                    "genres": _json(list(record.genres)),
                    "analysed_at": _now(),
                },
            )
            self._replace_analysis(track_id, run_id, record)
        return track_id

    def _replace_analysis(self, track_id: int, run_id: int, record: TrackRecord) -> None:
        for table in ("predictions", "segments"):
            self.db.execute(f"DELETE FROM {table} WHERE track_id = ?", [track_id])
        scores: Iterable[float] = () if record.scores is None else record.scores
        predictions = [
            {
                "track_id": track_id,
                "run_id": run_id,
                "label": label,
                "genre": record.label_genres.get(label),
                "kind": record.kinds.get(label),
                "score": float(score),
            }
            for label, score in zip(record.labels, scores)
        ]
        segments = [
            {
                "track_id": track_id,
                "run_id": run_id,
                "idx": idx,
                "start": segment.start,
                "end": segment.end,
                "padding": segment.padding,
                "scores": encode_scores(segment.scores),
            }
            for idx, segment in enumerate(record.segments)
        ]
        self.db.table("predictions").insert_all(predictions)
        self.db.table("segments").insert_all(segments)

    def track(self, path: str | os.PathLike[str]) -> TrackRow | None:
        """A file's latest analysis with predictions (label order) and segments decoded, or None."""
        with self.db.atomic():  # one snapshot: a concurrent run may be replacing this track
            rows = list(self.db.table("tracks").rows_where("path = ?", [path_to_db(path)]))
            if not rows:
                return None
            track = rows[0]
            predictions = [
                PredictionRow(row["label"], row["genre"], row["kind"], row["score"])
                for row in self.db.table("predictions").rows_where("track_id = ?", [track["id"]], order_by="rowid")
            ]
            segments = [
                SegmentRow(row["idx"], row["start"], row["end"], row["padding"], decode_scores(row["scores"]))
                for row in self.db.table("segments").rows_where("track_id = ?", [track["id"]], order_by="idx")
            ]
        track["genres"] = json.loads(track["genres"])
        track["path"] = path_from_db(track["path"])
        return TrackRow(**track, predictions=predictions, segments=segments)

    def decided_with(self, path: str | os.PathLike[str]) -> dict[str, Any] | None:
        """The options of the run that last analysed or decided ``path`` (cheap: no scores decoded).

        Lets a run tell a file it may skip from one whose analysis is current
        but whose genres were decided with other settings (another ``--mode``,
        ``--threshold``...), which it re-decides from the stored scores.
        """
        options = self._one(
            "SELECT runs.options FROM tracks JOIN runs ON runs.id = tracks.run_id WHERE tracks.path = ?",
            [path_to_db(path)],
        )
        return None if options is None else json.loads(options)

    def begin_tag_change(
        self, run_id: int, path: str | os.PathLike[str], field: str, old: Sequence[str], new: Sequence[str]
    ) -> int:
        """Commit the intent to rewrite ``field`` of ``path`` from ``old`` to ``new`` BEFORE touching the file.

        ``[]`` means the field is absent.  If the process dies after this, the
        change stays ``pending`` and :meth:`tag_changes` hands it to undo.
        """
        normalised = path_to_db(path)
        with self._write():
            change = {
                "track_id": self._track_id(normalised, run_id),
                "run_id": run_id,
                "path": normalised,
                "field": field,
                "old_value": _json(list(old)),
                "new_value": _json(list(new)),
                "state": CHANGE_PENDING,
            }
            return self._insert("tag_changes", change)

    def complete_tag_change(self, change_id: int, size_after: int, mtime_ns_after: int) -> None:
        """The file was written: remember its size and mtime, by which undo recognises it untouched since."""
        self._update_change(
            change_id,
            {"state": CHANGE_APPLIED, "changed_at": _now(), "size_after": size_after, "mtime_ns_after": mtime_ns_after},
        )

    def fail_tag_change(self, change_id: int, error: str) -> None:
        """The write failed and the file is unchanged; undo skips it."""
        self._update_change(change_id, {"state": CHANGE_FAILED, "error": error})

    def mark_change(self, change_id: int, state: str) -> None:
        """Set an undo outcome, e.g. ``undone`` or ``conflict``."""
        self._update_change(change_id, {"state": state})

    def _update_change(self, change_id: int, values: Mapping[str, Any]) -> None:
        with self._write():
            shown = {name: printable(value) if name == "error" else value for name, value in values.items()}
            self.db.table("tag_changes").update(change_id, shown)

    def tag_changes(self, run_id: int) -> list[TagChangeRow]:
        """The run's changes undo must look at (``applied`` and ``pending``), in the order they were made.

        Undo them newest first.  The contract for each, comparing the field's
        current value in the file:

        * equal to ``new_value``: the write happened (for a ``pending`` one,
          the process died before :meth:`complete_tag_change`) -- restore
          ``old_value`` and mark it ``undone``;
        * equal to ``old_value``: nothing to restore (a ``pending`` write that
          never happened) -- mark it ``undone``;
        * anything else: someone changed the file since -- leave it and mark
          it ``conflict``.

        ``size_after``/``mtime_ns_after`` of an applied change equal to the
        file's current stat is a cheap sign nothing touched it since.
        """
        rows = self.db.table("tag_changes").rows_where(
            "run_id = ? AND state IN (?, ?)", [run_id, CHANGE_APPLIED, CHANGE_PENDING], order_by="id"
        )
        return [TagChangeRow.from_row(row) for row in rows]
