"""The user's own tagged collection as a data set: labels from the files' genre tags.

Tags are read with mtag's own reader (so ID3's ``"(17)"`` is Rock and a WAV's
INFO genre counts), split on ``;`` ``/`` ``,`` as other taggers join them, and
canonicalised through the genre table, so "Hip Hop", "hip-hop" and "HipHop"
are one label.  A label with fewer than ``min_tracks`` tracks cannot be
learnt and is left out (listed in ``Dataset.rare_labels``); a track left
with no label is skipped, with the reason.

Group: album artist (else artist) and album, so one album never sits on both
sides of a split; a track without an album is a group of its own.  The
tracks come from walking ``--data-dir`` or, with ``use_index``, from mtag's
index (optionally only those under ``--data-dir``).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from mtag.data.catalog import DATASETS
from mtag.data.examples import Dataset, Example, Skipped
from mtag.data.genres import GenreNames
from mtag.data.layout import require_folder
from mtag.data.options import DatasetOptions
from mtag.data.splits import choose_kind, resplit
from mtag.errors import MtagError
from mtag.index.store import Index
from mtag.library.discover import discover
from mtag.tags.formats import TagFile, TagValues, open_tags
from mtag.taxonomy import merge_genres, split_genres

EXPECTED = "a folder of tagged audio files"
NO_GENRE = "no genre tag"
#: Where each tag format keeps album artist, album and artist (the group of a track).
_ALBUM_KEYS = {
    "id3": ("TPE2", "TALB", "TPE1"),
    "vorbis": ("albumartist", "album", "artist"),
    "mp4": ("aART", "\xa9alb", "\xa9ART"),
    "asf": ("WM/AlbumArtist", "WM/AlbumTitle", "Author"),
}


def load(data_dir: Path | None, options: DatasetOptions) -> Dataset:
    """The tagged tracks under ``data_dir`` (or the index's), their genres as labels, split over albums."""
    kind = choose_kind("library", options, None)
    paths, missing, root = _tracks(data_dir, options)
    names = GenreNames()
    wanted = {names.canonical(label) for label in options.labels}
    pool: list[Example] = []
    skipped: list[Skipped] = []
    for path in paths:
        try:
            tagged = open_tags(path)
        except MtagError as error:
            skipped.append(Skipped(path, error.message))
            continue
        genres = track_genres(tagged, names)
        kept = tuple(g for g in genres if g in wanted) if wanted else genres
        if kept:
            pool.append(Example(path, kept, "", album_group(tagged)))
        else:
            skipped.append(Skipped(path, "none of the asked labels" if genres else NO_GENRE))
    pool, rare, dropped = _without_rare(pool, options.min_tracks)
    skipped += dropped
    examples, split = resplit(pool, options, kind) if pool else ([], kind)
    labels = tuple(sorted({label for example in examples for label in example.labels}))
    return Dataset(
        name="library",
        root=root,
        labels=labels,
        multi_label=True,
        examples=examples,
        split=split,
        license=DATASETS["library"].license,
        genres={label: label for label in labels},
        missing=missing,
        skipped=skipped,
        rare_labels=rare,
    )


def track_genres(tagged: TagFile, names: GenreNames) -> tuple[str, ...]:
    """The file's genres, each value split and canonicalised, each once, in the file's order."""
    values = TagValues(tagged.format, {"genre": tagged.read("genre")}).genre_names()
    return tuple(merge_genres([], [names.canonical(part) for value in values for part in split_genres(value)]))


def album_group(tagged: TagFile) -> str:
    """``album artist/album`` (artist when there is no album artist); the file itself without an album."""
    album_artist, album, artist = (_first(tagged, key) for key in _ALBUM_KEYS.get(tagged.format, ("", "", "")))
    return f"{album_artist or artist}/{album}" if album else f"file {tagged.shown}"


def _first(tagged: TagFile, key: str) -> str:
    tags: Any = tagged.audio.tags
    if not key or tags is None:
        return ""
    value = tags.get(key)
    if value is None:
        return ""
    values = value.text if tagged.format == "id3" else value  # an ID3 frame holds its values in .text
    return str(values[0]).strip() if len(values) else ""


def _tracks(data_dir: Path | None, options: DatasetOptions) -> tuple[list[Path], list[str], Path]:
    """The files to read, the index's files that are gone, and the data set's root."""
    if not options.use_index:
        root = require_folder("library", data_dir, EXPECTED)
        return discover([root]).files, [], root  # the formats mtag tags: a library's, not .au
    with Index.open(options.index_path, create=False) as index:
        known = [Path(p) for p in index.paths()]
    if data_dir is not None:
        root = Path(os.path.abspath(Path(data_dir).expanduser()))
        known = [path for path in known if path.is_relative_to(root)]
    else:
        root = Path(os.path.commonpath(known)) if known else Path("/")
    present = [path for path in known if path.is_file()]
    return present, [str(path) for path in known if not path.is_file()], root


def _without_rare(pool: list[Example], min_tracks: int) -> tuple[list[Example], dict[str, int], list[Skipped]]:
    """``pool`` without labels of fewer than ``min_tracks`` tracks; those labels; the tracks left with none."""
    counts = Counter(label for example in pool for label in example.labels)
    rare = {label: n for label, n in sorted(counts.items()) if n < min_tracks}
    kept: list[Example] = []
    dropped: list[Skipped] = []
    for example in pool:
        labels = tuple(label for label in example.labels if label not in rare)
        if labels:
            kept.append(replace(example, labels=labels))
        else:
            dropped.append(Skipped(example.path, f"only genres with fewer than {min_tracks} tracks"))
    return kept, rare, dropped
