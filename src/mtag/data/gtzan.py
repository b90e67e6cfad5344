"""GTZAN (Tzanetakis & Cook 2002): 1,000 clips, 10 genres, in either layout people have.

The original archive holds ``genres/<genre>/<genre>.000NN.au``; the Kaggle
copy ``Data/genres_original/<genre>/<genre>.000NN.wav``; converted copies use
any audio extension.  ``--data-dir`` may name the folder holding either, or
the genre folder itself.  A clip is known by ``<genre>/<genre>.000NN``.

Groups: GTZAN files an artist's excerpts under consecutive indices, so blocks
of ``gtzan_block`` (default 5) consecutive indices are one group.  Real artist
runs are mostly longer, so a block boundary can still split an artist; 5
keeps two blocks per genre even in a 10-clips-per-genre copy (gtzan-mini), so
a grouped 5-fold cross-validation there is possible at all.  The filtered
split needs no groups (it is artist-disjoint by construction); its examples
carry the same blocks for uniformity.
"""

from __future__ import annotations

from pathlib import Path

from mtag.data.catalog import DATASETS
from mtag.data.examples import SPLITS, Dataset, Example, Skipped
from mtag.data.genres import GenreNames
from mtag.data.layout import audio_files, layout_error, require_folder, shipped_list
from mtag.data.options import FILTERED, DatasetOptions
from mtag.data.splits import choose_kind, resplit

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
EXPECTED = "genres/<genre>/<genre>.000NN.au (original archive) or Data/genres_original/<genre>/<genre>.000NN.wav"
#: Files known to be broken in a published copy: clip + extension -> why it is skipped.
KNOWN_BAD = {"jazz/jazz.00054.wav": "known unreadable in the Kaggle copy of GTZAN (skipped)"}
NOT_FILTERED = "not in the fault-filtered split (a clip found faulty or repeated)"


def load(data_dir: Path | None, options: DatasetOptions) -> Dataset:
    """GTZAN under ``data_dir`` with the chosen split; listed clips not on disk are counted as missing."""
    root = genre_root(require_folder("gtzan", data_dir, EXPECTED))
    kind = choose_kind("gtzan", options, FILTERED)
    clips, skipped = _clips(root)
    missing: list[str] = []
    if kind == FILTERED:
        examples, missing = _filtered(clips, {s.path for s in skipped}, options.gtzan_block)
        listed = {f"{e.labels[0]}/{e.path.stem}" for e in examples}
        skipped += [Skipped(path, NOT_FILTERED) for clip, path in clips.items() if clip not in listed]
        split = FILTERED
    else:
        pool = [_example(clip, path, "", options.gtzan_block) for clip, path in clips.items()]
        examples, split = resplit(pool, options, kind)
    labels = tuple(sorted({label for example in examples for label in example.labels}))
    return Dataset(
        name="gtzan",
        root=root,
        labels=labels,
        multi_label=False,
        examples=examples,
        split=split,
        license=DATASETS["gtzan"].license,
        genres=GenreNames().mapping(labels),
        missing=missing,
        skipped=skipped,
    )


def genre_root(data_dir: Path) -> Path:
    """The folder holding the genre folders, in either layout, or the layout error."""
    for candidate in (
        data_dir,
        data_dir / "genres",
        data_dir / "Data" / "genres_original",
        data_dir / "genres_original",
    ):
        if candidate.is_dir() and any((candidate / genre).is_dir() for genre in GENRES):
            return candidate
    raise layout_error("gtzan", data_dir, EXPECTED)


def _clips(root: Path) -> tuple[dict[str, Path], list[Skipped]]:
    """Usable clips by key (first extension in sorted order wins), and the known-bad files skipped."""
    clips: dict[str, Path] = {}
    skipped: list[Skipped] = []
    for genre in GENRES:
        if not (root / genre).is_dir():
            continue
        for path in audio_files(root / genre):
            clip = f"{genre}/{path.stem}"
            reason = KNOWN_BAD.get(clip + path.suffix.lower())
            if reason:
                skipped.append(Skipped(path, reason))
            else:
                clips.setdefault(clip, path)
    return clips, skipped


def _filtered(clips: dict[str, Path], bad: set[Path], block: int) -> tuple[list[Example], list[str]]:
    """The shipped fault-filtered split over the clips found, and the listed clips not found."""
    bad_clips = {f"{path.parent.name}/{path.stem}" for path in bad}
    examples: list[Example] = []
    missing: list[str] = []
    for split in SPLITS:
        for line in shipped_list("gtzan", f"{split}_filtered.txt"):
            clip = line.rsplit(".", 1)[0]  # the lists name the Kaggle .wav; any extension will do
            if clip in clips:
                examples.append(_example(clip, clips[clip], split, block))
            elif clip not in bad_clips:
                missing.append(clip)
    return examples, missing


def _example(clip: str, path: Path, split: str, block: int) -> Example:
    genre, _, stem = clip.partition("/")
    index = stem.rsplit(".", 1)[-1]
    group = f"{genre}.{int(index) // block}" if index.isdigit() else clip
    return Example(path=path, labels=(genre,), split=split, group=group)
