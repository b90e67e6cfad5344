"""``mtag runs`` (what earlier runs did) and ``mtag undo`` (put a run's tag changes back)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from mtag.cli import console
from mtag.cli.options import DbOption, JsonOption, VerboseOption
from mtag.errors import EXIT_FAILED


def runs_command(
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to list, newest first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """List the latest runs recorded in the index."""
    from mtag.index import Index

    with Index.open(db, create=False) as index:
        runs = index.runs(limit)
    if as_json:
        for run in runs:
            console.print_json_line(
                {
                    "id": run.id,
                    "started": run.started,
                    "finished": run.finished,
                    "status": run.status,
                    "model": run.model,
                    "options": run.options,
                    "mtag_version": run.mtag_version,
                    "summary": run.summary,
                }
            )
        return
    rows = []
    for run in runs:
        summary = run.summary or {}
        statuses = ", ".join(f"{name} {count}" for name, count in (summary.get("statuses") or {}).items())
        rows.append((str(run.id), run.started[:19], run.status, run.model, str(summary.get("files", "")), statuses))
    console.out.print(_runs_table(rows))


def _runs_table(rows: Sequence[tuple[str, ...]]) -> Table:
    """The runs as a table that fits 80 columns (a pipe, a small terminal) without cutting a value short.

    Rich shrinks every column of a table too wide for the console, cutting
    the start time to "2026-11-30T07:1…".  The short columns (id, start time,
    status, file count) are never wrapped nor shrunk; the model (a folder path
    can be long) and the statuses wrap onto more lines instead.
    """
    table = Table(show_edge=False)
    for position, column in enumerate(("run", "started", "status", "model", "files", "statuses")):
        widest = max((len(row[position]) for row in rows), default=0)
        if column in ("model", "statuses"):
            table.add_column(column, overflow="fold", min_width=len(column) + 2)
        else:
            table.add_column(column, no_wrap=True, min_width=max(widest, len(column)))
    for row in rows:
        table.add_row(*row)
    return table


def undo_command(
    run: Annotated[
        Optional[int], typer.Argument(help="Run to undo \\[default: the latest with changes].", show_default=False)
    ] = None,
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be restored; write nothing.")] = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Restore the tag values a run replaced.

    Files whose tags were edited since the run are reported and left alone.
    """
    from mtag.index import Index
    from mtag.library.undo import ALREADY, CONFLICT, FAILED, RESTORED, UndoReport, undo_run

    def show(report: UndoReport) -> None:
        if report.error:
            console.report_problem(report.error)
        elif not as_json and (report.outcome == RESTORED):
            before = " / ".join(report.new)
            after = " / ".join(report.old) if report.old else "(none)"
            verb = "would restore" if dry_run else "restored"
            console.out.print(
                f"{console.shown(report.path)}: {verb} {report.field} {escape(before)} -> {escape(after)}",
                soft_wrap=True,
            )

    with Index.open(db, create=False) as index, index.lock_for_run():
        summary = undo_run(index, run, dry_run=dry_run, on_change=show)
    counts = {outcome: summary.count(outcome) for outcome in (RESTORED, ALREADY, CONFLICT, FAILED)}
    if as_json:
        console.print_json_line(
            {
                "run": summary.run_id,
                "dry_run": dry_run,
                "counts": counts,
                "changes": [
                    {
                        "path": str(r.path),
                        "field": r.field,
                        "outcome": r.outcome,
                        "old": r.old,
                        "new": r.new,
                        "error": r.error,
                    }
                    for r in summary.reports
                ],
            }
        )
    else:
        heading = f"run {summary.run_id} (dry run: nothing written)" if dry_run else f"run {summary.run_id}"
        console.out.print(
            f"{heading}: {counts[RESTORED]} {'would be restored' if dry_run else 'restored'}, "
            f"{counts['already-old']} already as before, "
            f"{counts[CONFLICT]} changed since (left alone), {counts[FAILED]} failed",
            soft_wrap=True,
        )
    if counts[FAILED] or counts[CONFLICT]:
        raise typer.Exit(EXIT_FAILED)
