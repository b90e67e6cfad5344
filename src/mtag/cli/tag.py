"""``mtag tag``: analyse a library, write genres into the files, record it in the index."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Sequence
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
    decision_options,
)
from mtag.cli.progress import RunProgress
from mtag.errors import EXIT_FAILED, EXIT_INTERRUPTED, MtagError
from mtag.text import printable

if TYPE_CHECKING:
    from mtag.library.tagging import RunSummary, TrackReport
    from mtag.taxonomy import Taxonomy


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
            "--workers", min=0, help="Decoding processes \\[default: cores - 1; 0: decode in the main process]."
        ),
    ] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Tag every audio file under PATHS with genres, and record the run in the index.

    Files analysed before with the same settings and unchanged since are skipped;
    'mtag undo' restores the tags a run changed.
    """
    from mtag.index import Index, default_index_path
    from mtag.library.discover import discover
    from mtag.library.session import SessionOptions, build_session
    from mtag.library.tagging import TagOptions

    found = discover(paths)
    files = found.files
    if not files:  # a folder of unsupported files, or the wrong folder: say so, load no model, record no run
        from mtag.audio.decode import SUPPORTED_EXTENSIONS

        names = ", ".join(sorted(ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS))
        shown = ", ".join(printable(str(path)) for path in paths)
        console.report_problem(f"no audio files found in {shown} (mtag reads {names}){_left_out(found.special)}")
        return  # nothing to do is not a failure (a nightly run over an empty inbox folder)
    session = build_session(
        SessionOptions(
            model=model,
            threads=threads,
            device=device,
            precision=precision,
            batch_size=batch_size,
            workers=workers,
            files=len(files),
            largest_file_bytes=_largest_size(files),
            window=window,
            hop=hop,
            sample=sample,
            taxonomy_path=taxonomy,
            tag=TagOptions(
                mode=mode,
                separator=separator,
                dry_run=dry_run,
                force=force,
                decision=decision_options(top, threshold, parents, moods, aggregate),
            ),
        )
    )
    _check_table(session.taxonomy, session.labels, model)
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
        if dry_run:  # reads the index where there is one (stored analyses make the preview instant), never writes
            location = default_index_path() if db is None else db.expanduser()
            with contextlib.ExitStack() as stack:
                index = stack.enter_context(Index.open(location, create=False)) if location.is_file() else None
                on_track = stack.enter_context(RunProgress(len(files), session.engine))
                summary = session.run(files, index, _in_turn(record, on_track))
        else:
            with Index.open(db) as index, index.lock_for_run(), RunProgress(len(files), session.engine) as on_track:
                summary = session.run(files, index, _in_turn(record, on_track))
    except KeyboardInterrupt:
        again = "" if dry_run else "; run the same command again to continue where it stopped"
        console.err.print(f"mtag: interrupted after {done} of {len(files)} files{again}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if as_json:
        special = dict(sorted(found.special.items()))
        console.print_json_line(
            {**summary.to_dict(), "special_files": special, "tracks": [r.to_dict() for r in reports]}
        )
    else:
        _print_summary(summary, dry_run)
        if found.special:
            console.out.print(_left_out(found.special).removeprefix("; "), soft_wrap=True)
    if summary.failures:
        raise typer.Exit(EXIT_FAILED)


def _in_turn(*callbacks: Callable[[TrackReport], None]) -> Callable[[TrackReport], None]:
    """One per-track callback for the session that calls each of ``callbacks`` in order."""

    def call(report: TrackReport) -> None:
        for callback in callbacks:
            callback(report)

    return call


def _left_out(special: Counter[str]) -> str:
    """The "; left out 2 FIFOs, ..." clause for the special files discovery passed over, else ""."""
    if not special:
        return ""
    kinds = ", ".join(f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in sorted(special.items()))
    return f"; left out {kinds} named like audio files (mtag reads regular files only)"


def _check_table(taxonomy: Taxonomy, labels: Sequence[str], model: str) -> None:
    """Warn, one line each, about a genre table that does not fit the models: it is the user's to fix."""
    unknown = taxonomy.unknown_labels(labels)
    if unknown:  # a user's table made for another model, or with a label misspelt
        console.report_problem(
            f"{taxonomy.path}: does not list {len(unknown)} labels of {model} ({_listed(unknown)}); "
            "they are never written"
        )
    if taxonomy.path is None:  # the built-in table maps every shipped model's labels
        return
    from mtag.catalog import list_models

    try:
        known = {label for card in list_models() for label in card.labels}
    except MtagError:  # a broken model folder is reported where models are used, not here
        return
    foreign = taxonomy.foreign_labels(known | set(labels))
    if foreign:
        console.report_problem(
            f"{taxonomy.path}: maps {len(foreign)} labels that no installed model has ({_listed(foreign)}); "
            "they never match: check their spelling against 'mtag models show NAME'"
        )


def _listed(labels: Sequence[str]) -> str:
    return ", ".join(repr(label) for label in labels[:4]) + (", ..." if len(labels) > 4 else "")


def _largest_size(files: Sequence[Path]) -> int:
    """The biggest file's size in bytes (an unreadable one counts 0: it fails later, with its reason)."""
    sizes = [0]
    for path in files:
        with contextlib.suppress(OSError):
            sizes.append(path.stat().st_size)
    return max(sizes)


def _print_change(report: TrackReport) -> None:
    for field, (old, new) in report.changes.items():
        before = " / ".join(old) if old else "(none)"
        console.out.print(
            f"{console.shown(report.path)}: {field} {escape(before)} -> {escape(' / '.join(new))}", soft_wrap=True
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
        console.out.print(f"[red]failed[/]: {escape(printable(report.error or str(report.path)))}", soft_wrap=True)
