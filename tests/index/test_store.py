"""Recording tracks, runs and tag changes, and reading them back as mtag's commands will."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mtag.index import Index, SegmentRow, TrackRecord
from tests.index.conftest import LABELS, make_record


def _count(index: Index, table: str) -> int:
    return index.db[table].count


def test_recorded_track_reads_back_whole(index: Index, run_id: int, tmp_path: Path) -> None:
    record = make_record(tmp_path / "a.mp3")
    track_id = index.record_track(run_id, record)

    track = index.track(tmp_path / "a.mp3")
    assert track is not None
    assert (track.id, track.run_id, track.status, track.genres) == (track_id, run_id, "tagged", ["Rock"])
    assert (track.size, track.mtime_ns, track.duration, track.format) == (1000, record.mtime_ns, 6.5, "mp3")
    assert track.analysis_key == record.analysis_key
    assert track.labels == LABELS
    np.testing.assert_array_equal(track.scores, record.scores)
    assert [(p.genre, p.kind) for p in track.predictions] == [("Rock", "genre"), ("Jazz", "genre"), (None, "mood")]
    for stored, given in zip(track.segments, record.segments, strict=True):
        assert (stored.start, stored.end, stored.padding) == (given.start, given.end, given.padding)
        assert stored.scores.dtype == np.float32
        np.testing.assert_array_equal(stored.scores, given.scores)


def test_segment_scores_survive_as_exact_float32(index: Index, run_id: int, tmp_path: Path) -> None:
    labels = [f"label{i}" for i in range(50)]
    rng = np.random.default_rng(0)
    rows = rng.random((4, 50), dtype=np.float32)
    segments = [SegmentRow(i, i * 3.0, i * 3.0 + 3.0, None, row) for i, row in enumerate(rows)]
    record = make_record(tmp_path / "b.flac", labels=labels, scores=rows.mean(axis=0), segments=segments)
    index.record_track(run_id, record)

    track = index.track(tmp_path / "b.flac")
    assert track is not None
    np.testing.assert_array_equal(np.stack([s.scores for s in track.segments]), rows)
    blob_sizes = {size for (size,) in index.db.execute("SELECT length(scores) FROM segments")}
    assert blob_sizes == {50 * 4}  # four bytes a label: the index stays small


def test_unknown_track_is_none(index: Index, tmp_path: Path) -> None:
    assert index.track(tmp_path / "never.mp3") is None


def test_relative_and_absolute_paths_are_the_same_track(
    index: Index, run_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    index.record_track(run_id, make_record("a.mp3"))
    track = index.track(tmp_path / "a.mp3")
    assert track is not None and track.path == str(tmp_path / "a.mp3")


@pytest.mark.parametrize(
    ("change", "current"),
    [
        ({}, True),
        ({"size": 1001}, False),
        ({"mtime_ns": 1_700_000_000_000_000_001}, False),
        ({"analysis_key": "musicnn-msd/187/93/all/mean/fp32"}, False),
    ],
)
def test_is_current_only_for_the_same_file_and_analysis(
    index: Index, run_id: int, tmp_path: Path, change: dict, current: bool
) -> None:
    record = make_record(tmp_path / "a.mp3")
    index.record_track(run_id, record)
    asked = {"size": record.size, "mtime_ns": record.mtime_ns, "analysis_key": record.analysis_key, **change}
    assert index.is_current(tmp_path / "a.mp3", **asked) is current


def test_failed_tracks_are_redone(index: Index, run_id: int, tmp_path: Path) -> None:
    record = make_record(tmp_path / "a.mp3", status="failed")
    index.record_track(run_id, record)
    assert not index.is_current(tmp_path / "a.mp3", record.size, record.mtime_ns, record.analysis_key)


def test_rerecording_replaces_the_previous_analysis(index: Index, run_id: int, tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    first = index.record_track(run_id, make_record(path))
    shorter = make_record(path, labels=["rock"], scores=np.array([0.5], np.float32), segments=[], genres=["Jazz"])
    assert index.record_track(run_id, shorter) == first

    track = index.track(path)
    assert track is not None
    assert track.labels == ["rock"] and track.segments == [] and track.genres == ["Jazz"]
    assert (_count(index, "tracks"), _count(index, "predictions"), _count(index, "segments")) == (1, 1, 0)


def test_failed_track_is_recorded_with_its_error_and_no_scores(index: Index, run_id: int, tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    index.record_track(run_id, make_record(path))
    index.record_track(run_id, TrackRecord(path=path, status="failed", error="cannot decode: invalid data"))
    track = index.track(path)
    assert track is not None
    assert (track.status, track.error, track.predictions, track.segments) == (
        "failed",
        "cannot decode: invalid data",
        [],
        [],
    )


def test_scores_that_do_not_match_the_labels_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one value per label"):
        make_record(tmp_path / "a.mp3", scores=np.zeros(2, np.float32))


def test_run_lifecycle(index: Index) -> None:
    with index.lock_for_run():
        killed = index.start_run("musicnn-msd", {"threshold": 0.3, "library": Path("/music")})
    with index.lock_for_run():
        run_id = index.start_run("vgg-mtt", {})
        index.finish_run(run_id, {"tagged": 3})

    stale = index.run(killed)
    assert stale is not None
    assert (stale.status, stale.finished) == ("interrupted", None)
    assert stale.options == {"library": "/music", "threshold": 0.3}
    finished = index.run(run_id)
    assert finished is not None
    assert (finished.status, finished.summary, finished.model) == ("finished", {"tagged": 3}, "vgg-mtt")
    assert finished.finished is not None and finished.finished >= finished.started
    assert [run.id for run in index.runs()] == [run_id, killed]
    assert [run.id for run in index.runs(limit=1)] == [run_id]
    assert index.run(run_id + 1) is None

    index.mark_run(run_id, "undone")
    assert index.run(run_id).status == "undone"


def test_starting_a_run_requires_the_run_lock(index: Index) -> None:
    with pytest.raises(RuntimeError, match="lock_for_run"):
        index.start_run("musicnn-msd", {})


def test_tag_change_intent_is_committed_before_the_write(
    index: Index, run_id: int, db_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "a.mp3"
    change_id = index.begin_tag_change(run_id, path, "genre", [], ["Rock", "Indie"])

    # Another connection -- e.g. ``mtag undo`` after a crash -- already sees it.
    seen = sqlite3.connect(db_path).execute("SELECT state, new_value FROM tag_changes").fetchall()
    assert seen == [("pending", '["Rock", "Indie"]')]
    assert index.last_run_id() == run_id
    [pending] = index.tag_changes(run_id)
    assert (pending.id, pending.state) == (change_id, "pending")
    assert (pending.old_value, pending.new_value) == ([], ["Rock", "Indie"])
    assert not index.is_current(path, 1000, 1, "key")  # the crash-window track is analysed again

    index.complete_tag_change(change_id, size_after=1200, mtime_ns_after=42)
    track_id = index.record_track(run_id, make_record(path, size=1200, mtime_ns=42))
    [applied] = index.tag_changes(run_id)
    assert (applied.state, applied.track_id) == ("applied", track_id)
    assert (applied.size_after, applied.mtime_ns_after) == (1200, 42)
    assert applied.changed_at is not None


def test_undone_and_failed_changes_leave_nothing_to_undo(index: Index, run_id: int, tmp_path: Path) -> None:
    failed = index.begin_tag_change(run_id, tmp_path / "locked.mp3", "genre", ["Pop"], ["Rock"])
    index.fail_tag_change(failed, "permission denied")
    applied = index.begin_tag_change(run_id, tmp_path / "a.mp3", "mood", [], ["happy"])
    index.complete_tag_change(applied, 10, 20)
    assert [change.id for change in index.tag_changes(run_id)] == [applied]

    index.mark_change(applied, "undone")
    assert index.tag_changes(run_id) == []
    assert index.last_run_id() is None
    assert index.last_run_id(with_changes=False) == run_id
    states = dict(index.db.execute("SELECT id, state FROM tag_changes").fetchall())
    assert states == {failed: "failed", applied: "undone"}


def test_last_run_with_changes_skips_runs_that_changed_nothing(index: Index, tmp_path: Path) -> None:
    with index.lock_for_run():
        tagging = index.start_run("musicnn-msd", {})
        change = index.begin_tag_change(tagging, tmp_path / "a.mp3", "genre", [], ["Rock"])
        index.complete_tag_change(change, 1, 1)
        index.finish_run(tagging, {})
    with index.lock_for_run():
        index.start_run("musicnn-msd", {})  # everything current: no changes
    assert index.last_run_id() == tagging
