"""Tiny data sets in each adapter's real layout, written by the tests (real audio, a fraction of a second)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from mtag.data.layout import shipped_list
from tests.audio.synth import write_tone

SECONDS = 0.25
RATE = 8000
#: GTZAN clips per genre taken from each shipped filtered list: enough to train (3), and one each to check.
PER_SPLIT = {"train": 3, "valid": 1, "test": 1}


def clip(path: Path, seconds: float = SECONDS, freq: float = 440.0) -> Path:
    """A short mono tone at ``path`` (format from the extension), folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_tone(path, seconds, RATE, freq=freq)


def filtered_clips(per_split: dict[str, int] = PER_SPLIT) -> dict[str, list[str]]:
    """The first clips of each genre in each shipped filtered list: split -> ``genre/genre.000NN``."""
    chosen: dict[str, list[str]] = {}
    for split, count in per_split.items():
        taken: dict[str, int] = {}
        chosen[split] = []
        for line in shipped_list("gtzan", f"{split}_filtered.txt"):
            genre = line.split("/")[0]
            if taken.get(genre, 0) < count:
                taken[genre] = taken.get(genre, 0) + 1
                chosen[split].append(line.rsplit(".", 1)[0])
    return chosen


def gtzan_tree(genre_root: Path, clips: Iterable[str], extension: str) -> list[Path]:
    """``<genre_root>/<genre>/<genre>.000NN<extension>`` for each clip key."""
    return [clip(genre_root / f"{key}{extension}", freq=300 + 10 * i) for i, key in enumerate(clips)]


def gtzan_archive(root: Path, clips: Iterable[str]) -> Path:
    """The original archive's layout, ``genres/<genre>/<genre>.000NN.au``; returns ``root``."""
    gtzan_tree(root / "genres", clips, ".au")
    return root


def gtzan_kaggle(root: Path, clips: Iterable[str]) -> Path:
    """Kaggle's ``Data/genres_original/<genre>/<genre>.000NN.wav``, with its unreadable jazz.00054.wav."""
    genre_root = root / "Data" / "genres_original"
    gtzan_tree(genre_root, clips, ".wav")
    bad = genre_root / "jazz" / "jazz.00054.wav"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")  # as in the Kaggle copy: a header and nothing decodable
    return root


def block_clips(genres: Sequence[str], indices: Iterable[int]) -> list[str]:
    """Clip keys ``genre/genre.000NN`` for every genre and index."""
    return [f"{genre}/{genre}.{i:05d}" for genre in genres for i in indices]


# MagnaTagATune ------------------------------------------------------------------

#: How annotations_final.csv spells a few top-50 tags: with spaces where the list is camelCase.
MTAT_CSV_SPELLING = {"noVocal": "no vocal", "maleVocal": "male vocal", "newAge": "new age"}


def mtat_tree(root: Path, clips: dict[str, Sequence[str]], absent: Sequence[str] = ()) -> Path:
    """annotations_final.csv (tab-separated, quoted, clip_id, tags..., mp3_path) and the mp3 clips.

    ``clips`` maps a listed ``<folder>/<name>.npy`` to its top-50 tags; ``absent`` clips are in the
    CSV but have no audio file.
    """
    tags = shipped_list("mtat", "top50_tags.txt")
    header = ["clip_id", *(MTAT_CSV_SPELLING.get(tag, tag) for tag in tags), "not top fifty", "mp3_path"]
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "annotations_final.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, delimiter="\t", quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for i, (listed, clip_tags) in enumerate({**clips, **dict.fromkeys(absent, ())}.items()):
            mp3 = listed.removesuffix(".npy") + ".mp3"
            writer.writerow([i, *("1" if tag in clip_tags else "0" for tag in tags), "1", mp3])
            if listed not in absent:
                clip(root / mp3)
    return root


# Free Music Archive ---------------------------------------------------------------

FMA_GENRES = {"2": "Jazz", "10": "Pop", "12": "Rock", "21": "Hip-Hop", "25": "Punk"}


def fma_tree(root: Path, tracks: Sequence[dict[str, str]], *, index_row: bool = True, audio: bool = True) -> Path:
    """fma_metadata/tracks.csv (two-row header, then the published 'track_id' row), genres.csv, fma_small/.

    Each track: id, split, subset, genre_top, genres_all, artist; only small-subset tracks get audio.
    """
    meta = root / "fma_metadata"
    meta.mkdir(parents=True, exist_ok=True)
    columns = [
        ("album", "id"),
        ("artist", "id"),
        ("set", "split"),
        ("set", "subset"),
        ("track", "genre_top"),
        ("track", "genres"),
        ("track", "genres_all"),
        ("track", "title"),
    ]
    with open(meta / "tracks.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["", *(top for top, _ in columns)])
        writer.writerow(["", *(sub for _, sub in columns)])
        if index_row:
            writer.writerow(["track_id", *[""] * len(columns)])
        for t in tracks:
            genres = t["genres_all"]
            writer.writerow(
                [t["id"], "1", t["artist"], t["split"], t["subset"], t["genre_top"], genres, genres, "x, y"]
            )
    with open(meta / "genres.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["genre_id", "#tracks", "parent", "title", "top_level"])
        for genre_id, title in FMA_GENRES.items():
            writer.writerow([genre_id, "1", "0", title, genre_id])
    (root / "fma_small").mkdir(exist_ok=True)
    for t in tracks:
        if audio and t["subset"] == "small":
            number = int(t["id"])
            clip(root / "fma_small" / f"{number // 1000:03d}" / f"{number:06d}.mp3")
    return root


def fma_track(number: int, split: str, genre_top: str, genres_all: str, artist: int, subset: str = "small") -> dict:
    return {
        "id": str(number),
        "split": split,
        "subset": subset,
        "genre_top": genre_top,
        "genres_all": genres_all,
        "artist": str(artist),
    }
