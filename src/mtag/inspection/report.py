"""``mtag inspect`` as a library: one :class:`Inspection` per file, from a fresh analysis or from the index.

An inspection runs the file through the same :class:`~mtag.library.tagging.TagSession`
``mtag tag`` uses (a dry-run one), so the decision it shows is the decision a
run with the same options takes; it adds what a run does not keep: the
signal measurements, the diagnostics, and on request the occlusion
explanation and the spectrogram for a plot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mtag.audio.decode import AudioInfo, probe
from mtag.cards import MelSpec
from mtag.catalog import find_model
from mtag.decision import Decider, DecisionOptions, TrackDecision
from mtag.engine.results import ANALYSED, FAILED, Segment, TrackOutcome
from mtag.errors import AudioError, MtagError, UsageError
from mtag.index import Index
from mtag.inspection.decision import Decision, provenance
from mtag.inspection.explain import Explanation, Occlusion
from mtag.inspection.findings import Finding
from mtag.inspection.genres import GenreView
from mtag.inspection.replay import SpectrogramStrip
from mtag.inspection.rules import RULES, SIGNAL_RULES, Evidence, diagnose
from mtag.inspection.signal import SignalStats, measure_signal
from mtag.library.tagging import TagSession, parse_analysis_key
from mtag.nets.melspec import mel_edges
from mtag.tags import TagValues, read_tags
from mtag.taxonomy import Taxonomy


@dataclass
class Inspection:
    """Everything ``mtag inspect`` shows about one file."""

    path: Path
    model: str
    labels: list[str]
    status: str  # the engine's: analysed, silent, too-short
    duration: float
    window_seconds: float
    hop_seconds: float
    segments: list[Segment]
    decision: Decision
    findings: list[Finding]
    info: AudioInfo | None = None  # None when the file is gone (from the index)
    tags: TagValues | None = None  # None when unreadable
    unchecked: list[str] = field(default_factory=list)  # rules not evaluated, and why they could not be
    explanation: list[Explanation] | None = None
    spectrogram: tuple[np.ndarray, float] | None = None  # pooled log-mel (columns, mels), seconds covered
    mel_edges_hz: np.ndarray | None = None  # the model's mel filter edges, for a plot's frequency axis
    source: dict[str, Any] = field(default_factory=lambda: {"kind": "analysis"})

    @property
    def mean(self) -> np.ndarray | None:
        """The mean over segments (the first inspect's "mean"); None without segments."""
        return np.mean([s.scores for s in self.segments], axis=0) if self.segments else None

    @property
    def existing_genres(self) -> list[str]:
        return self.tags.genre_names() if self.tags else []

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``mtag inspect --json`` (see README): the first inspect's keys, and more."""
        mean = self.mean
        info = self.info
        return {
            "file": str(self.path),
            "model": self.model,
            "duration": round(self.duration, 3),
            "labels": list(self.labels),
            "segments": _segment_dicts(self.segments),
            "mean": None if mean is None else [float(x) for x in mean],
            "status": self.status,
            "window": round(self.window_seconds, 3),
            "hop": round(self.hop_seconds, 3),
            "info": None
            if info is None
            else {
                "container": info.container,
                "codec": info.codec,
                "sample_rate": info.sample_rate,
                "channels": info.channels,
                "bit_rate": info.bit_rate,
            },
            "tags": None if self.tags is None else {"format": self.tags.format, **self.tags.fields},
            "decision": self.decision.to_dict(),
            "diagnostics": [finding.to_dict() for finding in self.findings],
            "unchecked": list(self.unchecked),
            "explanation": None if self.explanation is None else [e.to_dict() for e in self.explanation],
            "source": dict(self.source),
        }


def _segment_dicts(segments: Iterable[Segment]) -> list[dict[str, Any]]:
    """Segments as ``mtag inspect --json`` writes them (times in seconds, scores in label order)."""
    return [
        {
            "start": round(segment.start, 3),
            "end": round(segment.end, 3),
            "padding": segment.padding,
            "scores": [float(score) for score in segment.scores],
        }
        for segment in segments
    ]


def _tags(path: Path) -> TagValues | None:
    """The file's tags, or None where mutagen cannot read them (the audio may still decode)."""
    try:
        return read_tags(path)
    except MtagError:
        return None


class Inspector:
    """Inspects files with one loaded session; construct once per process."""

    def __init__(self, session: TagSession, *, explain: bool = False, spectrogram: bool = False) -> None:
        if not session.options.dry_run:
            raise ValueError("inspect needs a dry-run session: it must not write")
        frontend = session.tagger.card.frontend
        self.mel = frontend if isinstance(frontend, MelSpec) and frontend.mel_bands else None
        if (explain or spectrogram) and self.mel is None:
            raise UsageError(
                f"--explain and --plot show mel bands, and model {session.tagger.name} hears {frontend.kind}",
                hint="leave them out, or inspect with a log-mel model",
            )
        self.session = session
        self.explain = explain
        self.spectrogram = spectrogram
        self.genres = GenreView.of(session.taxonomy, session.labels)
        plan = session.engine.plan
        self.window_seconds = plan.window / plan.sample_rate
        self.hop_seconds = plan.hop / plan.sample_rate

    def run(self, paths: Iterable[Path]) -> Iterator[Inspection | MtagError]:
        """One inspection (or the error that stopped it) per path, in the order given."""
        paths = [Path(path) for path in paths]
        waiting: dict[int, Inspection | MtagError] = {}
        turn = 0
        for outcome in self.session.engine.run(paths):
            waiting[outcome.key] = self._inspect(outcome)
            while turn in waiting:
                yield waiting.pop(turn)
                turn += 1

    def _inspect(self, outcome: TrackOutcome) -> Inspection | MtagError:
        if outcome.status == FAILED:
            return outcome.error or AudioError("failed", path=outcome.path)
        try:
            info = probe(outcome.path)
            signal = measure_signal(outcome.path)
            return self._build(outcome, info, signal)
        except MtagError as error:
            return error

    def _build(self, outcome: TrackOutcome, info: AudioInfo, signal: SignalStats) -> Inspection:
        session, path = self.session, outcome.path
        segments = outcome.result.segments if outcome.result else []
        report = session.preview(outcome)  # the decision, taken once, as mtag tag takes it
        options = session.decider.options
        decision = _decision_view(report.status, report.decision, session.decider, segments, session.options.mode)
        decision.changes = report.changes
        decision.error = report.error
        tags = _tags(path)
        evidence = Evidence(
            status=outcome.status,
            duration=outcome.duration,
            window_seconds=self.window_seconds,
            threshold=options.threshold,
            genres=self.genres,
            segments=segments,
            track_scores=_track_scores(report.decision, session.decider, segments),
            chosen=report.decision.genres if report.decision else [],
            signal=signal,
            existing_genres=tags.genre_names() if tags else None,
        )
        inspection = Inspection(
            path=path,
            model=session.tagger.name,
            labels=list(session.labels),
            status=outcome.status,
            duration=outcome.duration,
            window_seconds=self.window_seconds,
            hop_seconds=self.hop_seconds,
            segments=list(segments),
            decision=decision,
            findings=diagnose(evidence),
            info=info,
            tags=tags,
            mel_edges_hz=None if self.mel is None else mel_edges(self.mel),
        )
        if segments and (self.explain or self.spectrogram):
            self._replay(inspection, report.decision)
        return inspection

    def _replay(self, inspection: Inspection, decision: TrackDecision | None) -> None:
        """The second pass: occlusion scores and/or the spectrogram strip, batch by batch."""
        engine = self.session.engine
        occlusion = Occlusion(engine.tagger, self.genres, engine.plan, self.session.decider) if self.explain else None
        strip = SpectrogramStrip(engine.plan, inspection.duration) if self.spectrogram else None
        for windows, features in engine.feature_batches(inspection.path):
            if occlusion is not None:
                occlusion.add(windows, features, engine.batch_size)
            if strip is not None:
                strip.add(windows, features)
        if occlusion is not None:
            inspection.explanation = occlusion.explain(decision.genres if decision else [])
        if strip is not None:
            inspection.spectrogram = strip.image()


def _track_scores(decision: TrackDecision | None, decider: Decider, segments: list[Segment]):
    """The track's scores: the decision's, else (a silent track) the aggregate of its segments, else None."""
    if decision is not None:
        return decision.scores
    return decider.track_scores(segments) if segments else None


def _decision_view(
    status: str, decision: TrackDecision | None, decider: Decider, segments: list[Segment], mode: str
) -> Decision:
    """What inspect shows of a decision: the options it was taken with and each chosen name's provenance."""
    options = decider.options
    view = Decision(
        status=status, aggregation=options.aggregation, threshold=options.threshold, top=options.top, mode=mode
    )
    if decision is not None:
        view.chosen = [
            provenance(choice, decider.labels, decision.scores, segments, options.threshold)
            for choice in decision.chosen()
        ]
    return view


def from_index(index: Index, path: Path, taxonomy: Taxonomy) -> Inspection:
    """What the last ``mtag tag`` run stored for ``path``, with the diagnostics that need no audio.

    The decision is taken again from the stored segments with the options the
    run recorded, through the same :class:`~mtag.decision.Decider` as a run.
    """
    row = index.track(path)
    if row is None:
        raise MtagError("not in the index", path=path, hint=f"run 'mtag tag' on it first (index: {index.path})")
    if row.status == FAILED:
        reason = (row.error or "unknown error").removeprefix(f"{row.path}: ")  # stored with the path in front
        raise MtagError(f"the last run could not analyse it: {reason}", path=path, hint="run 'mtag inspect' on it")
    recorded = index.decided_with(path) or {}
    key = parse_analysis_key(row.analysis_key or recorded.get("analysis", ""))
    options = DecisionOptions.from_run(recorded, key.aggregation if key else None)
    decider = Decider(_model_taxonomy(taxonomy, key.model if key else None), row.labels, options)
    segments = [Segment(s.start, s.end, s.scores, s.padding) for s in row.segments]
    status = "too-short" if row.status == "too-short" else "silent" if row.status == "silent" else ANALYSED
    decision = decider.decide(segments) if segments and status == ANALYSED else None
    if decision is not None:  # show the genres the run stored, traced to their labels
        decision = TrackDecision(
            decision.scores,
            {kind: [c for c in picked if c.name in row.genres] for kind, picked in decision.choices.items()},
        )
    info, tags = None, None
    with contextlib.suppress(MtagError):
        info = probe(path)
        tags = _tags(path)
    view = _decision_view(row.status, decision, decider, segments, str(recorded.get("mode", "keep")))
    evidence = Evidence(
        status=status,
        duration=row.duration or 0.0,
        window_seconds=_seconds(key.window if key else None, recorded.get("window")),
        threshold=options.threshold,
        genres=GenreView.of(decider.taxonomy, row.labels),
        segments=segments,
        track_scores=_track_scores(decision, decider, segments),
        chosen=decision.genres if decision else [],
        existing_genres=tags.genre_names() if tags else None,
    )
    return Inspection(
        path=path,
        model=key.model if key else "?",
        labels=row.labels,
        status=status,
        duration=row.duration or 0.0,
        window_seconds=evidence.window_seconds,
        hop_seconds=_seconds(key.hop if key else None, recorded.get("hop")),
        segments=segments,
        decision=view,
        findings=diagnose(evidence, [rule for rule in RULES if rule not in SIGNAL_RULES]),
        info=info,
        tags=tags,
        unchecked=[rule.__name__.replace("_", "-") for rule in SIGNAL_RULES],
        source={"kind": "index", "index": str(index.path), "run": row.run_id, "analysed_at": row.analysed_at},
    )


def _seconds(from_key: float | None, recorded: Any) -> float:
    """A stored window or hop in seconds (0 when neither the key nor the run tells it)."""
    if from_key is not None:
        return from_key
    return float(recorded) if isinstance(recorded, (int, float)) else 0.0


def _model_taxonomy(taxonomy: Taxonomy, model: str | None) -> Taxonomy:
    """The table as the run used it: with the model's own label genres, where the model is still installed."""
    if model is None:
        return taxonomy
    try:
        return taxonomy.with_model_genres(find_model(model).genres)
    except MtagError:
        return taxonomy
