"""``mtag datasets check NAME --data-dir DIR``: what a data set folder holds, and whether it can be trained on.

Reads the layout, opens every file's headers (no decoding), and reports
tracks per label and split, durations, files the split lists but the folder
lacks, files skipped or unreadable, and labels too rare to train on.

Exit codes: 0 the data set is usable (files missing from a partial copy are
reported, not an error: a copy of part of GTZAN is a legitimate data set);
1 it is usable but some files would not open (they will be skipped, and the
user should know which); 2 it cannot be trained on (an empty split, a single
label, a label with too few training tracks) or the folder is not the layout.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.table import Table

from mtag.cli import console
from mtag.cli.dataset_options import (
    AllGenresOption,
    DataDirOption,
    FoldOption,
    FoldsOption,
    FromIndexOption,
    LabelsOption,
    MinTracksOption,
    SeedOption,
    SplitOption,
    SubsetOption,
    dataset_options,
    known_dataset,
)
from mtag.cli.options import DbOption, JsonOption, VerboseOption
from mtag.cli.progress import counting_bar
from mtag.data.catalog import DATASETS
from mtag.data.check import (
    DEFAULT_PROBE_WORKERS,
    Audit,
    audit,
    check_trainable,
    missing_line,
    problems,
    skipped_reasons,
    without_unreadable,
)
from mtag.data.examples import SPLITS, Dataset
from mtag.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

_SHOWN_MISSING = 20  # missing files listed in --json


def check_command(
    name: Annotated[str, typer.Argument(help=f"The data set: {', '.join(DATASETS)}.", callback=known_dataset)],
    data_dir: DataDirOption = None,
    split: SplitOption = None,
    seed: SeedOption = 0,
    folds: FoldsOption = 5,
    fold: FoldOption = 1,
    labels: LabelsOption = None,
    min_tracks: MinTracksOption = 20,
    subset: SubsetOption = None,
    all_genres: AllGenresOption = False,
    from_index: FromIndexOption = False,
    db: DbOption = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Threads opening files.")] = DEFAULT_PROBE_WORKERS,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check a data set folder: tracks per label and split, durations, missing and unreadable files."""
    options = dataset_options(split, seed, folds, fold, labels, min_tracks, subset, all_genres, from_index, db)
    from mtag.data.load import load_dataset  # the adapters import the index and the tag readers: not for --help

    dataset = load_dataset(name, data_dir, options)
    found = _audit(dataset, workers)
    usable = without_unreadable(dataset, found)
    report = build_report(dataset, usable, found)
    if as_json:
        console.print_json_line(report)
    else:
        _print(usable, report, found)
    try:
        check_trainable(usable)
    except UsageError as error:
        if not as_json:  # the JSON record holds the problems
            console.report_error(error)
        raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(EXIT_FAILED if found.unreadable else EXIT_OK)


def _audit(dataset: Dataset, workers: int) -> Audit:
    progress = counting_bar()
    task = progress.add_task("checking", total=len(dataset.examples))
    with progress:
        return audit(dataset.examples, workers, lambda: progress.advance(task))


def build_report(dataset: Dataset, usable: Dataset, found: Audit) -> dict[str, Any]:
    """The check as one JSON-ready record (also what the tables show)."""
    counts = usable.counts()
    return {
        "dataset": usable.name,
        "root": os.fspath(usable.root),
        "split": usable.split,
        "multi_label": usable.multi_label,
        "labels": list(usable.labels),
        "genres": usable.genres,
        "tracks": {split: len(usable.part(split)) for split in SPLITS} | {"total": len(usable.examples)},
        "per_label": {label: {split: counts[split][label] for split in SPLITS} for label in usable.labels},
        "duration": found.spread(),
        "unknown_duration": found.unknown_duration,
        "missing": {"count": len(dataset.missing), "first": dataset.missing[:_SHOWN_MISSING]},
        "skipped": dict(skipped_reasons(dataset)),
        "unreadable": [{"path": os.fspath(s.path), "reason": s.reason} for s in found.unreadable],
        "rare_labels": usable.rare_labels,
        "problems": problems(usable),
    }


def _print(dataset: Dataset, report: dict[str, Any], found: Audit) -> None:
    console.out.print(f"{dataset.name} in {console.shown(dataset.root)}, split {dataset.split}")
    table = Table(title=f"{len(dataset.examples)} tracks, {len(dataset.labels)} labels", title_justify="left")
    table.add_column("label", overflow="fold")
    for column in (*SPLITS, "total"):
        table.add_column(column, justify="right")
    for label, by_split in report["per_label"].items():
        table.add_row(console.shown(label), *(str(by_split[s]) for s in SPLITS), str(sum(by_split.values())))
    table.add_row("[bold]tracks", *(f"[bold]{report['tracks'][s]}" for s in (*SPLITS, "total")))
    console.out.print(table)
    spread = report["duration"]
    if spread:
        console.out.print(
            f"duration: {spread['total'] / 3600:.2f} h in all; per track min {spread['min']:.1f} s,"
            f" median {spread['median']:.1f} s, max {spread['max']:.1f} s"
            + (f" ({found.unknown_duration} files do not say)" if found.unknown_duration else "")
        )
    line = missing_line(dataset)
    if line:
        console.out.print(line)
    for reason, count in report["skipped"].items():
        console.out.print(f"skipped {count} file{'s' if count > 1 else ''}: {console.shown(reason)}")
    if dataset.rare_labels:
        rare = ", ".join(f"{label} ({n})" for label, n in dataset.rare_labels.items())
        console.out.print(f"left out, too rare to train on: {console.shown(rare)}")
    for skipped in found.unreadable:
        console.report_problem(f"{skipped.path}: unreadable, skipped: {skipped.reason}")
