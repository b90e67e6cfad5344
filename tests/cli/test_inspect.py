"""``mtag inspect`` end to end: the same decision as ``mtag tag``, plots, the index, the terminal report."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

from tests.inspection import signals as s
from tests.inspection.schema import validate
from tests.library.helpers import mtag

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "inspect.schema.json").read_text())


@pytest.fixture(scope="module")
def tracks(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("tracks")
    return [
        s.write(folder / "groove.flac", s.band_music(15.0)),
        s.write(folder / "medley.mp3", s.back_to_back(s.band_music(15.0), s.soft_strings(15.0))),
        s.write(folder / "short.wav", s.band_music(2.0)),
        s.write(folder / "noise.ogg", s.white_noise(6.0)),
    ]


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--threshold", "0.2", "--top", "2", "--aggregate", "vote", "--hop", "1.5", "--parents"],
        ["--aggregate", "max", "--mode", "replace", "--moods"],
    ],
)
def test_decision_is_mtag_tags_decision(capsys, tracks, options):
    code, out, err = mtag(capsys, "tag", *tracks, "--dry-run", "--json", *options)
    assert code == 0, err
    tagged = {Path(t["path"]).name: t for t in json.loads(out)["tracks"]}
    code, out, err = mtag(capsys, "inspect", *tracks, "--json", *options)
    assert code == 0, err
    for found in json_lines(out):
        tag = tagged[Path(found["file"]).name]
        assert found["decision"]["genres"] == tag["genres"], found["file"]
        assert found["decision"]["status"] == tag["status"], found["file"]
        changes = {name: change["new"] for name, change in found["decision"]["changes"].items()}
        assert changes == {name: change["new"] for name, change in tag["changes"].items()}


def test_json_has_one_line_per_file_in_order_and_follows_the_schema(capsys, tracks):
    code, out, _ = mtag(capsys, "inspect", *tracks, "--json")
    assert code == 0
    found = json_lines(out)
    assert [Path(f["file"]).name for f in found] == [t.name for t in tracks]
    for document in found:
        assert validate(document, SCHEMA) == []
    assert all(document["explanation"] is None for document in found)  # only --explain pays for it
    medley = found[1]
    assert "parts" in {d["name"] for d in medley["diagnostics"]}
    assert "not-music" in {d["name"] for d in found[3]["diagnostics"]}


def test_explain_adds_the_explanation_to_the_json(capsys, tracks):
    """One file: --explain runs seven model passes per window."""
    code, out, _ = mtag(capsys, "inspect", tracks[0], "--json", "--explain")
    assert code == 0
    (document,) = json_lines(out)
    assert document["explanation"] and validate(document, SCHEMA) == []


def test_terminal_report_shows_timeline_heat_strip_decision_and_diagnostics(capsys, tracks):
    code, out, _ = mtag(capsys, "inspect", tracks[1], "--labels", "2", "--hop", "1.5")
    assert code == 0
    assert "medley.mp3" in out and "mp3 / mp3" in out and "1.50 s" in out
    assert "decision (mean, threshold 0.25, top 3, mode keep)" in out
    assert "warning parts:" in out
    strip = [line for line in out.splitlines() if line.count("|") == 2 and line.rstrip().endswith("|")]
    assert len(strip) == 3  # --labels 2, but the heat strip shows at least three rows


def read_png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_readable_png_of_sensible_size(capsys, tracks, tmp_path):
    target = tmp_path / "medley.png"
    code, out, err = mtag(capsys, "inspect", tracks[1], "--plot", target)
    assert code == 0, err
    width, height = read_png_size(target)
    assert 800 <= width <= 2400 and 500 <= height <= 1600
    assert 20_000 < target.stat().st_size < 1_000_000
    assert f"plot: {target}" in out


def test_plot_for_several_files_goes_to_a_folder(capsys, tracks, tmp_path):
    code, _, err = mtag(capsys, "inspect", tracks[0], tracks[2], "--plot", tmp_path, "--json")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["groove.png", "short.png"]
    code, _, err = mtag(capsys, "inspect", *tracks[:2], "--plot", tmp_path / "one.png")
    assert code == 2 and "--plot must be a folder" in err


def test_plot_into_a_missing_folder_fails_before_any_analysis(capsys, tracks, tmp_path):
    code, out, err = mtag(capsys, "inspect", tracks[0], "--plot", tmp_path / "nowhere" / "x.png")
    assert code == 2 and out == "" and "folder does not exist" in err and len(err.strip().splitlines()) == 1


def test_plot_without_matplotlib_says_how_to_get_it(capsys, tracks, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = mtag(capsys, "inspect", tracks[0], "--plot", tmp_path / "x.png")
    assert code == 2 and out == ""
    assert "matplotlib" in err and "pip install 'mtag[plot]'" in err


@pytest.mark.slow
def test_from_index_shows_what_the_run_stored(capsys, tracks, tmp_path):
    db = tmp_path / "index.db"
    code, out, err = mtag(capsys, "tag", tracks[0], tracks[1], "--db", db, "--dry-run", "--json")
    planned = {Path(t["path"]).name: t["genres"] for t in json.loads(out)["tracks"]}
    library = tmp_path / "library"
    library.mkdir()
    copies = [library / t.name for t in tracks[:2]]
    for track, copy in zip(tracks, copies):
        copy.write_bytes(track.read_bytes())
    code, _, err = mtag(capsys, "tag", *copies, "--db", db)
    assert code == 0, err
    code, out, err = mtag(capsys, "inspect", *copies, "--from-index", "--db", db, "--json")
    assert code == 0, err
    for found in json_lines(out):
        assert validate(found, SCHEMA) == []
        assert found["source"]["kind"] == "index" and found["source"]["run"] == 1
        assert found["decision"]["genres"] == planned[Path(found["file"]).name]
        assert found["decision"]["status"] == ("tagged" if found["decision"]["genres"] else "no-genre")
        assert set(found["unchecked"]) == {"clipping", "narrow-band", "stereo-cancellation", "not-music"}
        assert found["segments"] and found["window"] == pytest.approx(2.992)
    code, out, _ = mtag(capsys, "inspect", copies[1], "--from-index", "--db", db)
    assert code == 0 and "stored by run 1" in out and "warning parts:" in out


def test_from_index_errors(capsys, tracks, tmp_path):
    code, _, err = mtag(capsys, "inspect", tracks[0], "--from-index", "--db", tmp_path / "none.db")
    assert code == 2 and "no index at" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "none.db").exists()
    db = tmp_path / "index.db"
    library = tmp_path / "library"
    library.mkdir()
    copy = library / tracks[2].name
    copy.write_bytes(tracks[2].read_bytes())
    mtag(capsys, "tag", copy, "--db", db)
    code, out, err = mtag(capsys, "inspect", tracks[0], copy, "--from-index", "--db", db, "--json")
    assert code == 1 and f"{tracks[0]}: not in the index" in err
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(copy)]
    broken = library / "broken.flac"
    broken.write_bytes(b"not audio" * 100)
    mtag(capsys, "tag", broken, "--db", db)
    code, _, err = mtag(capsys, "inspect", broken, "--from-index", "--db", db)
    assert code == 1 and "the last run could not analyse it" in err and len(err.strip().splitlines()) == 1
    code, _, err = mtag(capsys, "inspect", copy, "--from-index", "--explain")
    assert code == 2 and "need the audio" in err


def _with_unreadable_id3_chunk(wav: Path) -> Path:
    """Append an ID3v2.5 chunk to a WAV file: FFmpeg still plays it, mutagen cannot read its tags."""
    junk = b"ID3\x05\x00\x00\x00\x00\x00\x10" + bytes(16)
    chunk = b"id3 " + struct.pack("<I", len(junk)) + junk
    data = wav.read_bytes()
    wav.write_bytes(data[:4] + struct.pack("<I", len(data) - 8 + len(chunk)) + data[8:] + chunk)
    return wav


def test_a_misnamed_file_is_decided_and_an_untaggable_one_says_why(capsys, tmp_path):
    """A FLAC file named .mp3 said "decision: failed" with no reason; now it is tagged as the FLAC it is."""
    misnamed = s.write(tmp_path / "song.flac", s.band_music(4.0)).rename(tmp_path / "song.mp3")
    unreadable = _with_unreadable_id3_chunk(s.write(tmp_path / "broken.wav", s.band_music(4.0)))
    code, out, _ = mtag(capsys, "inspect", misnamed, unreadable, "--json")
    found = {Path(f["file"]).name: f["decision"] for f in json_lines(out)}
    assert found["song.mp3"]["status"] in ("would-tag", "no-genre") and found["song.mp3"]["error"] is None
    assert found["broken.wav"]["status"] == "failed"
    assert "broken.wav" in found["broken.wav"]["error"] and "ID3v2.5 not supported" in found["broken.wav"]["error"]

    code, out, _ = mtag(capsys, "inspect", unreadable)
    assert "mtag tag would fail on this file" in out and "ID3v2.5 not supported" in out
