"""A WAV file's RIFF INFO genre (IGNR) follows the genre mtag writes, where the file has an INFO list.

FFmpeg-based players read INFO: without this, a tagged WAV file with INFO tags showed no genre, or an
old one.  PyAV's container metadata is FFmpeg's view of the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from mtag.tags import read_tags, write_tags
from mtag.tags.riffinfo import read_info
from tests.audio.synth import chirp, write_samples

INFO = {"title": "My Title", "artist": "Someone"}


def ffmpeg_tags(path: Path) -> dict[str, str]:
    with av.open(str(path)) as container:
        return dict(container.metadata)


def chunks(path: Path) -> list[tuple[bytes, bytes]]:
    """The top-level chunks, checking the RIFF size and the word alignment on the way."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    found, position = [], 12
    while position < len(data):
        chunk, size = struct.unpack("<4sI", data[position : position + 8])
        found.append((chunk, data[position + 8 : position + 8 + size]))
        position += 8 + size + (size & 1)
    assert position == len(data)  # every chunk where the previous one's (padded) size says
    return found


def _chunk(chunk: bytes, data: bytes) -> bytes:
    return chunk + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)


def audio_bytes(path: Path) -> bytes:
    return dict(chunks(path))[b"data"]


def wav(tmp_path: Path, name: str = "song.wav", **tags: str) -> Path:
    return write_samples(tmp_path / name, chirp(0.3, 16000), 16000, metadata=tags)


@pytest.mark.parametrize("genre", ["Rock", "Pop", "Électro; Hip-Hop"])  # odd and even lengths, UTF-8
def test_a_wav_with_info_tags_gets_the_genre_there_too_and_ffmpeg_shows_it(tmp_path, genre):
    path = wav(tmp_path, **INFO, genre="Jazz")
    audio = audio_bytes(path)
    assert ffmpeg_tags(path)["genre"] == "Jazz" and read_tags(path).fields["genre"] == ["Jazz"]

    write_tags(path, {"genre": [genre]})

    assert ffmpeg_tags(path)["genre"] == genre
    info = read_info(path)
    assert info is not None and info.text(b"IGNR") == genre
    assert info.text(b"INAM") == "My Title" and info.text(b"IART") == "Someone"
    assert read_tags(path).fields["genre"] == [genre]
    assert audio_bytes(path) == audio

    write_tags(path, {"genre": ["Jazz"]})  # what undo does: both places hold the old genre again
    assert ffmpeg_tags(path)["genre"] == "Jazz" and read_info(path).text(b"IGNR") == "Jazz"
    write_tags(path, {"genre": []})
    assert "genre" not in ffmpeg_tags(path) and read_info(path).text(b"IGNR") is None
    assert read_info(path).text(b"INAM") == "My Title" and audio_bytes(path) == audio


def test_a_genre_only_in_info_is_the_files_genre_and_is_kept_for_the_id3_one(tmp_path):
    path = wav(tmp_path, **INFO)
    write_tags(path, {"genre": ["Rock"], "mood": ["Calm"]})
    assert [chunk for chunk, _ in chunks(path)].count(b"LIST") == 1
    assert read_info(path).text(b"IGNR") == "Rock"
    write_tags(path, {"mood": ["Sad"]})  # the genre is not part of the change: INFO left as it is
    assert read_info(path).text(b"IGNR") == "Rock"


def test_a_wav_without_info_gets_no_info_list(tmp_path):
    """Adding one would make FFmpeg builds that prefer INFO hide the file's ID3 tags."""
    path = wav(tmp_path)
    kept = b"".join(_chunk(chunk, data) for chunk, data in chunks(path) if chunk != b"LIST")  # FFmpeg's ISFT
    path.write_bytes(b"RIFF" + struct.pack("<I", len(kept) + 4) + b"WAVE" + kept)
    assert read_info(path) is None
    write_tags(path, {"genre": ["Rock"]})
    assert read_info(path) is None and b"LIST" not in [chunk for chunk, _ in chunks(path)]
    assert ffmpeg_tags(path)["genre"] == "Rock"


def test_an_id3_genre_already_right_still_brings_an_old_info_genre_in_step(tmp_path):
    path = wav(tmp_path, **INFO, genre="Jazz")
    write_tags(path, {"genre": ["Rock"]})
    data = path.read_bytes()
    stale = data.replace(b"IGNR\x05\x00\x00\x00Rock\x00", b"IGNR\x05\x00\x00\x00Jazz\x00")
    assert stale != data
    path.write_bytes(stale)  # another tool rewrote INFO only
    assert read_tags(path).fields["genre"] == ["Rock"]
    write_tags(path, {"genre": ["Rock"]})
    assert read_info(path).text(b"IGNR") == "Rock" and ffmpeg_tags(path)["genre"] == "Rock"
