"""The index's tables, and the schema version that lets later mtag versions migrate them.

The version lives in SQLite's ``PRAGMA user_version`` (part of the file
header, so it changes in the same transaction as the tables it describes) and
``PRAGMA application_id`` marks the file as an mtag index, so that ``--db``
pointed at some other program's database is refused instead of having mtag's
tables added to it.

To change the schema, append a function to :data:`MIGRATIONS` and bump
nothing else: the version is the length of that tuple.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from mtag.errors import MtagError
from mtag.index.transaction import immediate

#: "mtag" in ASCII, stored in the database header.
APPLICATION_ID = 0x6D746167

ANOTHER_INDEX_HINT = "use --db to choose another index"


def _create_v1(db: Database) -> None:
    """The first schema: runs, tracks, and per-track predictions, segments and tag changes."""
    db.table("runs").create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "status": str,
            "model": str,
            "options": str,
            "mtag_version": str,
            "summary": str,
        },
        pk="id",
        not_null={"started", "status", "model", "options", "mtag_version"},
    )
    db.table("tracks").create(
        {
            "id": int,
            "path": str,
            "size": int,
            "mtime_ns": int,
            "duration": float,
            "format": str,
            "status": str,
            "error": str,
            "run_id": int,
            "analysis_key": str,
            "genres": str,
            "analysed_at": str,
        },
        pk="id",
        not_null={"path", "status", "run_id", "genres"},
        defaults={"genres": "[]"},
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("tracks").create_index(["path"], unique=True)
    db.table("tracks").create_index(["run_id", "status"])
    db.table("predictions").create(
        {"track_id": int, "run_id": int, "label": str, "genre": str, "kind": str, "score": float},
        pk=("track_id", "label"),
        not_null={"track_id", "run_id", "label", "score"},
        foreign_keys=[("track_id", "tracks", "id"), ("run_id", "runs", "id")],
    )
    db.table("segments").create(
        {
            "track_id": int,
            "run_id": int,
            "idx": int,
            "start": float,
            "end": float,
            "padding": str,
            "scores": bytes,
        },
        pk=("track_id", "idx"),
        not_null={"track_id", "run_id", "idx", "start", "end", "scores"},
        foreign_keys=[("track_id", "tracks", "id"), ("run_id", "runs", "id")],
    )
    db.table("tag_changes").create(
        {
            "id": int,
            "track_id": int,
            "run_id": int,
            "path": str,
            "field": str,
            "old_value": str,
            "new_value": str,
            "state": str,
            "error": str,
            "changed_at": str,
            "size_after": int,
            "mtime_ns_after": int,
        },
        pk="id",
        not_null={"track_id", "run_id", "path", "field", "old_value", "new_value", "state"},
        foreign_keys=[("track_id", "tracks", "id"), ("run_id", "runs", "id")],
    )
    db.table("tag_changes").create_index(["run_id", "state"])
    db.table("tag_changes").create_index(["track_id"])


#: ``MIGRATIONS[v]`` brings a database from schema version ``v`` to ``v + 1``.
MIGRATIONS: tuple[Callable[[Database], None], ...] = (_create_v1,)
SCHEMA_VERSION = len(MIGRATIONS)


def _pragma(db: Database, name: str) -> int:
    return db.execute(f"PRAGMA {name}").fetchone()[0]


def _is_foreign(db: Database, version: int) -> bool:
    """Another program's database: tables but no mtag version, or a version but not mtag's id."""
    if version == 0:
        return bool(db.table_names())
    return _pragma(db, "application_id") != APPLICATION_ID


def check_version(db: Database, path: Path) -> int:
    """The file's schema version, after refusing files this mtag must not touch.

    Only reads: call it before changing anything in a file (journal mode included).
    """
    version = _pragma(db, "user_version")
    if version > SCHEMA_VERSION:
        raise MtagError(
            f"the index was written by a newer mtag (schema version {version}, this mtag reads up to {SCHEMA_VERSION})",
            path=path,
            hint=f"upgrade mtag or {ANOTHER_INDEX_HINT}",
        )
    if _is_foreign(db, version):
        raise MtagError("this SQLite database is not an mtag index", path=path, hint=ANOTHER_INDEX_HINT)
    return version


def ensure_schema(db: Database, path: Path) -> None:
    """Create or migrate the tables of the index at ``path``, or refuse it.

    Checking first without a transaction lets readers open an up-to-date index
    without taking SQLite's write lock; the check is repeated inside the write
    transaction because two processes may open a fresh file at once.
    """
    if check_version(db, path) == SCHEMA_VERSION:
        return
    with immediate(db):
        for migrate in MIGRATIONS[check_version(db, path) :]:
            migrate(db)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
