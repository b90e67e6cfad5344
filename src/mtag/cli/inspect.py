"""``mtag inspect``: what the model hears in each window of a file, what it decides, and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from mtag.cli import console
from mtag.cli.options import (
    DEFAULT_MODEL,
    AggregateOption,
    BatchSizeOption,
    DbOption,
    DeviceOption,
    HopOption,
    JsonOption,
    ModelOption,
    ModeOption,
    MoodsOption,
    ParentsOption,
    PrecisionOption,
    TaxonomyOption,
    ThreadsOption,
    ThresholdOption,
    TopOption,
    VerboseOption,
    WindowOption,
    decision_options,
)
from mtag.errors import EXIT_FAILED, MtagError, UsageError

if TYPE_CHECKING:
    from mtag.inspection.report import Inspection

#: Labels drawn in a plot's taggram at least (more with --labels): a figure has room for them.
PLOT_LABELS = 10


def inspect_command(
    files: Annotated[list[Path], typer.Argument(help="Audio files to analyse.", show_default=False)],
    model: ModelOption = DEFAULT_MODEL,
    top: TopOption = 3,
    threshold: ThresholdOption = None,
    mode: ModeOption = "keep",
    parents: ParentsOption = False,
    moods: MoodsOption = False,
    taxonomy: TaxonomyOption = None,
    aggregate: AggregateOption = "mean",
    window: WindowOption = None,
    hop: HopOption = None,
    labels: Annotated[int, typer.Option("--labels", min=1, help="Labels shown per segment and in the heat strip.")] = 3,
    explain: Annotated[
        bool, typer.Option("--explain", help="Occlusion saliency: which times and frequency bands carry each genre.")
    ] = False,
    plot: Annotated[
        Optional[Path],
        typer.Option(
            "--plot",
            help="Write a PNG (spectrogram, taggram, diagnostics); a folder for several files.",
            show_default=False,
        ),
    ] = None,
    from_index: Annotated[
        bool, typer.Option("--from-index", help="Show what 'mtag tag' stored for the files; analyse nothing.")
    ] = False,
    db: DbOption = None,
    precision: PrecisionOption = "auto",
    device: DeviceOption = "auto",
    batch_size: BatchSizeOption = None,
    threads: ThreadsOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Show each segment's scores, the track's decision as 'mtag tag' takes it, and diagnostics.

    The decision options (--top, --threshold, --mode, --aggregate, --window, ...) mean what they mean for 'mtag tag'.

    With --json, one JSON object per file goes to stdout (one per line).
    """
    if from_index and (explain or plot):
        raise UsageError("--explain and --plot need the audio: leave out --from-index")
    if plot is not None:
        from mtag.inspection.plot import require_matplotlib

        require_matplotlib()
    targets = _plot_targets(plot, files)
    if from_index:
        found_all = _stored(files, db, taxonomy)
    else:
        from mtag.inspection.report import Inspector
        from mtag.library.session import SessionOptions, build_session
        from mtag.library.tagging import TagOptions

        session = build_session(
            SessionOptions(
                model=model,
                threads=threads,
                device=device,
                precision=precision,
                batch_size=batch_size,
                workers=0,  # decoding in-process: a few files, results in order, no process start-up
                window=window,
                hop=hop,
                taxonomy_path=taxonomy,
                tag=TagOptions(
                    mode=mode, dry_run=True, decision=decision_options(top, threshold, parents, moods, aggregate)
                ),
            )
        )
        found_all = Inspector(session, explain=explain, spectrogram=plot is not None).run(files)
    failed = 0
    for path, found in zip(files, found_all):
        if isinstance(found, MtagError):
            console.report_error(found)
            failed += 1
            continue
        if path in targets:
            _save_plot(found, targets[path], labels)
        if as_json:
            console.print_json_line(found.to_dict())
        else:
            from mtag.cli.inspect_view import print_inspection

            print_inspection(found, labels, plotted=targets.get(path))
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _stored(files: list[Path], db: Path | None, taxonomy: Path | None) -> Iterator[Inspection | MtagError]:
    """``--from-index``: each file's stored analysis, or the error saying why there is none."""
    from mtag.index import Index
    from mtag.inspection.report import from_index
    from mtag.taxonomy import load_taxonomy

    table = load_taxonomy(taxonomy)
    with Index.open(db, create=False) as index:
        for path in files:
            try:
                yield from_index(index, path, table)
            except MtagError as error:
                yield error


def _plot_targets(plot: Path | None, files: list[Path]) -> dict[Path, Path]:
    """Where each file's PNG goes: ``plot`` itself for one file, else ``plot/<name>.png`` per file.

    Checked before any analysis, so a wrong folder is known at once.
    """
    if plot is None:
        return {}
    if len(files) == 1 and not plot.is_dir():
        if not plot.parent.is_dir():
            raise UsageError("--plot: the folder does not exist", path=plot.parent, hint="create it or choose another")
        return {files[0]: plot}
    if not plot.is_dir():
        raise UsageError(
            "--plot must be a folder when several files are inspected", path=plot, hint="create the folder first"
        )
    targets: dict[Path, Path] = {}
    taken: set[str] = set()
    for path in files:
        name, n = f"{path.stem}.png", 1
        while name in taken:  # two songs of one name in different folders
            n += 1
            name = f"{path.stem}-{n}.png"
        taken.add(name)
        targets[path] = plot / name
    return targets


def _save_plot(inspection: Inspection, target: Path, labels: int) -> None:
    import numpy as np

    from mtag.inspection.decision import leading_labels
    from mtag.inspection.plot import save_plot

    image, covered = inspection.spectrogram or (np.zeros((0, 0), np.float32), 0.0)
    mean = inspection.mean
    rows = leading_labels(mean, inspection.labels, max(labels, PLOT_LABELS)) if mean is not None else []
    columns = [inspection.labels.index(label) for label in rows]
    taggram = (
        np.stack([s.scores for s in inspection.segments])[:, columns].T
        if inspection.segments
        else np.zeros((len(rows), 0))
    )
    save_plot(
        target,
        title=f"{inspection.path.name} ({inspection.model})",
        logmel=image,
        logmel_end=covered,
        mel_edges_hz=inspection.mel_edges_hz if inspection.mel_edges_hz is not None else np.zeros(0),
        labels=rows,
        taggram=taggram,
        segment_times=[(s.start, s.end) for s in inspection.segments],
        findings=inspection.findings,
        duration=inspection.duration,
    )
