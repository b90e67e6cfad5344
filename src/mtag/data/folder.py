"""A folder per label: ``DIR/<label>/...audio``, any format, nested folders allowed.

The first sub-folder below a label is taken as an album and kept whole on
one side of the split (an album's tracks share a recording and a mix, and
would flatter a test score); a file directly in a label folder is a group
of its own.  No split comes with such a folder: random or k-fold.
"""

from __future__ import annotations

from pathlib import Path

from mtag.data.catalog import DATASETS
from mtag.data.examples import Dataset, Example, Skipped
from mtag.data.genres import GenreNames
from mtag.data.layout import audio_files, layout_error, require_folder
from mtag.data.options import DatasetOptions
from mtag.data.splits import choose_kind, resplit
from mtag.errors import UsageError

EXPECTED = "<label>/<any sub-folders>/<audio files>"


def load(data_dir: Path | None, options: DatasetOptions) -> Dataset:
    """Every audio file below a label folder of ``data_dir``, split over albums."""
    root = require_folder("folder", data_dir, EXPECTED).absolute()
    kind = choose_kind("folder", options, None)
    folders = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    folders = _restricted(folders, options.labels)
    skipped = [Skipped(path, "not in a label folder") for path in audio_files(root) if path.parent == root]
    pool: list[Example] = []
    for folder in folders:
        for path in audio_files(folder):
            inner = path.relative_to(folder).parts
            pool.append(Example(path, (folder.name,), "", f"{folder.name}/{inner[0]}"))
    if not pool:
        raise layout_error("folder", root, EXPECTED, hint="put each label's audio files in a folder named after it")
    examples, split = resplit(pool, options, kind)
    labels = tuple(sorted({example.labels[0] for example in examples}))
    return Dataset(
        name="folder",
        root=root,
        labels=labels,
        multi_label=False,
        examples=examples,
        split=split,
        license=DATASETS["folder"].license,
        genres=GenreNames().mapping(labels),
        skipped=skipped,
    )


def _restricted(folders: list[Path], labels: tuple[str, ...]) -> list[Path]:
    """Only the label folders asked for; a label with no folder is a usage error naming those there are."""
    if not labels:
        return folders
    names = {folder.name for folder in folders}
    unknown = [label for label in labels if label not in names]
    if unknown:
        raise UsageError(
            f"no label folder {unknown[0]!r}", hint=f"the folders are: {', '.join(sorted(names)) or 'none'}"
        )
    return [folder for folder in folders if folder.name in labels]
