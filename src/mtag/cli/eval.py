"""``mtag eval``: measure installed models on a data set, side by side, with optional studies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from mtag.cli import console
from mtag.cli.dataset_options import (
    AllGenresOption,
    DataDirOption,
    DatasetNameOption,
    FoldOption,
    FoldsOption,
    FromIndexOption,
    LabelsOption,
    MinTracksOption,
    SplitOption,
    SubsetOption,
    dataset_options,
)
from mtag.cli.options import (
    AggregateOption,
    CacheDirOption,
    CacheWorkersOption,
    DbOption,
    DeviceOption,
    JsonOption,
    PrecisionOption,
    VerboseOption,
    complete_model,
)
from mtag.errors import EXIT_FAILED, EXIT_INTERRUPTED


def eval_command(
    models: Annotated[
        list[str],
        typer.Argument(help="Installed models (names or folders), side by side.", autocompletion=complete_model),
    ],
    dataset: DatasetNameOption,
    data_dir: DataDirOption = None,
    part: Annotated[
        Literal["test", "valid", "train", "all"],
        typer.Option("--part", help="Which tracks of the split to measure on: test, valid, train, or all of them."),
    ] = "test",
    split: SplitOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the split, the bootstrap and the noise study.")] = 0,
    folds: FoldsOption = 5,
    fold: FoldOption = 1,
    labels: LabelsOption = None,
    min_tracks: MinTracksOption = 20,
    subset: SubsetOption = None,
    all_genres: AllGenresOption = False,
    from_index: FromIndexOption = False,
    db: DbOption = None,
    study: Annotated[
        Optional[str],
        typer.Option(
            "--study", help="Comma-separated studies: length, noise, codec (audio); rare, cross, characteristics."
        ),
    ] = None,
    aggregate: AggregateOption = "mean",
    level: Annotated[
        Literal["track", "window"],
        typer.Option("--level", help="Measure tracks (windows aggregated as tag does) or single windows."),
    ] = "track",
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="k of the top-k accuracy.")] = 3,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Resamples for the 95 % confidence intervals (0: none).")
    ] = 1000,
    report: Annotated[
        Optional[Path],
        typer.Option(
            "--report", help="Write metrics.json, predictions.csv, report.md and figures here.", file_okay=False
        ),
    ] = None,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "fp32",
    workers: CacheWorkersOption = None,
    batch_size: Annotated[
        Optional[int], typer.Option("--batch-size", min=1, help="Windows per forward pass \\[default: 16 CPU, 64 GPU].")
    ] = None,
    cache_dir: CacheDirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Measure models on a data set's tracks: accuracy or PR-AUC with confidence intervals, side by side.

    Data-set labels and model labels meet through the genre table, so a
    shipped model can be measured on GTZAN on the genres both know (the
    report says which it cannot express).  Each track is decoded once, into
    the training audio cache, however many models and studies.  Exit code 1
    when some track could not be read (it is listed and left out).
    """
    from mtag.cli.eval_view import EvalView
    from mtag.data.load import load_dataset
    from mtag.evaluate.records import record
    from mtag.evaluate.report import check_report_folder, evaluation_json, write_report
    from mtag.evaluate.runner import EvalRequest, evaluate, plan_evaluation

    options = dataset_options(split, seed, folds, fold, labels, min_tracks, subset, all_genres, from_index, db)
    loaded = load_dataset(dataset, data_dir, options)
    request = EvalRequest(
        models,
        loaded,
        part,
        study,
        aggregate,
        level,
        top_k,
        bootstrap,
        seed,
        device,
        precision,
        workers,
        batch_size,
        cache_dir,
    )
    plan_evaluation(request)  # every refusal before the report folder is touched or a track decoded
    if report is not None:
        from mtag.inspection.plot import require_matplotlib

        require_matplotlib()
        check_report_folder(report)
    view = EvalView(quiet=as_json)
    try:
        with view:
            evaluation = evaluate(request, view)
    except KeyboardInterrupt:
        console.err.print("mtag: interrupted; the tracks decoded so far are cached, a new run starts from them")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    data = evaluation_json(evaluation)
    record(data)
    if report is not None:
        write_report(evaluation, report)
    if as_json:
        console.print_json_line(data)
    else:
        view.summary(data, report)
        view.analyses(evaluation)
    if evaluation.unreadable:
        raise typer.Exit(EXIT_FAILED)
