"""``mtag tag``: analyse a library, write genres into the files, record it in the index."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

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
)
from mtag.cli.progress import RunProgress
from mtag.errors import EXIT_FAILED, EXIT_INTERRUPTED

if TYPE_CHECKING:
    from mtag.library.tagging import RunSummary, TrackReport


def tag_command(
    paths: Annotated[list[Path], typer.Argument(help="Audio files and folders to tag.", show_default=False)],
    model: ModelOption = DEFAULT_MODEL,
    top: TopOption = 3,
    threshold: ThresholdOption = None,
    mode: ModeOption = "keep",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show old -> new per file; write nothing.")] = False,
    separator: Annotated[str, typer.Option("--separator", help="Joins several genres in one tag value.")] = "; ",
    parents: ParentsOption = False,
    moods: MoodsOption = False,
    taxonomy: TaxonomyOption = None,
    aggregate: AggregateOption = "mean",
    window: WindowOption = None,
    hop: HopOption = None,
    sample: Annotated[
        Optional[int],
        typer.Option("--sample", min=1, help="Fast mode: analyse only N windows spread over each track."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Analyse again files the index says are unchanged.")] = False,
    db: DbOption = None,
    precision: PrecisionOption = "auto",
    device: DeviceOption = "auto",
    batch_size: BatchSizeOption = None,
    threads: ThreadsOption = None,
    workers: Annotated[
        Optional[int],
        typer.Option(
            "--workers", min=0, help="Decoding processes \\[default: none on 1-2 cores, else cores - 1; 0: none]."
        ),
    ] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Tag every audio file under PATHS with genres, and record the run in the index.

    Files analysed before with the same settings and unchanged since are skipped;
    'mtag undo' restores the tags a run changed.
    """
    from mtag.index import Index
    from mtag.library.discover import find_audio_files
    from mtag.library.session import build_session

    files = find_audio_files(paths)
    if not files:  # a folder of unsupported files, or the wrong folder: say so, load no model, record no run
        from mtag.audio.decode import SUPPORTED_EXTENSIONS

        names = ", ".join(sorted(ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS))
        console.report_problem(f"no audio files found in {', '.join(map(str, paths))} (mtag reads {names})")
        return  # nothing to do is not a failure (a nightly run over an empty inbox folder)
    from mtag.cpu import use_threads

    use_threads(threads)  # before the model loads: torch's pool is sized once it first runs
    session = build_session(
        model=model,
        device=device,
        precision=precision,
        batch_size=batch_size,
        workers=workers,
        files=len(files),
        window=window,
        hop=hop,
        sample=sample,
        aggregation=aggregate,
        taxonomy_path=taxonomy,
        mode=mode,
        top=top,
        threshold=threshold,
        parents=parents,
        moods=moods,
        separator=separator,
        dry_run=dry_run,
        force=force,
    )
    unknown = session.taxonomy.unknown_labels(session.labels)
    if unknown:  # a user's table made for another model, or with a label misspelt
        listed = ", ".join(repr(label) for label in unknown[:4]) + (", ..." if len(unknown) > 4 else "")
        console.report_problem(
            f"{session.taxonomy.path}: does not list {len(unknown)} labels of {model} ({listed}); "
            "they are never written"
        )
    reports: list[TrackReport] = []  # kept only for --json: a big library's reports need not sit in memory
    done = 0

    def record(report: TrackReport) -> None:
        nonlocal done
        done += 1
        if as_json:
            reports.append(report)
        if report.error:
            console.report_problem(report.error, report.detail)
        if dry_run and report.changes and not as_json:
            _print_change(report)

    try:
        if dry_run:
            with RunProgress(len(files), session.engine) as on_track:
                summary = session.run(files, None, lambda r: (record(r), on_track(r)))
        else:
            with Index.open(db) as index, index.lock_for_run(), RunProgress(len(files), session.engine) as on_track:
                summary = session.run(files, index, lambda r: (record(r), on_track(r)))
    except KeyboardInterrupt:
        again = "" if dry_run else "; run the same command again to continue where it stopped"
        console.err.print(f"mtag: interrupted after {done} of {len(files)} files{again}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if as_json:
        console.print_json_line({**summary.to_dict(), "tracks": [r.to_dict() for r in reports]})
    else:
        _print_summary(summary, dry_run)
    if summary.failures:
        raise typer.Exit(EXIT_FAILED)


def _print_change(report: TrackReport) -> None:
    for field, (old, new) in report.changes.items():
        before = " / ".join(old) if old else "(none)"
        console.out.print(
            f"{escape(str(report.path))}: {field} {escape(before)} -> {escape(' / '.join(new))}", soft_wrap=True
        )


def _print_summary(summary: RunSummary, dry_run: bool) -> None:
    # The heading is a line of its own: as the title of this narrow table it would wrap.
    console.out.print("dry run: nothing written" if dry_run else f"run {summary.run_id}", style="bold")
    table = Table(show_edge=False)
    table.add_column("status")
    table.add_column("files", justify="right")
    for status, count in summary.counts.most_common():
        table.add_row(status, str(count))
    console.out.print(table)
    if summary.padded:
        console.out.print(f"{summary.padded} shorter than one window: decided from its repeated frames", soft_wrap=True)
    if summary.genres:
        leading = ", ".join(f"{genre} {count}" for genre, count in summary.genres.most_common(8))
        console.out.print(f"most frequent genres: {escape(leading)}", soft_wrap=True)
    analysed = summary.seconds and summary.audio_seconds  # nothing analysed (all skipped): no speed to tell
    speed = f"{summary.audio_seconds / summary.seconds:.0f}x realtime, " if analysed else ""
    console.out.print(
        f"{summary.files} files in {summary.seconds:.1f} s ({speed}{summary.windows} windows)", soft_wrap=True
    )
    for report in summary.failures:
        console.out.print(f"[red]failed[/]: {escape(report.error or str(report.path))}", soft_wrap=True)
