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

A dry run does steps 1-3 only: it writes neither files nor the index.  It
reads the index when given one: a track analysed before with the same settings
and unchanged since is decided again from its stored segments, so previewing
``--mode replace`` over an analysed library takes seconds, not the analysis.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mtag.catalog import find_model
from mtag.decision import Decider, DecisionOptions, TrackDecision
from mtag.engine.inference import Engine
from mtag.engine.results import ANALYSED, FAILED, Segment, TrackOutcome, TrackScores
from mtag.errors import MtagError
from mtag.index import Index, TrackRecord
from mtag.library.policy import new_value
from mtag.nets.tagger import Tagger
from mtag.tags import FileState, file_state, read_tags, remove_stale_temp_files, write_tags
from mtag.taxonomy import DEFAULT_SEPARATOR, GENRE, Taxonomy

# Report statuses beyond the engine's (too-short, silent, failed).
TAGGED = "tagged"  # genres written
KEPT = "kept"  # the file already had a genre and the mode is keep
UNCHANGED = "unchanged"  # the file already holds exactly the decided value
NO_GENRE = "no-genre"  # no genre reached the threshold: nothing written
SKIPPED = "skipped"  # unchanged since an earlier analysis with the same settings
WOULD_TAG = "would-tag"  # dry run: this is what would be written
#: Stored statuses of tracks that had scores and a decision (the ones a new decision can change).
DECIDED = frozenset({TAGGED, KEPT, UNCHANGED, NO_GENRE})


@dataclass(frozen=True)
class TagOptions:
    """Everything about a run that is not the model or the list of files (recorded with the run)."""

    mode: str = "keep"
    separator: str = DEFAULT_SEPARATOR
    dry_run: bool = False
    force: bool = False
    decision: DecisionOptions = field(default_factory=DecisionOptions)

    def recorded(self) -> dict[str, Any]:
        """The options as a run records them: one flat object (``mtag runs --json`` shows it)."""
        return {**asdict(self.decision), "mode": self.mode, "separator": self.separator, "force": self.force}


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
    decision: TrackDecision | None = field(default=None, repr=False)  # scores and choices, for inspect

    def to_dict(self) -> dict[str, Any]:
        # Field by field, not asdict(): that would deep-copy the decision's arrays only to drop them.
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "decision"}
        data["genres"] = list(self.genres)
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
    """What makes two analyses of the same file interchangeable: the model's weights, precision, windows, sampling.

    The weights' digest is in it, so a model retrained under the same name is
    never taken for the old one.  The aggregation is not: it is part of the
    decision, taken again from the stored segments.
    """
    plan, tagger = engine.plan, engine.tagger
    sampled = f"sample{engine.sample}" if engine.sample else "all"
    return (
        f"{tagger.name}@{tagger.card.digest}/{tagger.precision}/sr{plan.sample_rate}/w{plan.window}/h{plan.hop}/"
        f"{sampled}"
    )


@dataclass(frozen=True)
class AnalysisKey:
    """The parts of an :func:`analysis_key`, as far as a stored key tells them."""

    model: str
    digest: str | None  # None for keys written before the weights' digest was part of them
    precision: str
    window: float | None  # seconds
    hop: float | None
    sample: int | None
    aggregation: str | None  # keys written before the aggregation moved to the decision carry it


def parse_analysis_key(key: str) -> AnalysisKey | None:
    """Read a stored analysis key, the current form or the one mtag 0.3 wrote; None when it is neither.

    Old keys (``musicnn-msd/fp32/w187/h187/all/mean``: no weights digest, the
    window in STFT frames) are never current, so tracks analysed by mtag 0.3
    are analysed again once; they stay readable for ``inspect --from-index``
    and ``undo``.  Model folders given by path may contain "/", so the fixed
    parts are taken from the right.
    """
    current = key.rsplit("/", 5)
    if len(current) == 6 and current[2].startswith("sr") and current[3].startswith("w") and "@" in current[0]:
        model, precision, rate, window, hop, sampled = current
        name, _, digest = model.rpartition("@")
        sample_rate = int(rate[2:])
        return AnalysisKey(
            name, digest, precision, int(window[1:]) / sample_rate, int(hop[1:]) / sample_rate, _sample(sampled), None
        )
    old = key.rsplit("/", 5)
    if len(old) == 6 and old[2].startswith("w") and old[3].startswith("h"):
        model, precision, window, hop, sampled, aggregation = old
        frame = _legacy_frame_seconds(model)
        return AnalysisKey(
            model,
            None,
            precision,
            None if frame is None else int(window[1:]) * frame,
            None if frame is None else int(hop[1:]) * frame,
            _sample(sampled),
            aggregation,
        )
    return None


def _sample(part: str) -> int | None:
    return None if part == "all" else int(part.removeprefix("sample"))


def _legacy_frame_seconds(model: str) -> float | None:
    """The STFT frame of a model named in an old key, from its card; None if the model is gone."""
    try:
        frontend = find_model(model).frontend
    except MtagError:
        return None
    return frontend.framing.hop / frontend.sample_rate


def decision_key(options: TagOptions, taxonomy: Taxonomy) -> str:
    """What makes two decisions from the same segments the same: the deciding options and the genre table."""
    table = hashlib.sha256(repr((sorted(taxonomy.parents.items()), sorted(taxonomy.entries.items()))).encode())
    d = options.decision
    flags = f"p{int(d.parents)}m{int(d.moods)}"
    table_digest = table.hexdigest()[:16]
    return f"{options.mode}/top{d.top}/t{d.threshold:g}/{flags}/{d.aggregation}/{options.separator!r}/{table_digest}"


class TagSession:
    """A loaded model, engine and taxonomy, ready for any number of runs."""

    def __init__(self, engine: Engine, taxonomy: Taxonomy, options: TagOptions) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.options = options
        self.labels = engine.tagger.labels
        self.decider = Decider(taxonomy, self.labels, options.decision)
        self.key = analysis_key(engine)
        self.decision_key = decision_key(options, taxonomy)

    @property
    def tagger(self) -> Tagger:
        return self.engine.tagger

    def run_options(self) -> dict[str, Any]:
        """The run's settings as recorded in the index (what ``mtag runs`` shows)."""
        plan = self.engine.plan
        return {
            **self.options.recorded(),
            "analysis": self.key,
            "decision": self.decision_key,
            "window": plan.window / plan.sample_rate,
            "hop": plan.hop / plan.sample_rate,
            "batch_size": self.engine.batch_size,
        }

    def run(
        self,
        files: Sequence[Path],
        index: Index | None,
        on_track: Callable[[TrackReport], None] = lambda report: None,
    ) -> RunSummary:
        """Tag ``files``; ``index`` may be None only for a dry run (which only reads an index it is given).

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
            if not self.options.force and index is not None:
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

        Only the decision settings changed (``--mode``, ``--threshold``,
        ``--aggregate``, the genre table...): deciding again from the stored
        segments is instant, where analysing again would take the full time,
        and gives what a fresh analysis would.  A dry run always decides again:
        it shows the decision rather than "skipped".
        """
        options = index.decided_with(path) or {}
        if options.get("decision") == self.decision_key and not self.options.dry_run:
            return None
        row = index.track(path)
        if row is None or row.status not in DECIDED or list(row.labels) != list(self.labels) or not row.segments:
            return None
        segments = [Segment(s.start, s.end, s.scores, s.padding) for s in row.segments]
        duration = row.duration or 0.0
        result = TrackScores(path, self.tagger.name, list(self.labels), duration, segments)
        return TrackOutcome(-1, path, ANALYSED, duration, result=result)

    def _finish(
        self, outcome: TrackOutcome, state: FileState, index: Index | None, run_id: int | None, reused: bool = False
    ) -> TrackReport:
        """Decide, write and record one analysed (or failed) track."""
        report = TrackReport(
            outcome.path, outcome.status, duration=outcome.duration, padded=outcome.padded, reused=reused
        )
        if outcome.error is not None:
            report.error, report.detail = str(outcome.error), outcome.detail
        if outcome.status == ANALYSED and outcome.result is not None:
            report.decision = self.decider.decide(outcome.result.segments)
            report.genres = [choice.name for choice in report.decision.genres]
            try:
                state = self._apply(report, report.decision, index, run_id) or state
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

    def _apply(
        self, report: TrackReport, decision: TrackDecision, index: Index | None, run_id: int | None
    ) -> FileState | None:
        """Plan the new field values, then (unless a dry run) write them; returns the file's new state."""
        path, o = report.path, self.options
        if not decision.genres:  # no genre: the track is left as it is, moods included
            report.status = NO_GENRE
            return None
        planned: dict[str, tuple[list[str], list[str]]] = {}
        existing = read_tags(path)  # one parse for every field
        for kind, picked in decision.choices.items():
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
        scores = None
        if report.decision is not None:
            scores = report.decision.scores
        elif result is not None:  # silent: no genre, but the scores are kept for inspect
            scores = self.decider.track_scores(result.segments)
        with_scores = result is not None and scores is not None
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
            scores=scores if with_scores else None,
            kinds={label: entry.kind for label, entry in entries.items()},
            label_genres={label: entry.name for label, entry in entries.items() if entry.kind == GENRE},
            segments=result.segments if with_scores and result is not None else (),
        )
