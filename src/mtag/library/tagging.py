"""``mtag tag`` as a library: analyse a set of files, decide genres, write tags, record it all.

One :class:`TagSession` per process holds the loaded model, the engine and the
taxonomy; :meth:`TagSession.run` does one run over a list of files against an
open :class:`~mtag.index.Index`.  Per track, in this order:

1. the engine analyses it (skipped when the index says it is unchanged since
   an analysis with the same settings, unless ``force``);
2. the taxonomy turns the aggregated scores into genres (and moods);
3. the ``mode`` policy says what each field becomes;
4. the intended change is committed to the index *before* the file is
   touched, then the tags are written atomically, then the change is marked
   applied -- so ``mtag undo`` can restore a run even if it was killed between
   any two of these steps;
5. the track's analysis is committed in one transaction, with the file's size
   and mtime as mtag left them, so the next run skips it.

A dry run does steps 1-3 only: it writes neither files nor the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mtag.engine.analysis import Segment, TrackScores
from mtag.engine.inference import ANALYSED, FAILED, Engine, TrackOutcome
from mtag.errors import MtagError
from mtag.index import Index, TrackRecord
from mtag.library.policy import new_value
from mtag.nets.tagger import Tagger
from mtag.tags import FileState, file_state, read_tags, remove_stale_temp_files, write_tags
from mtag.taxonomy import DEFAULT_SEPARATOR, DEFAULT_THRESHOLD, GENRE, Choice, Taxonomy

# Report statuses beyond the engine's (too-short, silent, failed).
TAGGED = "tagged"  # genres written
KEPT = "kept"  # the file already had a genre and the mode is keep
UNCHANGED = "unchanged"  # the file already holds exactly the decided value
NO_GENRE = "no-genre"  # no genre reached the threshold: nothing written
SKIPPED = "skipped"  # unchanged since an earlier analysis with the same settings
WOULD_TAG = "would-tag"  # dry run: this is what would be written
MOOD = "mood"
#: Stored statuses of tracks that had scores and a decision (the ones a new decision can change).
DECIDED = frozenset({TAGGED, KEPT, UNCHANGED, NO_GENRE})


@dataclass(frozen=True)
class TagOptions:
    """Everything about a run that is not the list of files (recorded with the run)."""

    mode: str = "keep"
    top: int = 3
    threshold: float = DEFAULT_THRESHOLD
    parents: bool = False
    moods: bool = False
    separator: str = DEFAULT_SEPARATOR
    dry_run: bool = False
    force: bool = False


@dataclass
class TrackReport:
    """What happened to one file, for the progress display, the summary and ``--json``."""

    path: Path
    status: str
    genres: list[str] = field(default_factory=list)
    changes: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # field -> (old, new)
    error: str | None = None
    detail: str | None = None
    duration: float | None = None
    padded: bool = False
    reused: bool = False  # decided again from the index's stored scores, not analysed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        data["changes"] = {name: {"old": old, "new": new} for name, (old, new) in self.changes.items()}
        return data


@dataclass
class RunSummary:
    """The tally of a run, filled in as tracks finish."""

    run_id: int | None
    files: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    genres: Counter[str] = field(default_factory=Counter)
    failures: list[TrackReport] = field(default_factory=list)
    seconds: float = 0.0
    audio_seconds: float = 0.0
    windows: int = 0
    padded: int = 0  # shorter than one window: decided from repeated frames

    def add(self, report: TrackReport) -> None:
        self.counts[report.status] += 1
        self.padded += report.padded
        if report.status in (TAGGED, KEPT, UNCHANGED, WOULD_TAG):
            self.genres.update(report.genres)
        if report.status == FAILED:
            self.failures.append(report)
        if not report.reused:
            self.audio_seconds += report.duration or 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "files": self.files,
            "statuses": dict(self.counts),
            "genres": dict(self.genres.most_common()),
            "failed": [{"path": str(r.path), "error": r.error} for r in self.failures],
            "seconds": round(self.seconds, 3),
            "audio_seconds": round(self.audio_seconds, 3),
            "windows": self.windows,
            "padded": self.padded,
        }


def analysis_key(engine: Engine) -> str:
    """What makes two analyses of the same file interchangeable: model, precision, windows, sampling, aggregation."""
    plan, tagger = engine.plan, engine.tagger
    sampled = f"sample{engine.sample}" if engine.sample else "all"
    return f"{tagger.name}/{tagger.precision}/w{plan.window_frames}/h{plan.hop_frames}/{sampled}/{engine.aggregation}"


def parse_analysis_key(key: str) -> dict[str, Any]:
    """The parts of an :func:`analysis_key`: model, precision, window_frames, hop_frames, sample, aggregation.

    Model folders given by path may contain "/", so the fixed parts are taken from the right.
    """
    parts = key.rsplit("/", 5)
    if len(parts) != 6 or not parts[2].startswith("w") or not parts[3].startswith("h"):
        return {}
    model, precision, window, hop, sampled, aggregation = parts
    return {
        "model": model,
        "precision": precision,
        "window_frames": int(window[1:]),
        "hop_frames": int(hop[1:]),
        "sample": None if sampled == "all" else int(sampled.removeprefix("sample")),
        "aggregation": aggregation,
    }


def decision_key(options: TagOptions, taxonomy: Taxonomy) -> str:
    """What makes two decisions from the same scores the same: the deciding options and the genre table."""
    table = hashlib.sha256(repr((sorted(taxonomy.parents.items()), sorted(taxonomy.entries.items()))).encode())
    o = options
    flags = f"p{int(o.parents)}m{int(o.moods)}"
    return f"{o.mode}/top{o.top}/t{o.threshold:g}/{flags}/{o.separator!r}/{table.hexdigest()[:16]}"


class TagSession:
    """A loaded model, engine and taxonomy, ready for any number of runs."""

    def __init__(self, engine: Engine, taxonomy: Taxonomy, options: TagOptions) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.options = options
        self.labels = engine.tagger.labels
        self.key = analysis_key(engine)
        self.decision_key = decision_key(options, taxonomy)

    @property
    def tagger(self) -> Tagger:
        return self.engine.tagger

    def run_options(self) -> dict[str, Any]:
        """The run's settings as recorded in the index (what ``mtag runs`` shows)."""
        return {
            **asdict(self.options),
            "analysis": self.key,
            "decision": self.decision_key,
            "batch_size": self.engine.batch_size,
        }

    def run(
        self,
        files: Sequence[Path],
        index: Index | None,
        on_track: Callable[[TrackReport], None] = lambda report: None,
    ) -> RunSummary:
        """Tag ``files``; ``index`` may be None only for a dry run.

        The caller holds ``index.lock_for_run()``.  An interruption (Ctrl-C)
        propagates after the run is marked interrupted; every track finished
        before it is committed, so the next run continues where this one stopped.
        """
        if index is None and not self.options.dry_run:  # else tracks would be reported tagged, and nothing written
            raise ValueError("a run that writes tags needs an index (or TagOptions(dry_run=True))")
        started, windows_before = time.perf_counter(), self.engine.windows_scored  # the engine counts across runs
        recording = index is not None and not self.options.dry_run
        run_id = index.start_run(self.tagger.name, self.run_options()) if recording and index else None
        summary = RunSummary(run_id, files=len(files))
        try:
            for report in self._reports(files, index, run_id):
                summary.add(report)
                on_track(report)
        except BaseException:
            if index is not None and run_id is not None:
                summary.seconds = time.perf_counter() - started
                summary.windows = self.engine.windows_scored - windows_before
                # Best effort: the interruption is what the user must see; a run left "running"
                # is marked interrupted by the next start_run anyway.
                with contextlib.suppress(Exception):
                    index.finish_run(run_id, summary.to_dict(), status="interrupted")
            raise
        summary.seconds = time.perf_counter() - started
        summary.windows = self.engine.windows_scored - windows_before
        if index is not None and run_id is not None:
            index.finish_run(run_id, summary.to_dict())
        return summary

    def _reports(self, files: Sequence[Path], index: Index | None, run_id: int | None) -> Iterable[TrackReport]:
        if not self.options.dry_run:
            for folder in sorted({path.parent for path in files}):
                # Best effort: a copy left by a killed run is hidden and skipped; one that cannot go stays.
                with contextlib.suppress(MtagError, OSError):
                    remove_stale_temp_files(folder)
        todo: list[Path] = []
        states: dict[Path, FileState] = {}
        for path in files:
            try:
                states[path] = file_state(path)
            except OSError as error:
                yield TrackReport(path, FAILED, error=f"{path}: cannot read the file ({error.strerror})")
                continue
            state = states[path]
            if not self.options.force and index is not None and not self.options.dry_run:
                if index.is_current(path, state.size, state.mtime_ns, self.key):
                    stored = self._stored_outcome(index, path)
                    yield (
                        self._finish(stored, state, index, run_id, reused=True)
                        if stored
                        else TrackReport(path, SKIPPED)
                    )
                    continue
            todo.append(path)
        for outcome in self.engine.run(todo):
            yield self._finish(outcome, states[outcome.path], index, run_id)

    def _stored_outcome(self, index: Index, path: Path) -> TrackOutcome | None:
        """The stored analysis of a current track to decide again, or None when its decision stands.

        Only the decision settings changed (``--mode``, ``--threshold``, the
        genre table...): deciding again from the stored scores is instant,
        where analysing again would take the full time.
        """
        options = index.decided_with(path) or {}
        if options.get("decision") == self.decision_key:
            return None
        row = index.track(path)
        if row is None or row.status not in DECIDED or list(row.labels) != list(self.labels):
            return None
        segments = [Segment(s.start, s.end, s.scores, s.padding) for s in row.segments]
        duration = row.duration or 0.0
        result = TrackScores(path, self.tagger.name, list(self.labels), duration, segments)
        return TrackOutcome(-1, path, ANALYSED, duration, result=result, scores=row.scores)

    def _finish(
        self, outcome: TrackOutcome, state: FileState, index: Index | None, run_id: int | None, reused: bool = False
    ) -> TrackReport:
        """Decide, write and record one analysed (or failed) track."""
        report = TrackReport(
            outcome.path, outcome.status, duration=outcome.duration, padded=outcome.padded, reused=reused
        )
        if outcome.error is not None:
            report.error, report.detail = str(outcome.error), outcome.detail
        choices: dict[str, list[Choice]] = {}
        if outcome.status == ANALYSED and outcome.scores is not None:
            choices = self.decide(outcome.scores)
            report.genres = [choice.name for choice in choices[GENRE]]
            try:
                state = self._apply(report, choices, index, run_id) or state
            except MtagError as error:
                report.status, report.error = FAILED, str(error)
        if index is not None and run_id is not None:
            index.record_track(run_id, self._record(outcome, report, state))
        return report

    def preview(self, outcome: TrackOutcome) -> TrackReport:
        """What a dry run reports for ``outcome``: the decision and the change it would write (``mtag inspect``)."""
        if not self.options.dry_run:
            raise ValueError("preview needs a dry-run session: it must not write")
        return self._finish(outcome, file_state(outcome.path), None, None)

    def decide(self, scores: np.ndarray) -> dict[str, list[Choice]]:
        """Track scores -> the chosen genres (and, with ``moods``, moods), with the labels that carried them."""
        o = self.options
        kinds = [GENRE, MOOD] if o.moods else [GENRE]
        return {
            kind: self.taxonomy.decide(
                self.labels,
                scores,
                kind=kind,
                top=o.top,
                threshold=o.threshold,
                with_parents=o.parents and kind == GENRE,
            )
            for kind in kinds
        }

    def _apply(
        self, report: TrackReport, choices: dict[str, list[Choice]], index: Index | None, run_id: int | None
    ) -> FileState | None:
        """Plan the new field values, then (unless a dry run) write them; returns the file's new state."""
        path, o = report.path, self.options
        if not choices[GENRE]:  # no genre: the track is left as it is, moods included
            report.status = NO_GENRE
            return None
        planned: dict[str, tuple[list[str], list[str]]] = {}
        existing = read_tags(path)  # one parse for every field
        for kind, picked in choices.items():
            names = [choice.name for choice in picked]
            new = new_value(o.mode, existing[kind], names, o.separator, existing.names(kind))
            if new is not None:
                planned[kind] = (existing[kind], new)
        report.changes = planned
        if planned:  # the genre, or with --moods the mood alone
            report.status = WOULD_TAG if o.dry_run else TAGGED
        else:
            report.status = KEPT if o.mode == "keep" and any(v.strip() for v in existing[GENRE]) else UNCHANGED
        if o.dry_run or not planned or index is None or run_id is None:
            return None
        return self._write(path, planned, index, run_id)

    def _write(
        self, path: Path, planned: dict[str, tuple[list[str], list[str]]], index: Index, run_id: int
    ) -> FileState:
        """Intent first, then the file, then the confirmation: see the module docstring."""
        ids = [index.begin_tag_change(run_id, path, kind, old, new) for kind, (old, new) in planned.items()]
        try:
            state = write_tags(path, {kind: new for kind, (_, new) in planned.items()})
        except MtagError as error:
            for change_id in ids:
                index.fail_tag_change(change_id, str(error))
            raise
        for change_id in ids:
            index.complete_tag_change(change_id, state.size, state.mtime_ns)
        return state

    def _record(self, outcome: TrackOutcome, report: TrackReport, state: FileState) -> TrackRecord:
        result = outcome.result
        with_scores = result is not None and outcome.scores is not None
        entries = {label: self.taxonomy.entry(label) for label in self.labels}
        return TrackRecord(
            path=outcome.path,
            status=report.status,
            size=state.size,
            mtime_ns=state.mtime_ns,
            analysis_key=self.key,
            duration=outcome.duration or None,
            format=outcome.path.suffix.lower().lstrip(".") or None,  # the container, as a user names it
            error=report.error,
            genres=report.genres,
            labels=self.labels if with_scores else (),
            scores=outcome.scores if with_scores else None,
            kinds={label: entry.kind for label, entry in entries.items()},
            label_genres={label: entry.name for label, entry in entries.items() if entry.kind == GENRE},
            segments=result.segments if with_scores and result is not None else (),
        )
