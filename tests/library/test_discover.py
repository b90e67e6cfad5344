"""Which files ``mtag tag PATHS`` picks up (discovery goes by name: the files need not be audio here)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from mtag.errors import UsageError
from mtag.library.discover import discover, find_audio_files


def touch(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


@pytest.fixture
def library(tmp_path) -> Path:
    root = tmp_path / "lib"
    touch(
        root / "b.mp3",
        root / "A.FLAC",
        root / "album" / "01.ogg",
        root / "album" / "02.opus",
        root / "album" / "cover.jpg",
        root / "album" / "notes.txt",
        root / "album" / "playlist.m3u",
        root / ".hidden.mp3",
        root / "._b.mp3",  # a macOS resource fork
        root / ".b.mp3.mtag-123.tmp",  # mtag's own temporary copy
        root / "album" / ".02.opus.mtag-99999.tmp",
        root / ".trash" / "old.mp3",
        root / "z.wav",
    )
    return root


def test_a_folder_gives_its_audio_files_sorted_without_hidden_temporary_or_other_files(library):
    assert find_audio_files([library]) == [
        library / "A.FLAC",
        library / "album" / "01.ogg",
        library / "album" / "02.opus",
        library / "b.mp3",
        library / "z.wav",
    ]


def test_a_file_named_explicitly_is_taken_whatever_its_extension(library):
    assert find_audio_files([library / "album" / "notes.txt"]) == [library / "album" / "notes.txt"]


def test_a_file_given_twice_or_inside_a_given_folder_is_listed_once(library, monkeypatch):
    monkeypatch.chdir(library)
    found = find_audio_files(
        [library / "album", "album/01.ogg", library / "album" / "01.ogg", "album/../album/02.opus", "."]
    )
    assert found == sorted(set(found)) and len(found) == 5
    assert all(path.is_absolute() and ".." not in path.parts for path in found)


def test_symlinked_folders_are_not_followed_but_symlinked_files_are_kept(library, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "x.mp3")
    (library / "linked-folder").symlink_to(elsewhere, target_is_directory=True)
    (library / "linked.mp3").symlink_to(elsewhere / "x.mp3")
    (library / "album" / "loop").symlink_to(library, target_is_directory=True)  # would never end if followed

    found = find_audio_files([library])

    assert library / "linked.mp3" in found
    assert not any("linked-folder" in path.parts or "loop" in path.parts for path in found)
    assert len(found) == 6


def test_a_missing_path_is_a_usage_error_naming_it(tmp_path):
    missing = tmp_path / "no" / "such.mp3"
    with pytest.raises(UsageError) as error:
        find_audio_files([tmp_path, missing])
    assert str(missing) in str(error.value) and error.value.exit_code == 2


def test_an_empty_folder_gives_nothing(tmp_path):
    assert find_audio_files([tmp_path]) == []


def test_user_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    touch(tmp_path / "Music" / "a.m4a")
    assert find_audio_files([Path("~") / "Music"]) == [tmp_path / "Music" / "a.m4a"]
    assert os.path.isabs(find_audio_files(["~/Music/a.m4a"])[0])


def test_special_files_named_like_audio_are_left_out_and_counted_by_kind(library, tmp_path):
    os.mkfifo(library / "album" / "x.mp3")  # opening it would wait forever for a writer
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(library / "s.ogg"))
        (library / "null.wav").symlink_to(os.devnull)  # a link counts as what it points to

        found = discover([library])

    assert found.files == find_audio_files([library]) and len(found.files) == 5
    assert dict(found.special) == {"FIFO": 1, "socket": 1, "device": 1}
