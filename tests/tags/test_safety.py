"""A file being tagged is never damaged: refusals, injected failures, kill -9, temporary copies."""

from __future__ import annotations

import errno
import os
import random
import signal
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mutagen
import numpy as np
import pytest
from mutagen.flac import FLAC

import mtag
from mtag.audio.decode import load_audio
from mtag.tags import (
    TEMP_PATTERN,
    TagError,
    read_field,
    read_tags,
    remove_stale_temp_files,
    write_tags,
)
from mtag.tags.atomic import temp_path
from mtag.tags.formats import TagFile
from tests.audio.synth import native_rate

from .files import names

Fresh = Callable[[str], Path]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# -- what is refused --------------------------------------------------------------------------


def test_permission_bits_and_owner_are_kept(fresh: Fresh) -> None:
    path = fresh(".mp3")
    path.chmod(0o640)
    if IS_ROOT:  # only root can give the file to someone else; mtag must give it back
        os.chown(path, 4321, 4321)
    before = path.stat()
    write_tags(path, {"genre": ["Rock"]})
    after = path.stat()
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # it really is a new file, not an in-place edit


def test_read_only_file_is_refused_even_for_root(fresh: Fresh) -> None:
    path = fresh(".flac")
    path.chmod(0o444)
    data = path.read_bytes()
    with pytest.raises(TagError, match="file is read-only") as caught:
        write_tags(path, {"genre": ["Rock"]})
    assert "chmod" in (caught.value.hint or "")
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


def test_unwritable_folder_is_refused_even_for_root(fresh: Fresh) -> None:
    """Root was refused a read-only file but wrote into a read-only folder; both are refused now."""
    path = fresh(".flac")
    data = path.read_bytes()
    path.parent.chmod(0o555)
    try:
        with pytest.raises(TagError, match="cannot create files in its folder"):
            write_tags(path, {"genre": ["Rock"]})
    finally:
        path.parent.chmod(0o755)
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("noise.mp3", bytes(range(256)) * 16, "cannot read its tags"),
        ("empty.mp3", b"", "file is empty"),
        ("cut.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ", "cannot read its tags"),
        ("notes.txt", b"not audio at all\n", "not a file format mtag can tag"),
    ],
)
def test_files_that_are_not_audio_give_a_tag_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TagError, match=message):
        read_tags(path)
    with pytest.raises(TagError, match=message):
        write_tags(path, {"genre": ["Rock"]})
    assert path.read_bytes() == content
    assert names(tmp_path) == {name}


def test_truncated_flac_gives_a_tag_error(fresh: Fresh) -> None:
    path = fresh(".flac")
    path.write_bytes(path.read_bytes()[:3000])  # cut inside the metadata blocks
    data = path.read_bytes()
    with pytest.raises(TagError, match="cannot read its tags"):
        write_tags(path, {"genre": ["Rock"]})
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


def test_missing_file_and_folder_give_a_tag_error(tmp_path: Path) -> None:
    with pytest.raises(TagError, match="file not found"):
        write_tags(tmp_path / "gone.mp3", {"genre": ["Rock"]})
    with pytest.raises(TagError, match="file not found"):
        read_tags(tmp_path / "gone.mp3")
    with pytest.raises(TagError, match="not a regular file"):
        write_tags(tmp_path, {"genre": ["Rock"]})


def test_wav_whose_new_chunk_mutagen_cannot_read_back_is_left_alone(tmp_path: Path) -> None:
    """An odd-sized data chunk without its pad byte (Python's wave module writes those):
    mutagen appends the ID3 chunk at an odd offset and cannot find it again.  The
    read-back check catches that; the file must come out tagged right or untouched."""
    path = tmp_path / "odd.wav"
    samples = bytes(range(256)) * 3 + bytes(33)  # 801 bytes of 8-bit mono
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    chunk = b"data" + struct.pack("<I", len(samples)) + samples
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(fmt) + len(chunk)) + b"WAVE" + fmt + chunk)
    data = path.read_bytes()
    try:
        write_tags(path, {"genre": ["Rock"]})
    except TagError as error:
        assert "did not read back" in str(error)
        assert path.read_bytes() == data
    else:  # a mutagen that handles the missing pad byte
        assert read_field(path, "genre") == ["Rock"] and path.read_bytes().count(samples) == 1
    assert names(tmp_path) == {"odd.wav"}


# -- failures while writing -------------------------------------------------------------------


@pytest.mark.parametrize("case", [".mp3", ".flac", ".ogg", ".m4a", ".wma", ".wav"])
def test_mutagen_failing_halfway_leaves_the_file_untouched(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    path = fresh(case)
    data = path.read_bytes()

    def half_write(self: Any, *args: object, **kwargs: object) -> None:
        with open(self.filename, "r+b") as file:  # the file mutagen was saving to, cut short
            file.truncate(len(data) // 2)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(type(mutagen.File(path)), "save", half_write)
    with pytest.raises(TagError, match="No space left on device"):
        write_tags(path, {"genre": ["Rock"]})
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


def test_failing_rename_leaves_the_file_untouched(fresh: Fresh, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fresh(".mp3")
    data = path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(TagError, match="cannot write the file .Input/output error") as caught:
        write_tags(path, {"genre": ["Rock"]})
    assert caught.value.hint == "the file was left unchanged"
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


def test_interrupt_while_writing_leaves_no_copy(fresh: Fresh, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fresh(".flac")
    data = path.read_bytes()

    def interrupted(self: FLAC, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(FLAC, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_tags(path, {"genre": ["Rock"]})
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


@pytest.mark.parametrize(
    "meddle, message",
    [
        (lambda tags: tags.__setitem__("GENRE", ["Wrong"]), "genre tag did not read back"),
        (lambda tags: tags.__delitem__("TITLE"), "would lose other tags .title"),
    ],
)
def test_copy_that_does_not_read_back_right_is_discarded(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch, meddle: Callable[[object], None], message: str
) -> None:
    path = fresh(".flac")
    audio = FLAC(path)
    audio["TITLE"] = ["Title"]
    audio.save()
    data = path.read_bytes()
    save = FLAC.save

    def faulty_save(self: FLAC, *args: object, **kwargs: object) -> None:
        meddle(self.tags)
        save(self, *args, **kwargs)

    monkeypatch.setattr(FLAC, "save", faulty_save)
    with pytest.raises(TagError, match=message):
        write_tags(path, {"genre": ["Rock"]})
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


def test_file_changed_by_another_program_meanwhile_is_not_overwritten(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = fresh(".flac")
    write = TagFile.write

    def write_while_another_program_writes(self: TagFile, changes: dict[str, list[str]]) -> None:
        write(self, changes)
        audio = FLAC(path)
        audio["TITLE"] = ["Set by another tagger"]
        audio.save()

    monkeypatch.setattr(TagFile, "write", write_while_another_program_writes)
    with pytest.raises(TagError, match="changed while mtag was writing"):
        write_tags(path, {"genre": ["Rock"]})
    assert FLAC(path)["TITLE"] == ["Set by another tagger"]
    assert read_field(path, "genre") == []
    assert names(path.parent) == {path.name}


def test_symlink_is_written_through_and_stays_a_link(fresh: Fresh) -> None:
    target = fresh(".mp3")
    link = target.parent / "link.mp3"
    link.symlink_to(target.name)
    write_tags(link, {"genre": ["Rock"]})
    assert link.is_symlink() and os.readlink(link) == target.name
    assert read_field(target, "genre") == ["Rock"]
    assert names(target.parent) == {target.name, link.name}


# -- kill -9 ----------------------------------------------------------------------------------

_WRITER = """
import sys
from mtag.tags import write_tags
print("writing", flush=True)
for round in range(10**9):
    for path in sys.argv[1:]:
        write_tags(path, {"genre": [f"Genre {round % 2}"], "mood": [f"Mood {round % 2}"]})
"""


def test_kill_9_leaves_every_file_old_or_new(fresh: Fresh) -> None:
    """A writer killed at a random moment, five times: every file parses, holds the
    genre and mood of one same round (or none), and its audio is untouched.  About one
    kill in three lands between the copy and the rename, leaving a stale copy."""
    paths = [fresh(case) for case in (".mp3", ".flac", ".ogg", ".m4a", ".wma", ".wav")]
    audio = {path: load_audio(path, native_rate(path)) for path in paths}
    allowed: list[dict[str, list[str]]] = [{"genre": [], "mood": []}]  # untouched, or either round's
    allowed += [{"genre": [f"Genre {i}"], "mood": [f"Mood {i}"]} for i in (0, 1)]
    environment = {**os.environ, "PYTHONPATH": str(Path(mtag.__file__).parents[1])}
    for _ in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, *map(str, paths)], stdout=subprocess.PIPE, env=environment
        )
        assert writer.stdout is not None and writer.stdout.readline() == b"writing\n"
        time.sleep(random.uniform(0.02, 0.25))
        writer.send_signal(signal.SIGKILL)
        writer.wait()  # reaped: its pid is then free, and its copies stale
        writer.stdout.close()
        for path in paths:
            assert read_tags(path).fields in allowed
            assert np.array_equal(load_audio(path, native_rate(path)), audio[path])
        remove_stale_temp_files(paths[0].parent)
        assert names(paths[0].parent) == {path.name for path in paths}


# -- temporary copies -------------------------------------------------------------------------


def test_temporary_copy_names_are_recognised_and_fit_the_name_limit(tmp_path: Path) -> None:
    short = temp_path(tmp_path / "song.mp3")
    assert short.parent == tmp_path and short.name == f".song.mp3.mtag-{os.getpid()}.tmp"
    long = temp_path(tmp_path / ("é" * 120 + ".flac"))  # 245 bytes of name
    assert len(os.fsencode(long.name)) <= 255
    long.write_bytes(b"")  # the file system takes it
    assert TEMP_PATTERN.fullmatch(short.name) and TEMP_PATTERN.fullmatch(long.name)
    assert not TEMP_PATTERN.fullmatch("song.mp3") and not TEMP_PATTERN.fullmatch(".song.mp3.mtag-x.tmp")
    match = TEMP_PATTERN.fullmatch(short.name)
    assert match is not None and match["name"] == "song.mp3"


def test_only_copies_of_dead_processes_are_removed(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead = tmp_path / f".a.flac.mtag-{int(finished.stdout)}.tmp"
    alive = tmp_path / f".b.flac.mtag-{os.getpid()}.tmp"
    others = [tmp_path / "a.flac", tmp_path / ".hidden", tmp_path / "c.mtag-1.tmp"]
    for path in [dead, alive, *others]:
        path.write_bytes(b"data")
    assert remove_stale_temp_files(tmp_path) == [dead]
    assert names(tmp_path) == {alive.name} | {path.name for path in others}
