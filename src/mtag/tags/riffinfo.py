"""The genre in a WAV file's RIFF INFO list (``IGNR``), which mutagen does not write.

A WAV file can carry its tags twice: in an ``id3 `` chunk (what mtag writes
with mutagen) and in a ``LIST`` chunk of type ``INFO``.  Players that read
INFO first miss a genre written only into ID3: the FFmpeg of the report
discarded the ID3 chunk of a file with INFO tags ("Discarding ID3 tags because
more suitable tags were found", ffprobe showed no genre), and FFmpeg 8 (PyAV's
here) shows an old ``IGNR`` until an ID3 genre overrides it.  So where a file
*has* an INFO list, its ``IGNR`` is kept equal to the genre.  mtag never adds
an INFO list to a file without one: with such an FFmpeg that would hide every
ID3 tag the file has (title, artist...), and without INFO the ID3 genre is
what FFmpeg shows already (measured: PyAV's container metadata).

Items are ``id (4 bytes), size (LE u32), data``, each padded to an even
length; the text is written as UTF-8 with a terminating NUL, as FFmpeg and
most current tools do, and read as UTF-8 (else Latin-1, the old Windows
code page's common case).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from os import PathLike
from typing import BinaryIO

from mutagen._util import resize_bytes  # mutagen's own tail mover, used for its ID3 chunk too

GENRE = b"IGNR"
_CHUNK = struct.Struct("<4sI")


@dataclass(frozen=True)
class InfoList:
    """Where a file's ``LIST``/``INFO`` chunk is and what it holds, in order."""

    offset: int  # of the chunk header
    size: int  # the chunk's data size, as its header says
    items: tuple[tuple[bytes, bytes], ...]  # (id, data as stored)

    def text(self, key: bytes) -> str | None:
        """The first ``key`` item as text, None where there is none (or it is empty)."""
        for item, data in self.items:
            if item == key:
                raw = data.split(b"\0", 1)[0]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("latin-1")
                return text or None
        return None

    def keys(self) -> set[str]:
        return {item.decode("latin-1") for item, _ in self.items}


def read_info(path: str | PathLike[str]) -> InfoList | None:
    """The INFO list of the WAV file ``path``; None where it has none."""
    with open(path, "rb") as file:
        return _find(file)


def write_info_text(path: str | PathLike[str], key: bytes, text: str | None) -> None:
    """Set ``key`` in ``path``'s INFO list to ``text`` (None removes it); nothing where it has no INFO list.

    The item stays where it was (a new one goes last); the chunk grows or
    shrinks in place, the bytes after it move, and the RIFF size follows.
    Meant for mtag's private copy of a file (:func:`mtag.tags.atomic.replacing`).
    """
    with open(path, "r+b") as file:
        info = _find(file)
        if info is None:
            return
        value = None if text is None else text.encode("utf-8") + b"\0"
        items = [(item, data) for item, data in info.items if item != key]
        if value is not None:
            place = next((i for i, (item, _) in enumerate(info.items) if item == key), len(info.items))
            items.insert(min(place, len(items)), (key, value))
        data = b"INFO" + b"".join(_chunk(item, payload) for item, payload in items)
        old, new = _padded(info.size), _padded(len(data))
        resize_bytes(file, old, new, info.offset + _CHUNK.size)
        file.seek(info.offset)
        file.write(_chunk(b"LIST", data))
        file.seek(4)
        (riff_size,) = struct.unpack("<I", file.read(4))
        file.seek(4)
        file.write(struct.pack("<I", riff_size + new - old))


def _find(file: BinaryIO) -> InfoList | None:
    head = file.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    end = file.seek(0, 2)
    position = 12
    while position + _CHUNK.size <= end:
        file.seek(position)
        chunk, size = _CHUNK.unpack(file.read(_CHUNK.size))
        if chunk == b"LIST" and size >= 4:
            data = file.read(size)
            if data[:4] == b"INFO":
                return InfoList(position, size, tuple(_items(data[4:])))
        position += _CHUNK.size + _padded(size)
    return None


def _items(data: bytes) -> list[tuple[bytes, bytes]]:
    items, position = [], 0
    while position + _CHUNK.size <= len(data):
        item, size = _CHUNK.unpack_from(data, position)
        start = position + _CHUNK.size
        items.append((item, data[start : start + size]))
        position = start + _padded(size)
    return items


def _chunk(chunk: bytes, data: bytes) -> bytes:
    """A chunk: header, data, and the pad byte that keeps the next one word-aligned."""
    return _CHUNK.pack(chunk, len(data)) + data + b"\0" * (len(data) & 1)


def _padded(size: int) -> int:
    return size + (size & 1)
