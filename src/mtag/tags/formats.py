"""Genre and mood as each tag format stores them, read and edited with mutagen.

mtag handles two logical fields, ``genre`` and ``mood``; each tag format keeps
them under its own keys:

======  ============================  =====================  ==============================
format  files                         genre                  mood
======  ============================  =====================  ==============================
id3     mp3; wav, aiff (ID3 chunk)    ``TCON``               ``TMOO``
vorbis  flac, ogg, oga, opus          ``GENRE``              ``MOOD``
mp4     m4a, mp4                      ``©gen`` (+ ``gnre``)  ``----:com.apple.iTunes:MOOD``
asf     wma, asf                      ``WM/Genre``           ``WM/Mood``
none    raw AAC (ADTS)                --                     --
======  ============================  =====================  ==============================

A field's value is the list of strings stored, one per value, in the file's
order and exactly as stored: an ID3 genre that an old tagger wrote as
``"(17)"`` reads ``["(17)"]``, not ``["Rock"]``.  That is what makes undo
exact: writing a list read here stores it back as it was, and reading after
writing ``x`` gives ``x``.  :meth:`TagValues.genre_names` gives the names a
player would show instead.

The type of a file is decided by its content (:mod:`~mtag.tags.sniff`), not
its name, so a FLAC file named ``.mp3`` gets Vorbis comments, not ID3.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import mutagen
from mutagen import FileType
from mutagen.aac import AAC
from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.id3 import TCON, Encoding, Frames
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, AtomDataType, MP4FreeForm
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from mtag.tags.errors import UNCHANGED, TagError
from mtag.tags.riffinfo import GENRE as INFO_GENRE
from mtag.tags.riffinfo import InfoList, read_info, write_info_text
from mtag.tags.sniff import BY_MAGIC, sniff

#: The logical fields mtag reads and writes.
FIELDS: tuple[str, ...] = ("genre", "mood")

#: How several genres become the one string of a WAV file's INFO IGNR.
INFO_SEPARATOR = "; "
_HINT_FORMATS = "mtag tags mp3, flac, ogg/opus, m4a/mp4, wav, aiff and wma files"
_HINT_DAMAGED = "the file is damaged or is not audio; re-rip or re-download it"


class _Scheme:
    """Where one tag format keeps mtag's fields, and how their values become strings."""

    def __init__(self, name: str, keys: Mapping[str, str]) -> None:
        self.name = name
        self.keys = dict(keys)

    def read(self, tags: Any, field: str) -> list[str]:
        return [self._text(value) for value in tags.get(self.keys[field], [])]

    def write(self, tags: Any, field: str, values: list[str]) -> None:
        key = self.keys[field]
        if key in tags:
            del tags[key]
        if values:
            tags[key] = [self._stored(key, value) for value in values]

    def save(self, audio: FileType) -> None:
        audio.save()

    def other_keys(self, tags: Any) -> set[str]:
        """The keys of every tag but mtag's fields (Vorbis keys are case-insensitive)."""
        ours = {key.lower() for key in self.keys.values()}
        return {key for key in tags.keys() if key.lower() not in ours}

    def _text(self, value: Any) -> str:
        return str(value)

    def _stored(self, key: str, text: str) -> Any:
        return text


class _ID3Scheme(_Scheme):
    """ID3, kept in the version the file has.

    Files are opened with ``translate=False``, so every frame stays as stored:
    mutagen's default upgrade to v2.4 would rewrite ``"(17)"`` genres as
    ``"Rock"`` and merge v2.3 dates, and saving in another version than the
    one read drops the frames mutagen does not know.  A v2.3 tag is saved as
    v2.3 with v2.4's null separator between values (mutagen's ``"/"`` would
    rejoin the multi-valued frames of other taggers); a v2.2 tag, which mutagen
    cannot write, becomes v2.3, the closest; a new tag is v2.4.  TMOO is a
    v2.4 frame, written into v2.3 tags too (mutagen and most players read it).
    An ID3v1 tag, where there is one, is rebuilt from the v2 frames as mutagen
    always does.  A WAV or AIFF file without an ID3 chunk gets one when a field
    is written, and keeps it, empty, when the field is removed again.
    """

    def read(self, tags: Any, field: str) -> list[str]:
        frame = tags.get(self.keys[field])
        return [] if frame is None else list(frame.text)

    def write(self, tags: Any, field: str, values: list[str]) -> None:
        key = self.keys[field]
        tags.delall(key)
        if values:
            tags.add(Frames[key](encoding=Encoding.UTF8, text=list(values)))

    def save(self, audio: Any) -> None:  # Any: mutagen types FileType.tags as possibly None
        version = 3 if (2, 2) <= audio.tags.version[:2] <= (2, 3) else 4
        audio.save(v2_version=version, v23_sep=None)


class _MP4Scheme(_Scheme):
    """MP4, whose mood lives in a freeform atom: bytes with a declared text encoding.

    The legacy numeric genre atom ``gnre`` needs nothing here: mutagen reads it
    as a ``©gen`` name and never writes it back, so replacing the genre (or
    saving at all) leaves no old ``gnre`` for players to show.
    """

    def _text(self, value: Any) -> str:
        if isinstance(value, MP4FreeForm):
            codec = "utf-16-be" if value.dataformat == AtomDataType.UTF16 else "utf-8"
            return bytes(value).decode(codec, errors="replace")
        return str(value)

    def _stored(self, key: str, text: str) -> Any:
        if key.startswith("----:"):
            return MP4FreeForm(text.encode("utf-8"), dataformat=AtomDataType.UTF8)
        return text


_ID3 = _ID3Scheme("id3", {"genre": "TCON", "mood": "TMOO"})
_VORBIS = _Scheme("vorbis", {"genre": "GENRE", "mood": "MOOD"})
_MP4 = _MP4Scheme("mp4", {"genre": "\xa9gen", "mood": "----:com.apple.iTunes:MOOD"})
_ASF = _Scheme("asf", {"genre": "WM/Genre", "mood": "WM/Mood"})

#: The mutagen classes mtag opens, with the scheme of their tags (None: no place for tags).
_SCHEMES: dict[type[FileType], _Scheme | None] = {
    MP3: _ID3,
    WAVE: _ID3,
    AIFF: _ID3,
    FLAC: _VORBIS,
    OggVorbis: _VORBIS,
    OggOpus: _VORBIS,
    OggFLAC: _VORBIS,
    MP4: _MP4,
    ASF: _ASF,
    AAC: None,  # raw ADTS/ADIF stream: mutagen has nowhere to write tags
}


@dataclass(frozen=True)
class TagValues:
    """Every field of one file as stored ([] where absent), and the file's tag format."""

    format: str
    fields: dict[str, list[str]]

    def __getitem__(self, field: str) -> list[str]:
        return self.fields[field]

    def genre_names(self) -> list[str]:
        """The genres as a player lists them: ID3's numeric references ("17", "(17)Foo") named.

        Only ID3 has such references (from ID3v1's genre byte); other formats
        store names, which are returned as they are.
        """
        return self.names("genre")

    def names(self, field: str) -> list[str]:
        """``field``'s values as they read to a person: genres named (see :meth:`genre_names`).

        ID3v2.3's ``"(17)"``, ``"(43)Punk"``, ``"(17)(43)"``, ``"(RX)"`` and
        v2.4's ``"0"`` become "Rock", "Punk", "Rock" + "Punk", "Remix" and
        "Blues", as mutagen's ``TCON.genres`` reads them; comparing a decision
        with the raw values instead took "(17)" for an unknown genre.  Other
        fields, and other formats, are returned as stored.
        """
        values = self.fields[field]
        return TCON(text=values).genres if self.format == "id3" and field == "genre" else list(values)


@dataclass
class TagFile:
    """A file as mutagen parsed it, with the scheme its tags follow.

    ``shown`` is the path errors name: the file being tagged, also when
    ``path`` is the temporary copy that is actually edited.
    """

    path: Path
    shown: Path
    audio: FileType
    scheme: _Scheme | None
    info: InfoList | None = None  # a WAV file's RIFF INFO list, where it has one (see mtag.tags.riffinfo)

    @property
    def format(self) -> str:
        return "none" if self.scheme is None else self.scheme.name

    def read(self, field: str) -> list[str]:
        """The field as stored; a WAV genre only in INFO (no ID3 genre) reads as that ``IGNR``.

        So a genre set by a tool that writes INFO only is kept by ``--mode
        keep`` and restored by undo, which writes it into both places.
        """
        stored: list[str] = (
            [] if self.scheme is None or self.audio.tags is None else self.scheme.read(self.audio.tags, field)
        )
        if stored or field != "genre" or self.info is None or self._has_id3_genre():
            return stored
        genre = self.info.text(INFO_GENRE)
        return [] if genre is None else [genre]

    def info_disagrees(self, genre: list[str]) -> bool:
        """Whether a WAV file's INFO ``IGNR`` is not what writing ``genre`` puts there (its values, joined)."""
        return self.info is not None and self.info.text(INFO_GENRE) != (INFO_SEPARATOR.join(genre) or None)

    def _has_id3_genre(self) -> bool:
        return self.audio.tags is not None and self.scheme is not None and self.scheme.keys["genre"] in self.audio.tags

    def values(self) -> dict[str, list[str]]:
        return {field: self.read(field) for field in FIELDS}

    def other_keys(self) -> set[str]:
        """The keys of every other tag, a WAV file's INFO items (but the genre) included."""
        keys = set() if self.scheme is None or self.audio.tags is None else self.scheme.other_keys(self.audio.tags)
        if self.info is not None:
            keys |= {f"INFO:{key}" for key in self.info.keys() - {INFO_GENRE.decode()}}
        return keys

    def scheme_for_writing(self) -> _Scheme:
        """The scheme to write with; a raw AAC stream has none and is refused.

        Some tools prepend ID3 to ADTS streams, but that is no standard and
        breaks players and decoders that expect the stream to start at once.
        """
        if self.scheme is None:
            raise TagError(
                "a raw AAC stream has no place for tags",
                path=self.shown,
                hint="remux it to .m4a to keep tags: ffmpeg -i song.aac -c copy song.m4a",
            )
        return self.scheme

    def write(self, changes: Mapping[str, list[str]]) -> None:
        """Set each field to its list of strings ([] removes it) and save the file in place."""
        scheme = self.scheme_for_writing()
        try:
            if self.audio.tags is None:  # e.g. a WAV without an ID3 chunk: mutagen adds one
                self.audio.add_tags()
            for field, values in changes.items():
                scheme.write(self.audio.tags, field, values)
            scheme.save(self.audio)
            if self.info is not None and "genre" in changes:
                write_info_text(self.path, INFO_GENRE, INFO_SEPARATOR.join(changes["genre"]) or None)
        except Exception as error:  # mutagen fails in many ways on unusual files
            raise TagError(f"cannot write its tags: {_reason(error)}", path=self.shown, hint=UNCHANGED) from error


def open_tags(path: str | PathLike[str], *, shown: str | PathLike[str] | None = None) -> TagFile:
    """Parse ``path`` with mutagen; :class:`TagError` where it is missing, not audio or damaged."""
    path = Path(path)
    shown = path if shown is None else Path(shown)
    _check_file(path, shown)
    try:
        audio = _load(path)
        info = read_info(path) if isinstance(audio, WAVE) else None
    except Exception as error:  # mutagen raises many kinds of error on malformed files
        raise TagError(f"cannot read its tags: {_reason(error)}", path=shown, hint=_HINT_DAMAGED) from error
    if audio is None:
        raise TagError("not a file format mtag can tag", path=shown, hint=_HINT_FORMATS)
    return TagFile(path, shown, audio, _SCHEMES[type(audio)], info)


def read_tags(path: str | PathLike[str]) -> TagValues:
    """Every field of ``path`` exactly as stored, and its tag format."""
    tagged = open_tags(path)
    return TagValues(tagged.format, tagged.values())


def read_field(path: str | PathLike[str], field: str) -> list[str]:
    """One field of ``path`` exactly as stored; [] where the file does not have it."""
    check_field(field)
    return open_tags(path).read(field)


def check_field(field: str) -> None:
    """Reject a field name mtag does not know (a programming error, not the user's)."""
    if field not in FIELDS:
        raise ValueError(f"unknown tag field {field!r}; mtag knows {', '.join(FIELDS)}")


def _load(path: Path) -> FileType | None:
    """Parse ``path`` with the mutagen class its content calls for, its extension notwithstanding.

    A file whose name lies about its container (a FLAC file named ``.mp3``)
    gets the tags of what it is: the decoder reads the content too, and the
    copy is verified by parsing it again, so the file stays a valid FLAC file,
    where ID3 in front of it would make it a damaged one.  Refusing it instead
    would leave a file that plays and analyses fine untaggable.
    """
    with open(path, "rb") as file:
        kind = sniff(file)
    if kind is not None:
        audio: FileType | None = kind(path)
    else:  # no magic number: MP3 or raw AAC (mutagen scores the two), or not audio
        audio = mutagen.File(path, options=[k for k in _SCHEMES if k not in BY_MAGIC])
    if audio is not None and _SCHEMES[type(audio)] is _ID3:
        audio = type(audio)(path, translate=False)  # frames as stored: see _ID3Scheme
    return audio


def _check_file(path: Path, shown: Path) -> None:
    """Fail with a precise message where mutagen would give a vague one."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise TagError("file not found", path=shown, hint="check the path") from None
    except OSError as error:
        raise TagError(f"cannot read the file ({error.strerror})", path=shown, hint="check the path") from None
    if not stat.S_ISREG(info.st_mode):
        raise TagError("not a regular file", path=shown, hint="give audio files, not folders or devices")
    if info.st_size == 0:
        raise TagError("file is empty", path=shown, hint=_HINT_DAMAGED)


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__
