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
from mtag.catalog import find_model
from mtag.engine.analysis import Segment
from mtag.engine.inference import ANALYSED, FAILED, TrackOutcome
from mtag.errors import AudioError, MtagError
from mtag.index import Index
from mtag.inspection.decision import Decision, provenance
from mtag.inspection.explain import Explanation, Occlusion
from mtag.inspection.findings import Finding
from mtag.inspection.genres import GenreView
from mtag.inspection.replay import SpectrogramStrip, logmel_batches
from mtag.inspection.rules import RULES, SIGNAL_RULES, Evidence, diagnose
from mtag.inspection.signal import SignalStats, measure_signal
from mtag.library.tagging import TagSession, parse_analysis_key
from mtag.nets.melspec import mel_edges
from mtag.tags import TagValues, read_tags
from mtag.taxonomy import GENRE, Choice, Taxonomy


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


def _chosen(choices: dict[str, list[Choice]]) -> list[Choice]:
    return [choice for picked in choices.values() for choice in picked]


class Inspector:
    """Inspects files with one loaded session; construct once per process."""

    def __init__(self, session: TagSession, *, explain: bool = False, spectrogram: bool = False) -> None:
        if not session.options.dry_run:
            raise ValueError("inspect needs a dry-run session: it must not write")
        self.session = session
        self.explain = explain
        self.spectrogram = spectrogram
        self.genres = GenreView.of(session.taxonomy, session.labels)
        plan = session.engine.plan
        self.window_seconds = plan.seconds(plan.window_frames)
        self.hop_seconds = plan.seconds(plan.hop_frames)

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
        choices = session.decide(outcome.scores) if outcome.status == ANALYSED and outcome.scores is not None else {}
        report = session.preview(outcome)
        options = session.options
        decision = Decision(
            status=report.status,
            aggregation=session.engine.aggregation,
            threshold=options.threshold,
            top=options.top,
            mode=options.mode,
            changes=report.changes,
            error=report.error,
        )
        if outcome.scores is not None:
            decision.chosen = [
                provenance(c, session.labels, outcome.scores, segments, options.threshold) for c in _chosen(choices)
            ]
        tags = _tags(path)
        evidence = Evidence(
            status=outcome.status,
            duration=outcome.duration,
            window_seconds=self.window_seconds,
            threshold=options.threshold,
            genres=self.genres,
            segments=segments,
            track_scores=outcome.scores,
            chosen=choices.get(GENRE, []),
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
            mel_edges_hz=mel_edges(session.tagger.settings),
        )
        if segments and (self.explain or self.spectrogram):
            self._replay(inspection, choices.get(GENRE, []))
        return inspection

    def _replay(self, inspection: Inspection, chosen: list[Choice]) -> None:
        """The second pass: occlusion scores and/or the spectrogram strip, batch by batch."""
        session = self.session
        plan, batch_size = session.engine.plan, session.engine.batch_size
        occlusion = Occlusion(session.tagger, self.genres, plan.window_frames, session.engine.aggregation)
        strip = SpectrogramStrip(plan, inspection.duration)
        for windows, logmel in logmel_batches(session.tagger, plan, inspection.path, batch_size):
            if self.explain:
                occlusion.add(windows, logmel, batch_size)
            if self.spectrogram:
                strip.add(windows, logmel)
        if self.explain:
            inspection.explanation = occlusion.explain(chosen, session.engine.candidates)
        if self.spectrogram:
            inspection.spectrogram = strip.image()


def _stored_window(key: dict[str, Any]) -> tuple[float, float]:
    """Window and hop (seconds) of a stored analysis, from its key and its model's frame rate (0 if unknown)."""
    try:
        pre = find_model(key["model"]).meta["preprocessing"]
        frame = pre["hop_length"] / pre["sample_rate"]
        return key["window_frames"] * frame, key["hop_frames"] * frame
    except (KeyError, MtagError):  # an old key, or a model folder since removed
        return 0.0, 0.0


def from_index(index: Index, path: Path, taxonomy: Taxonomy) -> Inspection:
    """What the last ``mtag tag`` run stored for ``path``, with the diagnostics that need no audio."""
    row = index.track(path)
    if row is None:
        raise MtagError("not in the index", path=path, hint=f"run 'mtag tag' on it first (index: {index.path})")
    if row.status == FAILED:
        reason = (row.error or "unknown error").removeprefix(f"{row.path}: ")  # stored with the path in front
        raise MtagError(f"the last run could not analyse it: {reason}", path=path, hint="run 'mtag inspect' on it")
    options = index.decided_with(path) or {}
    key = parse_analysis_key(row.analysis_key or options.get("analysis", ""))
    window_seconds, hop_seconds = _stored_window(key)
    threshold = float(options.get("threshold", 0.25))
    segments = [Segment(s.start, s.end, s.scores, s.padding) for s in row.segments]
    genres = GenreView.of(taxonomy, row.labels)
    scores = row.scores if row.predictions else None
    chosen: list[Choice] = []
    if scores is not None:
        picked = taxonomy.decide(
            row.labels,
            scores,
            top=int(options.get("top", 3)),
            threshold=threshold,
            with_parents=bool(options.get("parents")),
        )
        chosen = [choice for choice in picked if choice.name in row.genres]  # the stored genres, traced
    status = "too-short" if row.status == "too-short" else "silent" if row.status == "silent" else ANALYSED
    info, tags = None, None
    with contextlib.suppress(MtagError):
        info = probe(path)
        tags = _tags(path)
    decision = Decision(
        status=row.status,
        aggregation=key.get("aggregation", "mean"),
        threshold=threshold,
        top=int(options.get("top", 3)),
        mode=str(options.get("mode", "keep")),
        chosen=[provenance(c, row.labels, scores, segments, threshold) for c in chosen] if scores is not None else [],
    )
    evidence = Evidence(
        status=status,
        duration=row.duration or 0.0,
        window_seconds=window_seconds,
        threshold=threshold,
        genres=genres,
        segments=segments,
        track_scores=scores,
        chosen=[c for c in chosen if c.kind == GENRE],
        existing_genres=tags.genre_names() if tags else None,
    )
    return Inspection(
        path=path,
        model=key.get("model", "?"),
        labels=row.labels,
        status=status,
        duration=row.duration or 0.0,
        window_seconds=window_seconds,
        hop_seconds=hop_seconds,
        segments=segments,
        decision=decision,
        findings=diagnose(evidence, [rule for rule in RULES if rule not in SIGNAL_RULES]),
        info=info,
        tags=tags,
        unchecked=[rule.__name__.replace("_", "-") for rule in SIGNAL_RULES],
        source={"kind": "index", "index": str(index.path), "run": row.run_id, "analysed_at": row.analysed_at},
    )
