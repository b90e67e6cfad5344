"""Opening an index: created on first use, refused with a one-line error when it cannot be used."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from mtag.errors import MtagError, UsageError
from mtag.index import SCHEMA_VERSION, Index, default_index_path


def test_new_index_has_all_tables_and_uses_wal(db_path: Path) -> None:
    with Index.open(db_path) as index:
        assert set(index.db.table_names()) == {"runs", "tracks", "predictions", "segments", "tag_changes"}
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_the_data(db_path: Path) -> None:
    with Index.open(db_path) as index, index.lock_for_run():
        run_id = index.start_run("musicnn-msd", {})
    with Index.open(db_path) as index:
        assert index.last_run_id(with_changes=False) == run_id


def test_default_location_follows_xdg_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with Index.open() as index:
        assert index.path == default_index_path() == tmp_path / "data" / "mtag" / "index.db"
    assert index.path.is_file()


def test_random_bytes_are_refused_naming_the_file(db_path: Path) -> None:
    db_path.write_bytes(random.Random(0).randbytes(8192))
    with pytest.raises(MtagError, match="not an SQLite database") as caught:
        Index.open(db_path)
    assert str(caught.value).startswith(f"{db_path}: ")
    assert "--db" in str(caught.value)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MtagError, match="folder") as caught:
        Index.open(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_index_from_a_newer_mtag_is_refused_untouched(db_path: Path) -> None:
    Index.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(MtagError, match="newer mtag") as caught:
        Index.open(db_path)
    assert str(db_path) in str(caught.value)
    assert "upgrade mtag" in str(caught.value)


def test_another_programs_database_is_not_taken_over(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    with pytest.raises(MtagError, match="not an mtag index"):
        Index.open(db_path)
    assert sqlite3.connect(db_path).execute("SELECT name FROM sqlite_master").fetchall() == [("photos",)]


def test_another_programs_database_is_refused_without_a_byte_changed(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO photos (name) VALUES ('beach.jpg')")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(MtagError, match="not an mtag index"):
        Index.open(db_path)
    assert db_path.read_bytes() == before  # its journal mode was switched to WAL before the check, once
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]  # no -wal, -shm or .lock
    assert sqlite3.connect(db_path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_opening_only_to_read_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "index.db"
    with pytest.raises(UsageError, match="no index at") as caught:
        Index.open(missing, create=False)
    assert str(missing) in str(caught.value) and caught.value.exit_code == 2
    assert not (tmp_path / "no").exists()
    empty = tmp_path / "empty.db"
    empty.touch()  # not an index yet: a reader leaves it as it is
    with pytest.raises(UsageError, match="no index at"):
        Index.open(empty, create=False)
    assert empty.read_bytes() == b""
    Index.open(tmp_path / "index.db").close()
    with Index.open(tmp_path / "index.db", create=False) as index:
        assert index.runs() == []
