"""Genre and mood in every tag format: exact round trips, undo, other tags and audio kept."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import mutagen
import numpy as np
import pytest
from mutagen.flac import Picture
from mutagen.id3 import APIC, ID3, TCON, TIT2, TPE1, TSOP, TYER
from mutagen.mp4 import MP4

from mtag.audio.decode import load_audio
from mtag.tags import FIELDS, TagError, file_state, read_field, read_tags, write_tags
from tests.audio.synth import native_rate

from .files import CASES, TAG_FORMATS, names

ALL = list(CASES)
#: values a user could meet: one joined string, several values, non-ASCII text
VALUES = (["Rock"], ["Rock; Electronic"], ["Hip-Hop", "Jazz", "Électro ✓ 日本"])
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # mutagen stores the bytes without decoding them

Fresh = Callable[[str], Path]


@pytest.mark.parametrize("case", ALL + [".aac"])
def test_tag_format_names_the_container_mtag_writes(originals: dict[str, Path], case: str) -> None:
    assert read_tags(originals[case]).format == TAG_FORMATS[originals[case].suffix]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", ALL)
def test_reads_back_exactly_what_was_written(fresh: Fresh, case: str, field: str) -> None:
    path = fresh(case)
    for values in VALUES:
        state = write_tags(path, {field: values})
        assert read_field(path, field) == values
        assert read_tags(path)[field] == values
        assert state == file_state(path) and state.size == path.stat().st_size


@pytest.mark.parametrize("case", ALL)
def test_fields_are_set_and_removed_independently(fresh: Fresh, case: str) -> None:
    path = fresh(case)
    write_tags(path, {"genre": ["Rock", "Pop"], "mood": ["Calm"]})
    write_tags(path, {"genre": None})
    assert read_tags(path).fields == {"genre": [], "mood": ["Calm"]}
    write_tags(path, {"mood": []})
    assert read_tags(path).fields == {"genre": [], "mood": []}


@pytest.mark.parametrize("case", ALL)
def test_undo_restores_exactly_what_was_read_before(fresh: Fresh, case: str) -> None:
    """What ``mtag undo`` does: read the old value, write a new one, write the old one back."""
    path = fresh(case)
    for old in ([], ["Jazz", "Blues"]):  # absent (an untagged file), then several values
        write_tags(path, {"genre": old})
        before = read_field(path, "genre")
        assert before == old
        write_tags(path, {"genre": ["Rock; Electronic"]})
        assert read_field(path, "genre") == ["Rock; Electronic"]
        write_tags(path, {"genre": before})
        assert read_field(path, "genre") == old


@pytest.mark.parametrize("case", ALL)
def test_other_tags_are_kept(fresh: Fresh, case: str) -> None:
    path = fresh(case)
    _set_title_and_artist(path, "Título ✓", "Some Artist")
    write_tags(path, {"genre": ["Rock"], "mood": ["Calm"]})
    assert _title_and_artist(path) == (["Título ✓"], ["Some Artist"])
    write_tags(path, {"genre": None, "mood": None})
    assert _title_and_artist(path) == (["Título ✓"], ["Some Artist"])


@pytest.mark.parametrize("case", [".mp3", ".flac"])
def test_cover_art_is_kept(fresh: Fresh, case: str) -> None:
    path = fresh(case)
    audio = mutagen.File(path)
    if case == ".mp3":
        audio.tags.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=PNG))
    else:
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/png", PNG
        audio.add_picture(picture)
    audio.save()
    write_tags(path, {"genre": ["Rock " * 500]})  # more than the padding: mutagen rewrites the file
    audio = mutagen.File(path)
    covers = [frame.data for frame in audio.tags.getall("APIC")] if case == ".mp3" else [p.data for p in audio.pictures]
    assert covers == [PNG]


@pytest.mark.parametrize("case", ALL)
def test_audio_is_bit_identical(fresh: Fresh, case: str) -> None:
    path = fresh(case)
    rate = native_rate(path)
    before = load_audio(path, rate)
    # a 10 kB mood outgrows every format's padding, so the audio has to move
    write_tags(path, {"genre": ["Rock", "Pop"], "mood": ["Calm " * 2000]})
    assert np.array_equal(load_audio(path, rate), before)
    write_tags(path, {"genre": None, "mood": None})
    assert np.array_equal(load_audio(path, rate), before)


def test_writing_values_already_there_does_not_touch_the_file(fresh: Fresh) -> None:
    path = fresh(".flac")
    write_tags(path, {"genre": ["Rock"]})
    before = path.stat()
    state = write_tags(path, {"genre": ["Rock"], "mood": None})
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert state == file_state(path)


def test_raw_aac_is_refused_with_a_way_out(fresh: Fresh) -> None:
    path = fresh(".aac")
    data = path.read_bytes()
    assert read_tags(path).fields == {"genre": [], "mood": []}
    with pytest.raises(TagError, match="raw AAC stream has no place for tags") as caught:
        write_tags(path, {"genre": ["Rock"]})
    assert ".m4a" in (caught.value.hint or "")
    assert path.read_bytes() == data
    assert names(path.parent) == {path.name}


def test_wav_without_id3_chunk_gets_one_and_undo_empties_it(fresh: Fresh) -> None:
    path = fresh(".wav")
    assert mutagen.File(path).tags is None
    write_tags(path, {"genre": ["Rock"]})
    write_tags(path, {"genre": []})
    assert read_tags(path).fields == {"genre": [], "mood": []}
    assert mutagen.File(path).tags is not None  # the chunk stays, empty: documented


def test_id3_numeric_genre_reads_as_stored_and_is_named_for_display(fresh: Fresh) -> None:
    path = fresh(".mp3")
    tags = ID3(path)
    tags.add(TCON(encoding=0, text=["(17)"]))  # ID3v1 genre 17, the way old taggers wrote it
    tags.save(path)
    assert read_field(path, "genre") == ["(17)"]
    assert read_tags(path).genre_names() == ["Rock"]
    write_tags(path, {"mood": ["Calm"]})
    assert read_field(path, "genre") == ["(17)"]  # not rewritten as "Rock" on the way
    write_tags(path, {"genre": ["Jazz"]})
    write_tags(path, {"genre": ["(17)"]})
    assert read_field(path, "genre") == ["(17)"]


def test_id3v23_stays_v23_with_its_frames(fresh: Fresh) -> None:
    path = fresh(".mp3")
    tags = ID3(path)
    tags.update_to_v23()
    tags.add(TYER(encoding=0, text=["1999"]))  # v2.3's year, which v2.4 merged into TDRC
    tags.add(TSOP(encoding=1, text=["Artist, The"]))  # a v2.4 frame that iTunes writes into v2.3
    tags.save(path, v2_version=3)
    write_tags(path, {"genre": ["Rock", "Pop"], "mood": ["Calm"]})
    assert path.read_bytes()[:4] == b"ID3\x03"
    assert read_tags(path).fields == {"genre": ["Rock", "Pop"], "mood": ["Calm"]}
    kept = ID3(path, translate=False)
    assert kept["TYER"].text == ["1999"] and kept["TSOP"].text == ["Artist, The"]


def test_id3v22_which_mutagen_cannot_write_becomes_v23(fresh: Fresh) -> None:
    path = fresh(".mp3")
    ID3(path).delete()
    path.write_bytes(_id3v22({b"TT2": "Old title", b"TCO": "(17)"}) + path.read_bytes())
    assert read_field(path, "genre") == ["(17)"]
    write_tags(path, {"mood": ["Calm"]})
    assert path.read_bytes()[:4] == b"ID3\x03"
    assert read_tags(path).fields == {"genre": ["(17)"], "mood": ["Calm"]}
    assert ID3(path)["TIT2"].text == ["Old title"]


def test_id3v1_genre_is_read_and_kept_in_step(fresh: Fresh) -> None:
    """An MP3 with only an ID3v1 tag: its genre byte reads as the number, and follows the new genre."""
    path = fresh(".mp3")
    ID3(path).delete()
    path.write_bytes(path.read_bytes() + _id3v1(title="Old title", genre=17))
    assert read_field(path, "genre") == ["17"]
    assert read_tags(path).genre_names() == ["Rock"]
    write_tags(path, {"genre": ["Jazz"]})
    assert read_field(path, "genre") == ["Jazz"]
    assert path.read_bytes()[-128:-125] == b"TAG" and path.read_bytes()[-1] == 8  # Jazz in ID3v1's list
    write_tags(path, {"genre": ["17"]})
    assert read_field(path, "genre") == ["17"] and path.read_bytes()[-1] == 17
    assert ID3(path)["TIT2"].text == ["Old title"]


def test_mp4_legacy_numeric_genre_is_read_and_replaced(fresh: Fresh) -> None:
    path = fresh(".m4a")
    audio = MP4(path)
    audio["tmpo"] = [18]  # a 16-bit integer atom, the layout of gnre: rename it below
    audio.save()
    data = path.read_bytes()
    assert data.count(b"tmpo") == 1
    path.write_bytes(data.replace(b"tmpo", b"gnre"))  # gnre 18 = ID3v1 genre 17 + 1
    assert read_field(path, "genre") == ["Rock"]
    write_tags(path, {"mood": ["Calm"]})
    assert read_field(path, "genre") == ["Rock"]
    write_tags(path, {"genre": ["Jazz"]})
    assert read_field(path, "genre") == ["Jazz"]
    assert b"gnre" not in path.read_bytes()  # players would show the old genre


def test_unknown_field_and_bare_string_are_programming_errors(fresh: Fresh) -> None:
    path = fresh(".flac")
    with pytest.raises(ValueError, match="unknown tag field"):
        write_tags(path, {"genres": ["Rock"]})
    with pytest.raises(ValueError, match="unknown tag field"):
        read_field(path, "title")
    with pytest.raises(TypeError, match="list of strings"):
        write_tags(path, {"genre": "Rock"})  # type: ignore[dict-item]
    assert read_field(path, "genre") == []


# -- helpers -------------------------------------------------------------------------------

_TITLE_ARTIST_KEYS = {"vorbis": ("TITLE", "ARTIST"), "mp4": ("\xa9nam", "\xa9ART"), "asf": ("Title", "Author")}


def _set_title_and_artist(path: Path, title: str, artist: str) -> None:
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    if read_tags(path).format == "id3":
        audio.tags.add(TIT2(encoding=3, text=[title]))
        audio.tags.add(TPE1(encoding=3, text=[artist]))
    else:
        title_key, artist_key = _TITLE_ARTIST_KEYS[read_tags(path).format]
        audio.tags[title_key] = [title]
        audio.tags[artist_key] = [artist]
    audio.save()


def _title_and_artist(path: Path) -> tuple[list[str], list[str]]:
    tags = mutagen.File(path).tags
    if read_tags(path).format == "id3":
        return list(tags["TIT2"].text), list(tags["TPE1"].text)
    title_key, artist_key = _TITLE_ARTIST_KEYS[read_tags(path).format]
    return [str(v) for v in tags[title_key]], [str(v) for v in tags[artist_key]]


def _id3v22(frames: dict[bytes, str]) -> bytes:
    """An ID3v2.2 tag (3-letter frame ids, 3-byte sizes) of Latin-1 text frames."""
    body = b"".join(
        key + struct.pack(">I", len(text) + 1)[1:] + b"\x00" + text.encode("latin-1") for key, text in frames.items()
    )
    size = bytes((len(body) >> shift) & 0x7F for shift in (21, 14, 7, 0))  # "synchsafe"
    return b"ID3\x02\x00\x00" + size + body


def _id3v1(title: str, genre: int) -> bytes:
    return b"TAG" + title.encode("latin-1").ljust(30, b"\x00") + bytes(30 + 30 + 4 + 30) + bytes([genre])


#: (real container, the extension its name lies with): each used to fail ("can't sync to MPEG frame",
#: "not a valid FLAC file", "Root chunk must be a RIFF chunk") although the decoder plays it.
MISNAMED = [(".flac", ".mp3"), (".mp3", ".flac"), (".m4a", ".ogg"), (".ogg", ".wav"), (".opus", ".flac")]


@pytest.mark.parametrize(("real", "named"), MISNAMED)
def test_a_file_named_as_another_container_gets_the_tags_of_what_it_is(
    originals: dict[str, Path], tmp_path: Path, real: str, named: str
) -> None:
    path = tmp_path / f"misnamed{named}"
    path.write_bytes(originals[real].read_bytes())
    rate = native_rate(originals[real])
    before = load_audio(path, rate)
    assert read_tags(path).format == TAG_FORMATS[real]
    write_tags(path, {"genre": ["Rock"]})
    assert read_tags(path).fields == {"genre": ["Rock"], "mood": []}
    container = type(mutagen.File(originals[real]))
    assert container(path).tags is not None  # still a valid file of that container, with its own tags
    assert np.array_equal(load_audio(path, rate), before)
    if real == ".flac":
        assert path.read_bytes()[:4] == b"fLaC"  # no ID3 tag put in front of it


def test_a_flac_stream_behind_an_id3_tag_is_flac(fresh: Fresh) -> None:
    path = fresh(".flac")
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Ripped"]))
    tag.save(path)  # some rippers put ID3 in front of FLAC; FLAC readers skip it
    assert path.read_bytes()[:3] == b"ID3"
    renamed = path.rename(path.with_suffix(".mp3"))
    assert read_tags(renamed).format == "vorbis"


def test_raw_aac_named_mp3_is_recognised_as_raw_aac(originals: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "stream.mp3"
    path.write_bytes(originals[".aac"].read_bytes())
    with pytest.raises(TagError, match="raw AAC stream has no place for tags"):
        write_tags(path, {"genre": ["Rock"]})
