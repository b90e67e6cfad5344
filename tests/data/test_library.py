"""The user's tagged library: genres from tags, canonicalised, rare ones left out, albums kept whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TALB, TCON, TPE1

from mtag.data.load import load_dataset
from mtag.data.options import DatasetOptions
from mtag.errors import UsageError
from mtag.index.rows import TRACK_FAILED, TrackRecord
from mtag.index.store import Index
from tests.data.layouts import clip

#: (genre tag, album artist, album) per album; each album gets three tracks.
ALBUMS = [
    ("Hip Hop", "A", "One"),
    ("hip-hop", "B", "Two"),
    ("HipHop; Jazz", "C", "Three"),
    ("Rock/Pop", "D", "Four"),
    ("rock", "E", "Five"),
    ("Jazz, Rock", "F", "Six"),
    ("Shoegaze", "G", "Seven"),  # a genre the table does not know, and too rare
]


def tagged_flac(path: Path, genre: str | None, album_artist: str, album: str) -> Path:
    clip(path)
    audio = FLAC(path)
    if genre is not None:
        audio["GENRE"] = genre
    audio["ALBUMARTIST"], audio["ALBUM"] = album_artist, album
    audio.save()
    return path


def tagged_mp3(path: Path, genre: str, artist: str, album: str) -> Path:
    clip(path)
    tags = ID3()
    tags.add(TCON(encoding=3, text=[genre]))
    tags.add(TPE1(encoding=3, text=[artist]))
    tags.add(TALB(encoding=3, text=[album]))
    tags.save(path)
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("library")
    for genre, artist, album in ALBUMS:
        for track in range(3):
            tagged_flac(root / artist / album / f"{track}.flac", genre, artist, album)
    tagged_mp3(root / "H" / "Eight" / "1.mp3", "(17)", "H", "Eight")  # ID3v1 reference: Rock
    tagged_mp3(root / "H" / "Eight" / "2.mp3", "Rock", "H", "Eight")
    tagged_flac(root / "untagged.flac", None, "X", "Y")
    (root / "broken.mp3").write_bytes(b"not audio at all")
    (root / "sun.au").write_bytes(b"")  # decodable formats mtag cannot tag are skipped, not fatal
    return root


def test_genre_spellings_are_one_label_and_rare_labels_are_listed(library: Path) -> None:
    dataset = load_dataset("library", library, DatasetOptions(min_tracks=4))
    assert dataset.multi_label
    assert dataset.labels == ("Hip-Hop", "Jazz", "Rock")
    assert dataset.rare_labels == {"Pop": 3, "Shoegaze": 3}
    labels = {e.path.relative_to(library).as_posix(): e.labels for e in dataset.examples}
    assert labels["A/One/0.flac"] == labels["B/Two/0.flac"] == ("Hip-Hop",)
    assert labels["C/Three/0.flac"] == ("Hip-Hop", "Jazz")
    assert labels["D/Four/0.flac"] == ("Rock",)  # Pop left out as too rare
    assert labels["H/Eight/1.mp3"] == ("Rock",)  # "(17)" read as a player shows it
    assert dataset.genres["Hip-Hop"] == "Hip-Hop"


def test_tracks_without_usable_genres_are_skipped_with_the_reason(library: Path) -> None:
    dataset = load_dataset("library", library, DatasetOptions(min_tracks=4))
    reasons = {s.path.name: s.reason for s in dataset.skipped}
    assert reasons["untagged.flac"] == "no genre tag"
    assert reasons["0.flac"] == "only genres with fewer than 4 tracks"  # the Shoegaze album
    assert reasons["broken.mp3"].startswith("cannot read its tags")
    assert "sun.au" not in reasons  # .au is not a library format: the walk does not take it


def test_albums_are_the_groups_and_never_straddle_the_split(library: Path) -> None:
    dataset = load_dataset("library", library, DatasetOptions(min_tracks=4, split="folds", fold=2, seed=1))
    groups: dict[str, set[str]] = {}
    for example in dataset.examples:
        groups.setdefault(example.group, set()).add(example.split)
    assert set(groups) == {"A/One", "B/Two", "C/Three", "D/Four", "E/Five", "F/Six", "H/Eight"}
    assert all(len(splits) == 1 for splits in groups.values())


def test_labels_restrict_by_canonical_name(library: Path) -> None:
    dataset = load_dataset("library", library, DatasetOptions(min_tracks=1, labels=("hip hop", "jazz")))
    assert dataset.labels == ("Hip-Hop", "Jazz")
    assert all(e.labels for e in dataset.examples)


def test_default_min_tracks_leaves_every_label_out_of_a_small_library(library: Path) -> None:
    dataset = load_dataset("library", library)
    assert dataset.examples == [] and dataset.labels == ()
    assert dataset.rare_labels["Rock"] == 11


def test_the_tracks_of_the_index_instead_of_a_walk(library: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    known = [library / "A" / "One" / "0.flac", library / "E" / "Five" / "1.flac", library / "gone.flac"]
    with Index.open(db) as index, index.lock_for_run():
        run = index.start_run("musicnn-msd", {})
        for path in known:
            index.record_track(run, TrackRecord(path=path, status=TRACK_FAILED, error="x"))
    options = DatasetOptions(use_index=True, index_path=db, min_tracks=1)
    dataset = load_dataset("library", None, options)
    assert sorted(e.path.name for e in dataset.examples) == ["0.flac", "1.flac"]
    assert dataset.missing == [str(library / "gone.flac")]
    under = load_dataset("library", library / "A", options)
    assert [e.path for e in under.examples] == [known[0]]
    with pytest.raises(UsageError, match="no index at"):
        load_dataset("library", None, DatasetOptions(use_index=True, index_path=tmp_path / "none.db"))
