"""Which container a file is, from its first bytes, whatever its name says.

mutagen picks a parser by scoring the header *and* the extension, and the
extension weighs more: a FLAC file named ``.mp3`` is parsed as MP3 ("can't
sync to MPEG frame") and any file named ``.flac`` or ``.wav`` as FLAC or WAV,
although the decoder (FFmpeg probes content) plays them fine.  Every
container mtag reads starts with a magic number (raw AAC with its frame sync),
so those are recognised here; the rest (MP3, or anything behind an ID3 tag
but FLAC) is left to mutagen's scoring of MP3 and AAC only.
"""

from __future__ import annotations

from typing import BinaryIO

from mutagen import FileType
from mutagen.aac import AAC
from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

#: The classes recognised by magic number: a file without it is none of them.
BY_MAGIC: tuple[type[FileType], ...] = (FLAC, OggVorbis, OggOpus, OggFLAC, WAVE, AIFF, MP4, ASF)

_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_OGG_CODECS: dict[bytes, type[FileType]] = {b"\x01vorbis": OggVorbis, b"OpusHead": OggOpus, b"\x7fFLAC": OggFLAC}
_HEAD = 64


def sniff(file: BinaryIO) -> type[FileType] | None:
    """The mutagen class for the container ``file`` holds, None for "MP3, or not audio".

    A FLAC stream behind an ID3v2 tag (some rippers write one) is FLAC too.
    """
    head = file.read(_HEAD)
    if head[:3] == b"ID3" and len(head) >= 10:
        size = _synchsafe(head[6:10]) + 10 + (10 if head[5] & 0x10 else 0)  # header, tag, footer
        file.seek(size)
        return FLAC if file.read(4) == b"fLaC" else None
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"OggS" and len(head) > 27:
        start = 27 + head[26]  # the page header, then one lacing byte per segment
        packet = head[start : start + 8]
        return next((kind for magic, kind in _OGG_CODECS.items() if packet.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAVE
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head[4:8] == b"ftyp":
        return MP4
    if head[:16] == _ASF_GUID:
        return ASF
    if head[:4] == b"ADIF" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0):
        return AAC  # ADTS: MPEG sync with layer 0, which MP3 frames never have
    return None


def _synchsafe(data: bytes) -> int:
    """ID3v2's sizes: 7 bits per byte."""
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
    return value
