"""MagnaTagATune (Law et al. 2009): 29 s clips, the 50 most frequent tags, multi-label.

``annotations_final.csv`` is tab-separated and quoted: ``clip_id``, 188 tag
columns of 0/1, ``mp3_path``.  The top-50 list and the standard split (Lee et
al. 2017: folders 0-b train, c valid, d-f test) ship with mtag; the split
lists name ``<folder>/<clip>.npy`` feature files, whose audio is the same
path in ``.mp3``.  The CSV spells some tags with spaces ("no vocal") where the
top-50 list writes "noVocal", so columns are matched ignoring case, spaces
and punctuation.

A clip without any top-50 tag stays when the split lists it: it is a
negative for every tag, as in the published experiments.  Group: the album
(``<artist>-<album>`` from the file name), since one album's clips share a
recording and would leak between train and test.
"""

from __future__ import annotations

import csv
from pathlib import Path

from mtag.data.catalog import DATASETS
from mtag.data.examples import SPLITS, Dataset, Example, Skipped
from mtag.data.genres import genre_key
from mtag.data.layout import layout_error, require_folder, shipped_list
from mtag.data.options import OFFICIAL, DatasetOptions
from mtag.data.splits import choose_kind, resplit

CSV_NAME = "annotations_final.csv"
EXPECTED = f"{CSV_NAME} and the mp3 folders 0-9, a-f beside it (or in mp3/)"


def load(data_dir: Path | None, options: DatasetOptions) -> Dataset:
    """MTAT under ``data_dir`` with the standard split (or a drawn one over the same clips)."""
    data_dir = require_folder("mtat", data_dir, EXPECTED)
    kind = choose_kind("mtat", options, OFFICIAL)
    if not (data_dir / CSV_NAME).is_file():
        raise layout_error("mtat", data_dir, EXPECTED)
    tags = tuple(shipped_list("mtat", "top50_tags.txt"))
    annotated = read_annotations(data_dir / CSV_NAME, tags)
    audio_root = next((c for c in (data_dir, data_dir / "mp3") if (c / "0").is_dir()), data_dir)
    examples: list[Example] = []
    missing: list[str] = []
    skipped: list[Skipped] = []
    for split in SPLITS:
        for line in shipped_list("mtat", f"{split}.txt"):
            clip = line.removesuffix(".npy") + ".mp3"
            path = audio_root / clip
            if not path.is_file():
                missing.append(clip)
            elif clip not in annotated:
                skipped.append(Skipped(path, f"not in {CSV_NAME}"))
            else:
                examples.append(Example(path, annotated[clip], split, album(clip)))
    if not examples and not skipped:
        raise layout_error("mtat", data_dir, EXPECTED, hint=f"none of the clips in {CSV_NAME} is there")
    split_name = OFFICIAL
    if kind != OFFICIAL:
        examples, split_name = resplit(examples, options, kind)
    return Dataset(
        name="mtat",
        root=data_dir,
        labels=tags,
        multi_label=True,
        examples=examples,
        split=split_name,
        license=DATASETS["mtat"].license,
        missing=missing,
        skipped=skipped,
    )


def read_annotations(path: Path, tags: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``mp3_path -> the clip's tags`` among ``tags``, in ``tags`` order; a wrong CSV is a layout error."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = csv.reader(file, delimiter="\t")
        header = next(rows, [])
        columns = {genre_key(name): i for i, name in enumerate(header)}
        wanted = [genre_key(tag) for tag in tags] + ["mp3path"]
        absent = [name for name in wanted if name not in columns]
        if absent:
            raise layout_error(
                "mtat",
                path.parent,
                f"a tab-separated {CSV_NAME} with the columns mp3_path and the top-50 tags",
                hint=f"its header lacks {len(absent)} of them, e.g. {absent[0]!r}",
            )
        where = [columns[genre_key(tag)] for tag in tags]
        mp3 = columns["mp3path"]
        return {
            row[mp3]: tuple(tag for tag, i in zip(tags, where) if row[i].strip() == "1")
            for row in rows
            if len(row) > mp3
        }


def album(clip: str) -> str:
    """``<artist>-<album>`` of a clip name ``<folder>/<artist>-<album>-<track>-<title>-<start>-<end>.mp3``."""
    return "-".join(Path(clip).stem.split("-")[:2])
