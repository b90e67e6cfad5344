"""``mtag tag`` on a library of real files: what lands in the files, in the index and on the terminal."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import mutagen
import numpy as np
import pytest
from mutagen.id3 import TCON

from mtag.audio.decode import load_audio
from mtag.index import Index
from mtag.index.lock import RunLock
from mtag.tags import read_field, write_tags
from mtag.taxonomy import merge_genres
from tests.engine.helpers import deadline
from tests.library.helpers import (
    SUBFOLDER,
    TAGGABLE,
    build_library,
    copy_library,
    digest,
    digests,
    mtag,
    write_music,
    write_noise,
    write_taxonomy,
)

REPO = Path(__file__).resolve().parents[2]
SEP = "; "
THRESHOLD = 0.25  # the default

#: A genre table whose decisions on the test signals are known: noise is "electronic" and "dance",
#: the music signal "blues", each far above the threshold.
TAXONOMY = """
[genres]
"Synth Pop" = { parent = "Pop" }
Pop = {}
"Delta Blues" = { parent = "Blues" }
Blues = {}

[labels.genre]
electronic = "Synth Pop"
blues = "Delta Blues"

[labels.mood]
dance = "Energetic"
"""


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    """A library with one 4-second file of every taggable format, two of them in a subfolder."""
    root = tmp_path_factory.mktemp("master") / "lib"
    build_library(root)
    return root


@pytest.fixture
def lib(master, tmp_path) -> list[Path]:
    """A fresh copy of the master library at ``tmp_path/lib``; its files, sorted."""
    return copy_library(master, tmp_path / "lib")


def tag(capsys, root: Path, db: Path, *options: str) -> tuple[int, str, str]:
    return mtag(capsys, "tag", root, "--db", db, "--workers", "0", *options)


def tag_json(capsys, root: Path, db: Path, *options: str) -> tuple[int, dict, dict[Path, dict]]:
    """``mtag tag --json``: the exit code, the summary line and the track reports by path."""
    code, out, err = tag(capsys, root, db, "--json", *options)
    assert out.count("\n") == 1, (out, err)
    result = json.loads(out)
    return code, result, {Path(track["path"]): track for track in result["tracks"]}


def genre(path: Path) -> list[str]:
    return read_field(path, "genre")


def summary_table(out: str) -> dict[str, int]:
    """The status -> files rows of the summary table that ``mtag tag`` prints."""
    rows = [line.split() for line in out.splitlines()]
    return {row[0]: int(row[2]) for row in rows if len(row) == 3 and row[1] == "│" and row[2].isdigit()}


# What one run does --------------------------------------------------------------------------------


def test_tags_every_format_and_records_each_decision_in_the_index(capsys, lib, tmp_path):
    assert {p.suffix for p in lib} == set(TAGGABLE) and any(p.parent.name == SUBFOLDER for p in lib)
    db = tmp_path / "index.db"

    code, result, reports = tag_json(capsys, tmp_path / "lib", db)

    assert code == 0
    assert result["files"] == len(lib) and result["statuses"] == {"tagged": len(lib)} and not result["failed"]
    assert set(reports) == set(lib)
    with Index.open(db) as index:
        (run,) = index.runs()
        assert run.status == "finished" and run.finished and run.summary["statuses"] == {"tagged": len(lib)}
        changes = {Path(change.path): change for change in index.tag_changes(run.id)}
        assert index.db["tracks"].count == len(lib) and index.db["tag_changes"].count == len(lib)
        for path in lib:
            track = index.track(path)
            assert track.status == "tagged" and track.run_id == run.id and track.genres, path
            value = SEP.join(track.genres)
            assert genre(path) == [value], path
            assert read_field(path, "mood") == [], "MOOD is written only with --moods"
            assert len(track.predictions) == 50 and len(set(track.labels)) == 50
            assert track.segments and all(segment.scores.shape == (50,) for segment in track.segments)
            for name in track.genres:  # each chosen genre has a label at or above the threshold
                assert max(p.score for p in track.predictions if p.genre == name) >= THRESHOLD
            change = changes[path]
            assert (change.field, change.old_value, change.new_value, change.state) == (
                "genre",
                [],
                [value],
                "applied",
            )
            assert reports[path]["status"] == "tagged" and reports[path]["genres"] == track.genres
            assert reports[path]["changes"] == {"genre": {"old": [], "new": [value]}}
        assert result["windows"] == index.db["segments"].count
    assert sum(result["genres"].values()) == sum(len(r["genres"]) for r in reports.values())


def test_worker_processes_tag_exactly_like_the_inline_decoder(capsys, master, tmp_path):
    inline = copy_library(master, tmp_path / "inline")
    pooled = copy_library(master, tmp_path / "pooled")

    tag(capsys, tmp_path / "inline", tmp_path / "inline.db")
    code, out, err = mtag(
        capsys, "tag", tmp_path / "pooled", "--db", tmp_path / "pooled.db", "--workers", "2", "--json"
    )

    assert code == 0, err
    assert json.loads(out)["statuses"] == {"tagged": len(pooled)}
    with Index.open(tmp_path / "inline.db") as one, Index.open(tmp_path / "pooled.db") as other:
        for a, b in zip(inline, pooled):
            assert genre(a) == genre(b) and genre(b)
            np.testing.assert_allclose(one.track(a).scores, other.track(b).scores, atol=1e-5)


def test_dry_run_shows_old_and_new_values_and_writes_nothing(capsys, lib, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    write_tags(lib[0], {"genre": ["Jazz"]})
    before = digests(lib)

    code, out, err = tag(capsys, root, db, "--dry-run", "--mode", "replace")

    assert code == 0, err
    assert digests(lib) == before
    assert not list(tmp_path.glob("index.db*")), "a dry run must not create the index"
    assert not list(root.rglob("*.tmp"))
    lines = [line for line in out.splitlines() if " -> " in line]
    assert len(lines) == len(lib)
    promised = {}
    for path, line in zip(lib, lines):
        assert line.startswith(f"{path}: genre {'Jazz' if path == lib[0] else '(none)'} -> "), line
        promised[path] = line.split(" -> ", 1)[1]
    assert "dry run: nothing written\n" in out and summary_table(out) == {"would-tag": len(lib)}

    # the run for real writes what the dry run showed
    assert tag(capsys, root, db, "--mode", "replace")[0] == 0
    assert {path: genre(path) for path in lib} == {path: [value] for path, value in promised.items()}

    # and a dry run over an existing index leaves it as it is
    index_before = digest(db)
    assert tag(capsys, root, db, "--dry-run", "--mode", "append", "--force")[0] == 0
    assert digest(db) == index_before


# Modes ----------------------------------------------------------------------------------------------


def test_keep_mode_leaves_a_users_genre_but_still_indexes_the_analysis(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    jazz, bare = write_music(root / "jazz.flac"), write_music(root / "bare.mp3", seed=1)
    write_tags(jazz, {"genre": ["Jazz"]})
    before = digest(jazz)

    code, result, reports = tag_json(capsys, root, db)

    assert code == 0
    assert reports[jazz]["status"] == "kept" and reports[jazz]["changes"] == {}
    assert digest(jazz) == before and genre(jazz) == ["Jazz"]
    assert reports[bare]["status"] == "tagged"
    with Index.open(db) as index:
        track = index.track(jazz)
        assert track.status == "kept" and track.genres == reports[jazz]["genres"] and track.genres
        assert len(track.predictions) == 50 and track.segments
        assert [Path(change.path) for change in index.tag_changes(result["run"])] == [bare]


def test_replace_mode_overwrites_single_and_multi_valued_genres(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    old = {
        write_music(root / "a.flac"): ["Jazz"],
        write_music(root / "b.mp3", seed=1): ["Jazz", "Blues"],
        write_music(root / "c.m4a", seed=2): ["Jazz", "Blues"],
        write_music(root / "d.wma", seed=3): [],
    }
    for path, values in old.items():
        write_tags(path, {"genre": values})

    code, result, reports = tag_json(capsys, root, db, "--mode", "replace")

    assert code == 0 and result["statuses"] == {"tagged": len(old)}
    with Index.open(db) as index:
        changes = {Path(change.path): change for change in index.tag_changes(result["run"])}
        for path, values in old.items():
            assert genre(path) == [SEP.join(index.track(path).genres)]
            assert changes[path].old_value == values and changes[path].new_value == genre(path)


def test_append_mode_adds_only_genres_not_already_there(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    # noise: "Electronic; Dance; ..." by the default table
    old = {
        write_noise(root / "a.flac"): ["Jazz"],
        write_noise(root / "b.wav", seed=1): ["Jazz; Dance"],
        write_noise(root / "c.aiff", seed=2): ["Jazz", "dance"],  # multi-valued, other case
        write_noise(root / "d.flac", seed=3): ["Jazz, Electronic"],  # hand-typed, another separator
    }
    for path, values in old.items():
        write_tags(path, {"genre": values})

    code, result, _ = tag_json(capsys, root, db, "--mode", "append")

    assert code == 0 and result["statuses"] == {"tagged": len(old)}
    with Index.open(db) as index:
        decided = {path: index.track(path).genres for path in old}
    assert all({"Electronic", "Dance"} <= set(names) for names in decided.values()), decided
    a, b, c, d = old
    assert genre(a) == [SEP.join(["Jazz", *decided[a]])]
    assert genre(b) == [SEP.join(merge_genres(["Jazz", "Dance"], decided[b]))]
    assert genre(c) == [SEP.join(merge_genres(["Jazz", "dance"], decided[c]))]
    assert genre(d) == [SEP.join(["Jazz, Electronic", *[g for g in decided[d] if g != "Electronic"]])]
    for path in (b, c, d):
        names = [name.strip().casefold() for name in genre(path)[0].replace(",", ";").split(";")]
        assert len(names) == len(set(names)), genre(path)

    # appending again adds nothing: the files are left alone
    before = digests(old)
    code, result, _ = tag_json(capsys, root, db, "--mode", "append", "--force")
    assert code == 0 and result["statuses"] == {"unchanged": len(old)}
    assert digests(old) == before


def test_moods_and_parents_are_written_only_when_asked(capsys, tmp_path):
    table = write_taxonomy(tmp_path / "genres.toml", TAXONOMY)
    plain = {
        "noise": write_noise(tmp_path / "plain" / "noise.flac"),
        "wav": write_noise(tmp_path / "plain" / "noise.wav", seed=1),
        "music": write_music(tmp_path / "plain" / "music.m4a"),
    }
    asked = {name: tmp_path / "asked" / path.name for name, path in plain.items()}
    copy_library(tmp_path / "plain", tmp_path / "asked")

    assert tag(capsys, tmp_path / "plain", tmp_path / "plain.db", "--taxonomy", str(table))[0] == 0
    code, out, err = tag(
        capsys, tmp_path / "asked", tmp_path / "asked.db", "--taxonomy", str(table), "--moods", "--parents"
    )
    assert code == 0, err

    assert {name: genre(path) for name, path in plain.items()} == {
        "noise": ["Synth Pop"],
        "wav": ["Synth Pop"],
        "music": ["Delta Blues"],
    }
    assert all(read_field(path, "mood") == [] for path in plain.values())
    assert {name: genre(path) for name, path in asked.items()} == {
        "noise": ["Synth Pop; Pop"],
        "wav": ["Synth Pop; Pop"],
        "music": ["Delta Blues; Blues"],
    }
    assert {name: read_field(path, "mood") for name, path in asked.items()} == {
        "noise": ["Energetic"],
        "wav": ["Energetic"],
        "music": [],  # no mood reached the threshold: the field stays absent
    }
    with Index.open(tmp_path / "asked.db") as index:
        fields = sorted((Path(c.path).name, c.field) for c in index.tag_changes(1))
    assert fields == [
        ("music.m4a", "genre"),
        ("noise.flac", "genre"),
        ("noise.flac", "mood"),
        ("noise.wav", "genre"),
        ("noise.wav", "mood"),
    ]


# Later runs -------------------------------------------------------------------------------------------


def test_a_track_without_a_genre_gets_no_mood_either(capsys, tmp_path):
    """Moods ride along with genres: a track the table finds no genre for is left as it is."""
    table = write_taxonomy(
        tmp_path / "genres.toml",
        '[genres]\nJazz = {}\n\n[labels.genre]\njazz = "Jazz"\n\n[labels.mood]\nblues = "Bluesy"\n',
    )
    song = write_music(tmp_path / "lib" / "music.flac")  # "blues" far above the threshold, "jazz" far below
    before = digest(song)

    code, out, err = tag(capsys, tmp_path / "lib", tmp_path / "index.db", "--taxonomy", str(table), "--moods", "--json")

    (report,) = json.loads(out)["tracks"]
    assert code == 0 and report["status"] == "no-genre" and report["changes"] == {}
    assert digest(song) == before
    # the table lists 2 of the model's 50 labels: the user hears of the other 48, once
    assert err.count(f"{table}: does not list 48 labels of musicnn-msd ('rock', 'pop',") == 1


@pytest.mark.parametrize(("separator", "message"), [("", "cannot be empty"), (" ", "contains the separator")])
def test_a_separator_that_cannot_work_is_refused_before_any_work(capsys, tmp_path, separator, message):
    write_music(tmp_path / "lib" / "music.flac")
    code, out, err = tag(capsys, tmp_path / "lib", tmp_path / "index.db", "--separator", separator)
    assert code == 2 and out == "" and message in err
    assert not (tmp_path / "index.db").exists()


def test_a_dry_run_leaves_even_stale_temporary_copies_alone(capsys, tmp_path):
    song = write_music(tmp_path / "lib" / "music.flac")
    stale = tmp_path / "lib" / f".{song.name}.mtag-999999999.tmp"  # no such process
    stale.write_bytes(b"left by a killed run")
    assert tag(capsys, tmp_path / "lib", tmp_path / "index.db", "--dry-run")[0] == 0
    assert stale.exists()
    assert tag(capsys, tmp_path / "lib", tmp_path / "index.db")[0] == 0
    assert not stale.exists()


def test_second_run_skips_force_analyses_again_and_a_touched_file_is_redone(capsys, lib, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    code, out, err = tag(capsys, root, db)
    assert code == 0, err
    assert out.startswith("run 1\n") and summary_table(out) == {"tagged": len(lib)}
    assert f"{len(lib)} files in " in out and "most frequent genres: " in out
    mtimes = {path: path.stat().st_mtime_ns for path in lib}
    before = digests(lib)

    code, result, reports = tag_json(capsys, root, db)
    assert code == 0 and result["statuses"] == {"skipped": len(lib)} and result["windows"] == 0
    assert all(report["status"] == "skipped" for report in reports.values())
    assert {path: path.stat().st_mtime_ns for path in lib} == mtimes and digests(lib) == before
    code, out, _ = tag(capsys, root, db)
    assert summary_table(out) == {"skipped": len(lib)} and f"{len(lib)} files in " in out
    assert "realtime" not in out, "no speed to tell when nothing was analysed"

    touched = lib[3]
    os.utime(touched, ns=(mtimes[touched] + 10**9, mtimes[touched] + 10**9))
    code, result, reports = tag_json(capsys, root, db)
    assert code == 0 and result["statuses"] == {"skipped": len(lib) - 1, "kept": 1}
    with Index.open(db) as index:
        assert reports[touched]["status"] == "kept" and result["windows"] == len(index.track(touched).segments)

    code, result, reports = tag_json(capsys, root, db, "--force")
    assert code == 0 and result["statuses"] == {"kept": len(lib)}
    assert digests(lib) == before
    with Index.open(db) as index:
        assert result["windows"] == index.db["segments"].count  # every file analysed again
        assert [run.summary["statuses"] for run in index.runs()][0] == {"kept": len(lib)}
        assert index.db["tracks"].count == len(lib)  # one row per file, however often analysed


def _finished_tracks(db: Path) -> int:
    """Tracks whose analysis is committed, read the way a second process would; 0 before the index exists."""
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return connection.execute("SELECT COUNT(*) FROM tracks WHERE status != 'pending'").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_a_run_killed_half_way_leaves_whole_files_and_resumes(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    paths = sorted(
        write_music(root / f"song{i:02d}{ext}", 4.0, seed=i) for i, ext in enumerate((".flac", ".mp3", ".ogg") * 4)
    )
    audio = {path: load_audio(path) for path in paths}
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}  # HOME and XDG_*: tmp_path, by the autouse fixture
    command = [sys.executable, "-m", "mtag", "tag", str(root), "--db", str(db), "--workers", "0"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and _finished_tracks(db) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it was killed"

    # the files are whole: tags either absent or complete, audio as it was
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    with Index.open(db) as index:
        done = {Path(row["path"]) for row in index.db["tracks"].rows_where("status = 'tagged'")}
        assert 3 <= len(done) < len(paths)
        for path in done:
            assert genre(path) == [SEP.join(index.track(path).genres)]
    for path in paths:
        assert np.array_equal(load_audio(path), audio[path]), path
    at_kill = {path: genre(path) for path in paths}
    # what a kill during a tag write leaves: a temporary copy whose process is gone
    (root / f".{paths[-1].name}.mtag-{process.pid}.tmp").write_bytes(paths[-1].read_bytes()[:1000])

    code, result, reports = tag_json(capsys, root, db)

    assert code == 0
    for path in paths:
        if path in done:
            assert reports[path]["status"] == "skipped"
        else:  # a file written just before the kill, but not yet recorded, already has its genre: kept
            assert reports[path]["status"] == ("kept" if at_kill[path] else "tagged"), path
    with Index.open(db) as index:
        for path in paths:
            value = [SEP.join(index.track(path).genres)]
            assert genre(path) == value and at_kill[path] in ([], value), path
        assert [run.status for run in index.runs()] == ["finished", "interrupted"]
    assert not list(root.glob(".*.mtag-*.tmp")), "temporary copies left behind"


@pytest.mark.slow
def test_ctrl_c_stops_the_run_in_one_line_that_says_how_to_continue(tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    for i in range(24):  # about 3 s of work: far more than the time it takes to send the signal
        write_music(root / f"song{i:02d}.flac", 8.0, seed=i)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "mtag", "tag", str(root), "--db", str(db), "--workers", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and _finished_tracks(db) < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("mtag: interrupted after ") and "run the same command again" in line
    with Index.open(db) as index:
        assert [run.status for run in index.runs()] == ["interrupted"]


def _runs(db: Path) -> list[str]:
    """The statuses of the index's runs, oldest first; [] before the index exists."""
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return [row[0] for row in connection.execute("SELECT status FROM runs ORDER BY id")]
        finally:
            connection.close()
    except sqlite3.Error:
        return []


def test_ctrl_c_while_the_only_file_is_opened_in_this_process_is_an_interrupt(tmp_path):
    # A file whose open never returns (a hung network mount): a FIFO, with the check that refuses one taken away.
    fifo, db = tmp_path / "hung.flac", tmp_path / "index.db"
    os.mkfifo(fifo)
    script = (
        "import mtag.audio.decode as decode; decode._check_file = lambda path: None; "
        f"from mtag.cli.main import run; run(['tag', {str(fifo)!r}, '--db', {str(db)!r}])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and _runs(db) != ["running"] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # from the run's start to FFmpeg's open of the one file
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 130, err  # not 1 for a "damaged" file, nor 0 for a finished run
    assert (
        err.decode().strip()
        == "mtag: interrupted after 0 of 1 files; run the same command again to continue where it stopped"
    )
    assert _runs(db) == ["interrupted"]


def test_short_tracks_are_padded_and_counted_too_short_ones_get_no_genre(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    short, tiny, whole = (write_music(root / name, seconds) for name, seconds in
                          (("short.flac", 2.0), ("tiny.flac", 0.5), ("whole.flac", 4.0)))  # fmt: skip

    code, result, reports = tag_json(capsys, root, db)

    assert code == 0
    assert (reports[short]["padded"], reports[whole]["padded"]) == (True, False)
    assert result["padded"] == 1
    assert reports[tiny]["status"] == "too-short" and genre(tiny) == []
    assert reports[short]["status"] == "tagged" and genre(short)
    code, out, _ = tag(capsys, root, db, "--force")
    assert "1 shorter than one window" in out


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid``, from /proc."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from Linux's /proc")
def test_decode_workers_exit_when_the_main_process_is_killed_and_leave_nothing_behind(tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    for i in range(24):
        write_music(root / f"song{i:02d}.flac", 8.0, seed=i)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "mtag", "tag", str(root), "--db", str(db), "--workers", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and _finished_tracks(db) < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    workers = _children(process.pid)
    process.kill()
    process.wait()

    assert workers, "no worker processes to watch"
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "decode workers outlived the run"
    # stderr ends when the last process holding it (multiprocessing's resource tracker) has exited
    _, err = process.communicate(timeout=30)
    assert "leaked semaphore" not in err and "resource_tracker" not in err, err


# Failures ---------------------------------------------------------------------------------------------


def test_bad_files_are_reported_one_line_each_and_the_good_ones_still_tagged(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    good = [write_music(root / "good.flac"), write_music(root / "good.m4a", seed=1)]
    corrupt = root / "corrupt.flac"
    corrupt.write_bytes(np.random.default_rng(0).bytes(20_000))
    whole = write_music(tmp_path / "whole.mp3", 7.0).read_bytes()
    truncated = root / "truncated.mp3"
    truncated.write_bytes(whole[: len(whole) * 3 // 10])
    empty = root / "empty.ogg"
    empty.touch()
    text = root / "notes.wav"
    text.write_text("these are not the droids you are looking for\n")
    raw = write_music(root / "raw.aac", seed=2)
    bad = [corrupt, empty, text, raw]

    code, out, err = tag(capsys, root, db, "--json")

    assert code == 1
    lines = err.splitlines()
    assert len(lines) == len(bad), err
    for path in bad:
        (line,) = [line for line in lines if f"{path}: " in line]
        assert line.startswith("mtag: ") and "internal error" not in line
    assert "remux" in next(line for line in lines if str(raw) in line)
    reports = {Path(track["path"]): track for track in json.loads(out)["tracks"]}
    assert {path for path, report in reports.items() if report["status"] == "failed"} == set(bad)
    assert reports[truncated]["status"] != "failed"  # what is left of an MP3 still decodes
    with Index.open(db) as index:
        for path in good:
            assert reports[path]["status"] == "tagged" and genre(path) == [SEP.join(index.track(path).genres)]
        for path in bad:
            track = index.track(path)
            assert track.status == "failed" and str(path) in track.error
        assert index.track(raw).genres, "raw AAC is analysed; only its tags cannot be written"
    assert read_field(raw, "genre") == []

    # failures are tried again next time, the rest is skipped
    code, out, err = tag(capsys, root, db, "--json")
    assert code == 1 and len(err.splitlines()) == len(bad)
    assert json.loads(out)["statuses"] == {"failed": len(bad), "skipped": 3}


def test_a_path_that_does_not_exist_is_a_usage_error(capsys, tmp_path):
    missing = tmp_path / "Musci"
    code, out, err = mtag(capsys, "tag", missing, "--db", tmp_path / "index.db")
    assert code == 2 and out == ""
    assert str(missing) in err and "no such file or folder" in err
    assert not (tmp_path / "index.db").exists()


@pytest.mark.parametrize("option", [("--mode", "merge"), ("--threshold", "1.5"), ("--aggregate", "median")])
def test_bad_option_values_are_usage_errors(capsys, tmp_path, option):
    code, _, err = mtag(capsys, "tag", tmp_path, *option)
    assert code == 2 and option[0] in err


def test_a_busy_index_is_reported_and_no_file_is_touched(capsys, lib, tmp_path, monkeypatch):
    # The CLI waits 30 s for the lock and has no option to shorten that: give the lock a short timeout.
    monkeypatch.setattr("mtag.index.store.RunLock", lambda path, timeout: RunLock(path, 0.2))
    db = tmp_path / "index.db"
    before = digests(lib)
    with Index.open(db) as other, other.lock_for_run():
        code, out, err = tag(capsys, tmp_path / "lib", db)
    assert code == 1
    assert "index is in use by another mtag process" in err and str(db) in err and f"pid {os.getpid()}" in err
    assert digests(lib) == before
    with Index.open(db) as index:
        assert index.runs() == []


def test_a_folder_without_audio_says_so(capsys, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "cover.jpg").touch()
    code, out, err = tag(capsys, tmp_path / "lib", tmp_path / "index.db")
    assert code == 0 and out == ""
    assert f"no audio files found in {tmp_path / 'lib'}" in err and "flac" in err
    assert not (tmp_path / "index.db").exists()  # no run recorded for nothing


def test_special_files_are_left_out_and_a_fifo_named_explicitly_fails_in_one_line(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    song = write_music(root / "song.flac")
    fifo = root / "x.mp3"
    os.mkfifo(fifo)  # nothing will ever write to it: a decoder that opened it would wait forever

    with deadline(60):
        code, result, reports = tag_json(capsys, root, db)
        assert code == 0 and set(reports) == {song} and reports[song]["status"] == "tagged"
        assert result["special_files"] == {"FIFO": 1}
        code, out, _ = tag(capsys, root, db, "--force")
        assert code == 0 and "left out 1 FIFO named like audio files" in out

        for command in (("tag", fifo, "--db", db), ("tag", fifo, "--dry-run"), ("inspect", fifo)):
            code, out, err = mtag(capsys, *command)
            assert code == 1, command
            (line,) = err.strip().splitlines()
            assert line.startswith("mtag: ") and f"{fifo}: is a FIFO, not a regular file" in line


def test_a_file_name_that_is_not_utf8_is_tagged_indexed_shown_and_undone_like_any_other(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    latin1 = Path(os.fsdecode(bytes(root) + b"/caf\xe9.flac"))  # a name from an old Latin-1 collection
    paths = [write_music(root / "a.flac"), write_music(latin1, seed=1), write_music(root / "d.flac", seed=2)]

    code, out, err = tag(capsys, root, db, "--json")

    assert code == 0, err
    out.encode("utf-8")  # valid UTF-8 on stdout, one JSON line
    reports = {os.fsencode(track["path"]): track for track in json.loads(out)["tracks"]}
    assert set(reports) == {os.fsencode(path) for path in paths}  # the exact bytes come back from the JSON
    for path in paths:  # the files after the odd name are tagged too
        assert reports[os.fsencode(path)]["status"] == "tagged" and genre(path), path
    with Index.open(db) as index:
        stored = {row["path"] for row in index.db["tracks"].rows}
        assert f"fsbytes:{root}/caf%E9.flac" in stored and f"{root}/a.flac" in stored
        assert index.track(latin1).path == str(latin1) and index.track(latin1).genres

    code, out, err = mtag(capsys, "inspect", latin1, "--from-index", "--db", db)
    assert code == 0 and "caf\\xe9.flac" in out, err  # the byte shown escaped, as ls -b shows it
    code, out, err = mtag(capsys, "undo", "--db", db)
    assert code == 0 and f"{root}/caf\\xe9.flac: restored genre" in out, err
    assert all(genre(path) == [] for path in paths)


#: Genre names that ID3v1's numeric list has too: Electronic is 52, Dance 3, Punk 43.
NUMBERED = """
[genres]
Electronic = {}
Dance = {}

[labels.genre]
electronic = "Electronic"
dance = "Dance"
"""


def _id3_genre(path: Path, raw: str, version: int) -> None:
    """Give ``path`` (MP3, WAV or AIFF) an ID3v2.``version`` genre stored exactly as ``raw``."""
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags.add(TCON(encoding=0, text=[raw]))
    audio.save(v2_version=version)
    assert read_field(path, "genre") == [raw]


def test_numeric_id3_genres_are_compared_and_appended_as_the_genres_they_name(capsys, tmp_path):
    """'(17)' + append used to become '(17); Punk; Rock' (mutagen: ['Rock', '; Punk; Rock'])."""
    root, db = tmp_path / "lib", tmp_path / "index.db"
    table = write_taxonomy(tmp_path / "genres.toml", NUMBERED)
    old = {  # file -> (raw ID3 genre, ID3 version, the names it means)
        write_noise(root / "v23.wav"): ("(52)", 3, ["Electronic"]),
        write_noise(root / "v24.aiff", seed=1): ("3", 4, ["Dance"]),
        write_noise(root / "punk.wav", seed=2): ("(43)Punk", 3, ["Punk"]),
        write_noise(root / "both.wav", seed=3): ("(52)(3)", 3, ["Electronic", "Dance"]),
    }
    for path, (raw, version, _) in old.items():
        _id3_genre(path, raw, version)
    spaced = write_noise(root / "spaced.flac", seed=4)
    write_tags(spaced, {"genre": ["Electronic;Dance"]})  # another separator, and nothing to add
    untouched = digests([root / "both.wav", spaced])

    code, result, reports = tag_json(capsys, root, db, "--mode", "append", "--taxonomy", str(table))

    assert code == 0, result
    assert digests(untouched) == untouched  # byte for byte: no separator rewritten
    assert reports[spaced]["status"] == reports[root / "both.wav"]["status"] == "unchanged"
    for path, (_, version, names) in old.items():
        decided = reports[path]["genres"]
        assert set(decided) == {"Electronic", "Dance"}
        if path.name != "both.wav":
            assert reports[path]["status"] == "tagged"
            assert genre(path) == [SEP.join(merge_genres(names, decided))]  # names only, each once
            assert path.read_bytes().count(b"ID3\x03" if version == 3 else b"ID3\x04") == 1  # version kept

    code, _, err = mtag(capsys, "undo", "--db", db)
    assert code == 0, err
    for path, (raw, _, _) in old.items():
        assert genre(path) == [raw]  # the exact old value, not its name


def test_a_table_mapping_labels_no_installed_model_has_is_flagged_in_one_line(capsys, tmp_path):
    """A misspelt label in a user's table used to be ignored without a word: it simply never matched."""
    write_music(tmp_path / "lib" / "music.flac")
    good = write_taxonomy(tmp_path / "good.toml", TAXONOMY)
    typos = write_taxonomy(
        tmp_path / "typos.toml",
        TAXONOMY.replace("[labels.mood]", 'electronik = "Pop"\n"hip hop music" = "Pop"\n\n[labels.mood]'),
    )
    code, _, err = tag(capsys, tmp_path / "lib", tmp_path / "index.db", "--taxonomy", str(typos), "--dry-run")
    assert code == 0
    flagged = [line for line in err.splitlines() if "no installed model has" in line]
    assert flagged == [
        f"mtag: {typos}: maps 2 labels that no installed model has ('electronik', 'hip hop music'); "
        "they never match: check their spelling against 'mtag models show NAME'"
    ]
    code, _, err = tag(capsys, tmp_path / "lib", tmp_path / "index.db", "--taxonomy", str(good), "--dry-run")
    assert code == 0 and "no installed model" not in err
