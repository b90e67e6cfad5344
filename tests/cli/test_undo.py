"""``mtag undo``: a run's tag changes put back exactly, and never over a user's later edit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av

from mtag.index import Index
from mtag.tags import read_field, write_tags
from mtag.tags.riffinfo import read_info
from tests.audio.synth import write_samples
from tests.library.helpers import digests, mtag, noise, write_music, write_noise, write_taxonomy

#: Noise is "electronic" and "dance" to the model, the music signal "blues": known decisions, moods included.
TAXONOMY = """
[genres]
"Synth Pop" = {}
"Delta Blues" = {}

[labels.genre]
electronic = "Synth Pop"
blues = "Delta Blues"

[labels.mood]
dance = "Energetic"
"""


def fields(path: Path) -> tuple[list[str], list[str]]:
    return read_field(path, "genre"), read_field(path, "mood")


def tag_replacing(capsys, root: Path, db: Path, *options: str) -> int:
    """``mtag tag --mode replace`` over ``root``; the run's id."""
    code, out, err = mtag(capsys, "tag", root, "--db", db, "--workers", "0", "--mode", "replace", "--json", *options)
    assert code == 0, err
    return json.loads(out)["run"]


def run_status(db: Path, run_id: int) -> str:
    with Index.open(db) as index:
        return index.run(run_id).status


def test_undo_restores_the_exact_old_values_and_a_dry_run_only_shows_them(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    table = write_taxonomy(tmp_path / "genres.toml", TAXONOMY)
    old = {  # file -> (genre, mood) before the run
        write_music(root / "none.flac"): ([], []),
        write_music(root / "jazz.mp3", seed=1): (["Jazz"], []),
        write_music(root / "multi.ogg", seed=2): (["Jazz", "Blues"], []),
        write_music(root / "multi.m4a", seed=3): (["Jazz", "Blues"], ["Calm"]),
        write_music(root / "jazz.wma", seed=4): (["Jazz"], []),
        write_noise(root / "noise.flac", seed=5): ([], []),
        write_noise(root / "noise.aiff", seed=6): (["Jazz", "Blues"], ["Calm", "Sad"]),
    }
    for path, (genre, mood) in old.items():
        write_tags(path, {"genre": genre, "mood": mood})
    run_id = tag_replacing(capsys, root, db, "--taxonomy", str(table), "--moods")
    tagged = {path: fields(path) for path in old}
    assert all(tagged[path][0] != old[path][0] for path in old)
    assert tagged[root / "noise.flac"] == (["Synth Pop"], ["Energetic"])
    changes = sum(tagged[path][1] != old[path][1] for path in old) + len(old)
    after_run = digests(old)

    code, out, err = mtag(capsys, "undo", "--db", db, "--dry-run")

    assert code == 0, err
    assert digests(old) == after_run and run_status(db, run_id) == "finished"
    lines = out.splitlines()
    assert sum(" would restore " in line for line in lines) == changes
    assert f"{root / 'jazz.mp3'}: would restore genre {tagged[root / 'jazz.mp3'][0][0]} -> Jazz" in lines
    assert f"{root / 'none.flac'}: would restore genre Delta Blues -> (none)" in lines
    assert lines[-1] == (
        f"run {run_id} (dry run: nothing written): {changes} would be restored, 0 already as before, "
        "0 changed since (left alone), 0 failed"
    )

    code, out, err = mtag(capsys, "undo", "--db", db)

    assert code == 0, err
    assert {path: fields(path) for path in old} == old
    assert out.splitlines()[-1].startswith(f"run {run_id}: {changes} restored, ")
    assert run_status(db, run_id) == "undone"
    code, out, err = mtag(capsys, "undo", "--db", db)
    assert code == 2 and "no run has tag changes left to undo" in err


def test_undo_leaves_a_file_edited_since_the_run_and_says_so(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    mine, theirs = write_music(root / "mine.flac"), write_music(root / "edited.mp3", seed=1)
    write_tags(mine, {"genre": ["Jazz"]})
    run_id = tag_replacing(capsys, root, db)
    write_tags(theirs, {"genre": ["Ambient"]})  # the user's own edit after the run

    code, out, err = mtag(capsys, "undo", "--db", db, "--json")

    assert code == 1
    (line,) = err.splitlines()
    assert str(theirs) in line and "changed since the run" in line
    assert read_field(theirs, "genre") == ["Ambient"] and read_field(mine, "genre") == ["Jazz"]
    result = json.loads(out)
    assert result["run"] == run_id and result["counts"] == {
        "restored": 1,
        "already-old": 0,
        "conflict": 1,
        "failed": 0,
    }
    assert run_status(db, run_id) == "partly undone"


def test_undo_takes_the_run_asked_for_and_then_the_latest(capsys, tmp_path):
    db = tmp_path / "index.db"
    first, second = write_music(tmp_path / "one" / "a.flac"), write_music(tmp_path / "two" / "b.flac", seed=1)
    first_run = tag_replacing(capsys, first.parent, db)
    second_run = tag_replacing(capsys, second.parent, db)

    assert mtag(capsys, "undo", str(first_run), "--db", db)[0] == 0
    assert read_field(first, "genre") == [] and read_field(second, "genre") != []
    assert mtag(capsys, "undo", "--db", db)[0] == 0
    assert read_field(second, "genre") == []
    assert [run_status(db, run) for run in (first_run, second_run)] == ["undone", "undone"]


def test_undo_without_runs_or_of_a_missing_run_is_a_usage_error(capsys, tmp_path):
    db = tmp_path / "index.db"
    Index.open(db).close()  # an index with no runs yet
    code, out, err = mtag(capsys, "undo", "--db", db)
    assert code == 2 and out == "" and "no run has tag changes left to undo" in err
    code, out, err = mtag(capsys, "undo", "7", "--db", db)
    assert code == 2 and out == "" and "there is no run 7" in err and str(db) in err


def test_undo_of_a_run_that_changed_nothing_says_so_and_keeps_its_status(capsys, tmp_path):
    root, db = tmp_path / "lib", tmp_path / "index.db"
    write_music(root / "song.flac")
    tag_replacing(capsys, root, db)
    skipping_run = tag_replacing(capsys, root, db)  # unchanged since: skipped, nothing written

    code, out, err = mtag(capsys, "undo", str(skipping_run), "--db", db)

    assert code == 2 and out == "" and f"run {skipping_run} has no tag changes left to undo" in err
    assert run_status(db, skipping_run) == "finished"


def test_commands_that_read_the_index_say_it_does_not_exist_and_create_nothing(capsys, tmp_path):
    typo = tmp_path / "nonexistent" / "index.db"
    for command in (("runs",), ("undo",), ("undo", "--dry-run"), ("runs", "--json")):
        code, out, err = mtag(capsys, *command, "--db", typo)
        assert code == 2 and out == "", command
        (line,) = err.strip().splitlines()
        assert line == f"mtag: error: no index at {typo} ('mtag tag' creates it; check the --db path)"
    assert not (tmp_path / "nonexistent").exists()
    code, _, err = mtag(capsys, "runs")  # the default index, before any 'mtag tag'
    assert code == 2 and "no index at" in err
    assert not any((tmp_path / "data").rglob("*.db"))


def test_runs_in_an_80_column_pipe_shows_whole_start_times(tmp_path):
    db = tmp_path / "index.db"
    with Index.open(db) as index, index.lock_for_run():
        run = index.start_run("/home/someone/models/musicnn-msd-finetuned", {})
        statuses = {"tagged": 2900, "kept": 150, "failed": 12, "no-genre": 40, "too-short": 8, "silent": 10}
        index.finish_run(run, {"files": 3120, "statuses": statuses})
        started = index.run(run).started[:19]
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    command = [sys.executable, "-m", "mtag", "runs", "--db", str(db)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout  # a pipe: 80 columns

    assert max(len(line) for line in out.splitlines()) <= 80
    assert started in out and "finished" in out and "3120" in out
    assert "tagged" in out and "too-short 8" in out


def test_a_wav_files_info_genre_is_written_and_undone_with_its_id3_genre(capsys, tmp_path):
    """FFmpeg-based players read a WAV file's RIFF INFO list: its IGNR follows the run, and the undo."""
    root, db = tmp_path / "lib", tmp_path / "index.db"
    root.mkdir()
    table = write_taxonomy(tmp_path / "genres.toml", TAXONOMY)
    path = write_samples(root / "noise.wav", noise(4.0, 16000), 16000, metadata={"title": "Hiss", "genre": "Jazz"})
    assert fields(path) == (["Jazz"], [])  # INFO only: mtag sees it (and --mode keep would keep it)

    tag_replacing(capsys, root, db, "--taxonomy", str(table))

    assert read_info(path).text(b"IGNR") == "Synth Pop" and fields(path)[0] == ["Synth Pop"]
    with av.open(str(path)) as container:
        assert container.metadata["genre"] == "Synth Pop" and container.metadata["title"] == "Hiss"
    code, _, err = mtag(capsys, "undo", "--db", db)
    assert code == 0, err
    assert read_info(path).text(b"IGNR") == "Jazz" and fields(path)[0] == ["Jazz"]
    with av.open(str(path)) as container:
        assert container.metadata["genre"] == "Jazz"
