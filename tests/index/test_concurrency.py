"""Several processes and kill -9: one run at a time, and never a half-written track."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mtag.index import Index, IndexBusyError
from tests.index.conftest import python_env

HOLD_LOCK = """
import sys, time
from mtag.index import Index
with Index.open(sys.argv[1]) as index, index.lock_for_run():
    print("locked", flush=True)
    time.sleep(60)
"""

WRITE_FOREVER = """
import sys
import numpy as np
from mtag.index import Index, SegmentRow, TrackRecord
labels = [f"label{i}" for i in range(50)]
with Index.open(sys.argv[1]) as index, index.lock_for_run():
    run_id = index.start_run("musicnn-msd", {})
    for n in range(1_000_000):
        scores = np.full(50, n % 7 / 7, dtype=np.float32)
        segments = [SegmentRow(i, 3.0 * i, 3.0 * i + 3.0, None, scores) for i in range(8)]
        record = TrackRecord(path=f"/music/{n}.mp3", status="tagged", size=n, mtime_ns=n, analysis_key="k",
                             genres=["Rock"], labels=labels, scores=scores, segments=segments)
        index.record_track(run_id, record)
        if n == 20:
            print("writing", flush=True)
"""


def _start(script: str, db_path: Path, ready: str) -> subprocess.Popen[str]:
    """Run ``script`` in a child python and wait until it prints ``ready``."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    assert child.stdout is not None
    if child.stdout.readline().strip() != ready:
        child.kill()
        pytest.fail(f"child process did not get ready (exit code {child.wait()})")
    return child


def _kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 semantics")
def test_second_process_is_told_who_holds_the_index(db_path: Path) -> None:
    Index.open(db_path).close()
    holder = _start(HOLD_LOCK, db_path, "locked")
    try:
        with Index.open(db_path, timeout=0.2) as index:
            started = time.monotonic()
            busy = f"in use by another mtag process \\(pid {holder.pid}\\)"
            with pytest.raises(IndexBusyError, match=busy) as caught:
                with index.lock_for_run():
                    pytest.fail("got the lock while another process holds it")
            assert time.monotonic() - started < 2
            assert str(caught.value).startswith(f"{db_path}: ")
            assert "--db" in str(caught.value)
    finally:
        _kill(holder)

    # The kernel dropped the dead holder's lock: the next run starts at once.
    with Index.open(db_path, timeout=0.2) as index, index.lock_for_run():
        index.start_run("musicnn-msd", {})


def test_the_lock_is_free_again_after_the_run(index: Index) -> None:
    with index.lock_for_run():
        pass
    with Index.open(index.path, timeout=0.2) as other, other.lock_for_run():
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 semantics")
def test_kill_9_while_writing_leaves_only_whole_tracks(db_path: Path) -> None:
    Index.open(db_path).close()
    writer = _start(WRITE_FOREVER, db_path, "writing")
    time.sleep(0.3)
    _kill(writer)

    with Index.open(db_path) as index:
        assert index.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows_per_track = index.db.execute(
            "SELECT (SELECT COUNT(*) FROM predictions p WHERE p.track_id = t.id),"
            " (SELECT COUNT(*) FROM segments s WHERE s.track_id = t.id) FROM tracks t"
        ).fetchall()
        assert len(rows_per_track) > 20
        assert set(rows_per_track) == {(50, 8)}
        assert index.is_current("/music/0.mp3", 0, 0, "k")

        killed = index.last_run_id(with_changes=False)
        with index.lock_for_run():
            index.start_run("musicnn-msd", {})
        assert index.run(killed).status == "interrupted"
