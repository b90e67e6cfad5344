"""``TagSession`` as a library: interrupted runs, the order of index and file writes, undo of pending changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtag.index import Index
from mtag.library.session import SessionOptions, build_session
from mtag.library.tagging import TagOptions, TagSession, TrackReport
from mtag.library.undo import ALREADY, RESTORED, undo_run
from mtag.tags import read_field
from tests.library.helpers import digests, isolate_user_folders, write_music


@pytest.fixture(autouse=True)
def _user_folders(tmp_path, monkeypatch):
    isolate_user_folders(tmp_path, monkeypatch)


def session(dry_run: bool = False) -> TagSession:
    return build_session(SessionOptions(model="musicnn-msd", workers=0, tag=TagOptions(dry_run=dry_run)))


def files(tmp_path: Path, count: int) -> list[Path]:
    return [write_music(tmp_path / "lib" / f"{i:02d}.flac", 4.0, seed=i) for i in range(count)]


def test_ctrl_c_marks_the_run_interrupted_and_keeps_the_finished_tracks(tmp_path):
    paths = files(tmp_path, 4)
    before = digests(paths)
    seen: list[TrackReport] = []

    def stop_after_two(report: TrackReport) -> None:
        seen.append(report)
        if len(seen) == 2:
            raise KeyboardInterrupt

    tagger = session()  # one session, two runs: what a Python caller may do
    with Index.open(tmp_path / "index.db") as index, index.lock_for_run():
        with pytest.raises(KeyboardInterrupt):
            tagger.run(paths, index, stop_after_two)
        (run,) = index.runs()
        assert run.status == "interrupted" and run.finished and run.summary["statuses"] == {"tagged": 2}
        assert run.summary["windows"] >= sum(len(index.track(path).segments) for path in paths[:2]) > 0
        assert [index.track(path).status for path in paths[:2]] == ["tagged", "tagged"]
        assert [index.track(path) for path in paths[2:]] == [None, None]
        assert digests(paths[2:]) == {path: before[path] for path in paths[2:]}

        summary = tagger.run(paths, index)
        assert summary.windows == sum(len(index.track(path).segments) for path in paths[2:])
    assert summary.counts == {"skipped": 2, "tagged": 2}


def test_a_run_needs_an_index_unless_it_is_a_dry_run(tmp_path):
    paths = files(tmp_path, 1)
    assert session(dry_run=True).run(paths, None).counts == {"would-tag": 1}
    with pytest.raises(ValueError, match="index"):
        session().run(paths, None)
    assert read_field(paths[0], "genre") == []


def test_killed_after_the_intent_but_before_the_write_undo_finds_the_old_value(tmp_path, monkeypatch):
    (path,) = files(tmp_path, 1)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # stands for kill -9: nothing after it runs

    monkeypatch.setattr("mtag.library.tagging.write_tags", killed)
    with Index.open(tmp_path / "index.db") as index, index.lock_for_run():
        with pytest.raises(KeyboardInterrupt):
            session().run([path], index)
        (change,) = index.tag_changes(1)
        assert change.state == "pending" and change.old_value == [] and change.new_value
        summary = undo_run(index)
        assert [report.outcome for report in summary.reports] == [ALREADY]
        assert index.tag_changes(1) == []
    assert read_field(path, "genre") == []


def test_killed_after_the_write_but_before_its_confirmation_undo_restores(tmp_path, monkeypatch):
    (path,) = files(tmp_path, 1)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Index, "complete_tag_change", killed)
    with Index.open(tmp_path / "index.db") as index, index.lock_for_run():
        with pytest.raises(KeyboardInterrupt):
            session().run([path], index)
        (change,) = index.tag_changes(1)
        assert change.state == "pending" and read_field(path, "genre") == change.new_value != []
        assert index.track(path).status == "pending"  # the analysis was never recorded: the next run redoes it
        summary = undo_run(index)
        assert [report.outcome for report in summary.reports] == [RESTORED]
    assert read_field(path, "genre") == []
