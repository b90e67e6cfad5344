"""The flags that choose a data set and its split, shared by every command that loads one.

``mtag datasets check`` and ``mtag train`` (and ``mtag eval``) read a data set
the same way, so its options are declared once here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mtag.data.catalog import DATASETS
from mtag.data.options import FMA_SUBSETS, SPLIT_KINDS, DatasetOptions


def known_dataset(value: str) -> str:
    if value not in DATASETS:
        raise typer.BadParameter(f"unknown data set {value!r}; known: {', '.join(DATASETS)}")
    return value


SplitOption = Annotated[
    Optional[str],
    typer.Option("--split", help=f"{', '.join(SPLIT_KINDS)} \\[default: the data set's own, else random]."),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of a random or k-fold split.")]
FoldsOption = Annotated[int, typer.Option("--folds", min=2, help="Folds of --split folds.")]
FoldOption = Annotated[int, typer.Option("--fold", min=1, help="The fold used as the test split (from 1).")]
LabelsOption = Annotated[
    Optional[str], typer.Option("--labels", help="folder, library: only these labels, comma-separated.")
]
MinTracksOption = Annotated[
    int, typer.Option("--min-tracks", min=1, help="library: leave out labels with fewer tracks.")
]
SubsetOption = Annotated[
    Optional[str], typer.Option("--subset", help=f"fma: {', '.join(FMA_SUBSETS)} \\[default: the smallest there].")
]
AllGenresOption = Annotated[
    bool, typer.Option("--all-genres", help="fma: every genre of a track (multi-label), not genre_top.")
]
FromIndexOption = Annotated[
    bool, typer.Option("--from-index", help="library: the tracks mtag's index knows (under --data-dir if given).")
]
DatasetNameOption = Annotated[
    str, typer.Option("--dataset", help=f"The data set: {', '.join(DATASETS)}.", callback=known_dataset)
]
DataDirOption = Annotated[
    Optional[Path], typer.Option("--data-dir", help="The folder holding the data set (see 'mtag datasets').")
]


def dataset_options(
    split: str | None = None,
    seed: int = 0,
    folds: int = 5,
    fold: int = 1,
    labels: str | None = None,
    min_tracks: int = 20,
    subset: str | None = None,
    all_genres: bool = False,
    from_index: bool = False,
    db: Path | None = None,
) -> DatasetOptions:
    """The data set options from the command line's flags (shared with any command that loads a data set)."""
    return DatasetOptions(
        split=split,
        seed=seed,
        folds=folds,
        fold=fold,
        labels=tuple(label.strip() for label in (labels or "").split(",") if label.strip()),
        min_tracks=min_tracks,
        fma_subset=subset,
        fma_all_genres=all_genres,
        use_index=from_index,
        index_path=db,
    )
