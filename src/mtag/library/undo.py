"""``mtag undo``: put back the tag values a run replaced, without clobbering later edits.

For each change of the run, newest first, the field's current value decides
(the contract of :meth:`mtag.index.Index.tag_changes`): still what the run
wrote -> restore the old value; already the old value -> nothing to do (a
write that never happened because the run was killed); anything else -> the
file was edited since, so it is reported as a conflict and left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mtag.errors import MtagError, UsageError
from mtag.index import Index
from mtag.tags import read_field, write_tags

RESTORED = "restored"
ALREADY = "already-old"  # the file holds the old value: nothing to write
CONFLICT = "conflict"  # changed since the run: left alone
FAILED = "failed"


@dataclass
class UndoReport:
    path: Path
    field: str
    outcome: str
    old: list[str]
    new: list[str]
    error: str | None = None


@dataclass
class UndoSummary:
    run_id: int
    reports: list[UndoReport] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(report.outcome == outcome for report in self.reports)


def undo_run(
    index: Index,
    run_id: int | None = None,
    *,
    dry_run: bool = False,
    on_change: Callable[[UndoReport], None] = lambda report: None,
) -> UndoSummary:
    """Undo ``run_id`` (default: the latest run with changes left to undo); the caller holds the run lock."""
    if run_id is None:
        run_id = index.last_run_id(with_changes=True)
        if run_id is None:
            raise UsageError("no run has tag changes left to undo", hint="see 'mtag runs'")
    elif index.run(run_id) is None:
        raise UsageError(f"there is no run {run_id} in the index", path=index.path, hint="see 'mtag runs'")
    changes = index.tag_changes(run_id)
    if not changes:  # a run that only skipped files, or one undone before: its status stays true
        raise UsageError(f"run {run_id} has no tag changes left to undo", hint="see 'mtag runs'")
    summary = UndoSummary(run_id)
    for change in reversed(changes):
        report = _undo_change(
            index, change.id, Path(change.path), change.field, change.old_value, change.new_value, dry_run
        )
        summary.reports.append(report)
        on_change(report)
    if not dry_run:
        index.mark_run(
            run_id, "undone" if not summary.count(CONFLICT) and not summary.count(FAILED) else "partly undone"
        )
    return summary


def _undo_change(
    index: Index, change_id: int, path: Path, field_name: str, old: list[str], new: list[str], dry_run: bool
) -> UndoReport:
    report = UndoReport(path, field_name, RESTORED, old, new)
    try:
        current = read_field(path, field_name)
        if current == old:
            report.outcome = ALREADY
        elif current != new:
            report.outcome = CONFLICT
            report.error = f"{path}: {field_name} was changed since the run; left as it is"
        elif not dry_run:
            write_tags(path, {field_name: old})
    except MtagError as error:
        report.outcome, report.error = FAILED, str(error)
    if not dry_run and report.outcome != FAILED:
        index.mark_change(change_id, "conflict" if report.outcome == CONFLICT else "undone")
    return report
