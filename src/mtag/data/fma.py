"""The Free Music Archive data set (Defferrard et al. 2017), read with the csv module.

``fma_metadata/tracks.csv`` has a two-row header (``album,album,...`` over
``comments,date_created,...``; pandas reads it with ``header=[0, 1]``) and,
in the published file, a third row naming the index (``track_id,,,...``).
Columns are found by their (top, sub) pair, so the order may change.  The
official split is ``('set', 'split')``; ``('set', 'subset')`` is nested:
small < medium < large, so the medium set includes every small track.
``full`` takes every track.  Audio is ``fma_<subset>/NNN/NNNNNN.mp3``.

Labels: ``('track', 'genre_top')`` (one per track; tracks without one are
skipped) or, with ``fma_all_genres``, every genre of ``('track',
'genres_all')`` named through ``genres.csv`` (multi-label).  Group: the artist.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from mtag.data.catalog import DATASETS
from mtag.data.examples import TEST, TRAIN, VALID, Dataset, Example, Skipped
from mtag.data.genres import GenreNames
from mtag.data.layout import layout_error, require_folder
from mtag.data.options import FMA_SUBSETS, OFFICIAL, DatasetOptions
from mtag.data.splits import choose_kind, resplit

EXPECTED = "fma_metadata/tracks.csv and fma_<small|medium|large|full>/NNN/NNNNNN.mp3"
SPLIT_NAMES = {"training": TRAIN, "validation": VALID, "test": TEST}
COLUMNS = {
    "split": ("set", "split"),
    "subset": ("set", "subset"),
    "genre_top": ("track", "genre_top"),
    "genres_all": ("track", "genres_all"),
    "artist": ("artist", "id"),
}


def load(data_dir: Path | None, options: DatasetOptions) -> Dataset:
    """FMA under ``data_dir``: the chosen subset's tracks present on disk, with the official split."""
    data_dir = require_folder("fma", data_dir, EXPECTED)
    kind = choose_kind("fma", options, OFFICIAL)
    tracks_csv = data_dir / "fma_metadata" / "tracks.csv"
    if not tracks_csv.is_file():
        raise layout_error("fma", data_dir, EXPECTED)
    subset = options.fma_subset or next((s for s in FMA_SUBSETS if (data_dir / f"fma_{s}").is_dir()), None)
    if subset is None or not (data_dir / f"fma_{subset}").is_dir():
        raise layout_error(
            "fma", data_dir, EXPECTED, hint=f"no audio folder fma_{subset or '<subset>'} beside fma_metadata"
        )
    names = genre_titles(data_dir / "fma_metadata" / "genres.csv") if options.fma_all_genres else None
    examples: list[Example] = []
    missing: list[str] = []
    skipped: list[Skipped] = []
    for track in read_tracks(tracks_csv):
        if not _in_subset(track["subset"], subset) or track["split"] not in SPLIT_NAMES:
            continue
        track_id = int(track["track_id"])
        relative = f"fma_{subset}/{track_id // 1000:03d}/{track_id:06d}.mp3"
        path = data_dir / relative
        labels = _labels(track, names)
        if not labels:  # not part of the labelled set: missing only if it could have been used
            if path.is_file():
                skipped.append(Skipped(path, "no genre in tracks.csv"))
        elif not path.is_file():
            missing.append(relative)
        else:
            examples.append(Example(path, labels, SPLIT_NAMES[track["split"]], f"artist {track['artist']}"))
    split = OFFICIAL
    if kind != OFFICIAL:
        examples, split = resplit(examples, options, kind)
    labels = tuple(sorted({label for example in examples for label in example.labels}))
    return Dataset(
        name="fma",
        root=data_dir,
        labels=labels,
        multi_label=names is not None,
        examples=examples,
        split=f"{split} ({subset})",
        license=DATASETS["fma"].license,
        genres=GenreNames().mapping(labels),
        missing=missing,
        skipped=skipped,
    )


def read_tracks(path: Path) -> Iterator[dict[str, str]]:
    """Each row of tracks.csv as ``{track_id, split, subset, genre_top, genres_all, artist}``."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = csv.reader(file)
        top, sub = next(rows, []), next(rows, [])
        pairs = list(zip(top, sub))
        absent = [pair for pair in COLUMNS.values() if pair not in pairs]
        if absent:
            raise layout_error(
                "fma",
                path.parent.parent,
                "fma_metadata/tracks.csv with its two-row header (as published)",
                hint=f"tracks.csv has no column {absent[0]}",
            )
        where = {name: pairs.index(pair) for name, pair in COLUMNS.items()}
        for row in rows:
            if not row or not row[0].strip().isdigit():  # the "track_id,,,..." index-name row, blank lines
                continue
            yield {"track_id": row[0], **{name: row[i] if i < len(row) else "" for name, i in where.items()}}


def genre_titles(path: Path) -> dict[str, str]:
    """``genre_id -> title`` from genres.csv (needed for all genres)."""
    if not path.is_file():
        raise layout_error("fma", path.parent.parent, "fma_metadata/genres.csv beside tracks.csv (for all genres)")
    with open(path, newline="", encoding="utf-8") as file:
        return {row["genre_id"]: row["title"] for row in csv.DictReader(file)}


def _in_subset(track_subset: str, chosen: str) -> bool:
    """Nested subsets: a small track is in medium and large too; full holds every track."""
    if chosen == "full":
        return True
    return track_subset in FMA_SUBSETS and FMA_SUBSETS.index(track_subset) <= FMA_SUBSETS.index(chosen)


def _labels(track: dict[str, str], names: dict[str, str] | None) -> tuple[str, ...]:
    if names is None:
        return (track["genre_top"],) if track["genre_top"].strip() else ()
    ids = re.findall(r"\d+", track["genres_all"])
    return tuple(sorted({names[i] for i in ids if i in names}))
