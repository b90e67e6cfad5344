"""Small real audio files of every format for the tag tests, and helpers to inspect them."""

from __future__ import annotations

import os
from pathlib import Path

from tests.audio.synth import FORMATS, chirp, native_rate, write_samples

#: test case -> (extension, encoder or None for synth's default): every format mtag tags,
#: and a true AIFF-C ("sowt" little-endian PCM) besides synth's plain AIFF named .aifc
CASES: dict[str, tuple[str, str | None]] = {
    **{ext: (ext, None) for ext in sorted(FORMATS) if ext != ".aac"},
    "aifc-sowt": (".aifc", "pcm_s16le"),
}

#: extension -> the tag format mtag writes in it
TAG_FORMATS = {
    ".mp3": "id3",
    ".wav": "id3",
    ".aif": "id3",
    ".aiff": "id3",
    ".aifc": "id3",
    ".flac": "vorbis",
    ".ogg": "vorbis",
    ".oga": "vorbis",
    ".opus": "vorbis",
    ".m4a": "mp4",
    ".mp4": "mp4",
    ".wma": "asf",
    ".asf": "asf",
    ".aac": "none",
}


def make_originals(folder: Path) -> dict[str, Path]:
    """0.3 s of a stereo sweep per case (and raw AAC as case ".aac"), none with genre or mood."""
    files = {}
    for case, (ext, codec) in {**CASES, ".aac": (".aac", None)}.items():
        path = folder / f"song-{case.lstrip('.')}{ext}"
        rate = native_rate(path)
        files[case] = write_samples(path, chirp(0.3, rate, (1.0, 0.5)), rate, codec)
    return files


def names(folder: Path) -> set[str]:
    """The names in ``folder``: a temporary copy left behind shows up here."""
    return set(os.listdir(folder))
