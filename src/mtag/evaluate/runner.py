"""``mtag eval``'s work: decode each track once, score it with every model under every condition, measure.

Decoding costs more than scoring on a CPU, so the tracks are decoded once,
through the training audio cache (:func:`~mtag.data.cache.build_audio_cache`:
the engine's decoder and worker pool, float16 shards; a second evaluation
decodes nothing), at the rate most of the models take.  A model at another
rate gets the audio resampled in memory (soxr, as the decoder resamples).
Every model x condition then cuts the in-memory audio with the model's own
window plan (:func:`~mtag.engine.decoding.analysis_windows`, as ``tag``
cuts a file) and scores the windows in batches across tracks through the
model's :class:`~mtag.nets.tagger.Tagger`, loaded once per process.

Everything that can be refused is refused before the first decode: an
unknown study, an empty split, a model with no label in common with the
data set.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mtag.audio.decode import resample
from mtag.audio.windows import Window, WindowPlan, iter_windows
from mtag.cards import ModelCard
from mtag.catalog import find_model
from mtag.data.cache import AudioCache, build_audio_cache
from mtag.data.examples import SPLITS, Dataset, Example
from mtag.decision.aggregate import AGGREGATIONS
from mtag.engine.decoding import analysis_windows
from mtag.engine.plans import default_plan
from mtag.errors import UsageError
from mtag.evaluate.analyses import check_analyses, run_analyses
from mtag.evaluate.mapping import LabelMapping, map_labels
from mtag.evaluate.measure import Measured, measure
from mtag.evaluate.studies import BASELINE, Condition, Study, analyses, conditions_of, resolve_studies
from mtag.train.events import TrainEvents
from mtag.train.targets import target_matrix
from mtag.train.windows import map_track_windows

#: ``--part all``: every track of the data set, whatever its split.
ALL = "all"
LEVELS = ("track", "window")


@dataclass(frozen=True)
class EvalRequest:
    """What to measure, on what, and how; everything a caller of :func:`evaluate` chooses."""

    models: Sequence[str]
    dataset: Dataset
    part: str = "test"
    studies: str | None = None
    aggregate: str = "mean"
    level: str = "track"
    top_k: int = 3
    bootstrap: int = 1000
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    workers: int | None = None
    batch_size: int | None = None
    cache_dir: Path | None = None


@dataclass
class TrackSkip:
    path: Path
    reason: str


@dataclass
class ModelResult:
    """One model's measurements: the mapping, then a :class:`Measured` per condition key."""

    card: ModelCard
    mapping: LabelMapping
    tracks: list[int]  # indices into the evaluation's examples that this model is measured on
    conditions: dict[str, Measured] = field(default_factory=dict)
    analyses: dict[str, Any] = field(default_factory=dict)  # name -> result with to_json() and markdown()

    @property
    def baseline(self) -> Measured:
        return self.conditions[BASELINE.key]


@dataclass
class Evaluation:
    """Everything ``mtag eval`` found: per model results, the studies, the tracks left out, the counters."""

    request: EvalRequest
    examples: list[Example]
    multi_label: bool
    studies: list[Study]
    models: list[ModelResult]
    unreadable: list[TrackSkip]
    too_short: list[TrackSkip]
    decoded: int  # files decoded by this run (0 when the cache had them all)
    sample_rate: int
    seconds: dict[str, float]

    def condition_result(self, model: ModelResult, condition: Condition) -> Measured:
        """A condition's measurement; a study's own "as decoded" point is the baseline."""
        return model.conditions[(condition if condition.transform is not None else BASELINE).key]


class DecodeCounter:
    """Counts the files a cache build actually decoded (its progress starts at the files already cached)."""

    def __init__(self, events: TrainEvents) -> None:
        self.events = events
        self.first: int | None = None
        self.last = 0

    def __call__(self, done: int, total: int) -> None:
        if self.first is None:
            self.first = done
        self.last = done
        self.events.advance(done, total)

    @property
    def decoded(self) -> int:
        return self.last - (self.first or 0)


def plan_evaluation(request: EvalRequest) -> tuple[list[ModelCard], list[LabelMapping], list[Study], list[Example]]:
    """Every refusal, before any decoding: unknown options and studies, an empty part, a model with no shared label."""
    if request.aggregate not in AGGREGATIONS:
        raise UsageError(f"unknown aggregation {request.aggregate!r}", hint=f"choose {', '.join(AGGREGATIONS)}")
    if request.level not in LEVELS:
        raise UsageError(f"unknown level {request.level!r}", hint=f"choose {', '.join(LEVELS)}")
    if request.part not in (*SPLITS, ALL):
        raise UsageError(f"unknown part {request.part!r}", hint=f"choose {', '.join((*SPLITS, ALL))}")
    if request.top_k < 1 or request.bootstrap < 0:
        raise UsageError("--top-k must be 1 or more and --bootstrap 0 or more")
    if not request.models:
        raise UsageError("no model to evaluate", hint="name one or more models (see 'mtag models')")
    studies = resolve_studies(request.studies)
    asked = analyses(request.studies)
    dataset = request.dataset
    examples = dataset.examples if request.part == ALL else dataset.part(request.part)
    if not examples:
        raise UsageError(
            f"the {request.part} split of {dataset.name} has no tracks",
            hint="check --data-dir, or choose another part with --part (train, valid, test or all)",
        )
    cards = [find_model(name) for name in dict.fromkeys(request.models)]
    mappings = [map_labels(card, dataset) for card in cards]
    for card, mapping in zip(cards, mappings):
        if not mapping.shared:
            raise UsageError(
                f"model {card.name} has no label in common with {dataset.name}'s "
                f"({', '.join(dataset.labels[:6])}{', ...' if len(dataset.labels) > 6 else ''})",
                hint=f"its labels and the data set's meet through the genre table; see 'mtag models show {card.name}'",
            )
    check_analyses(asked, cards)
    return cards, mappings, studies, examples


def evaluate(request: EvalRequest, events: TrainEvents | None = None) -> Evaluation:
    """Measure every model of ``request`` on its data set, under the baseline and every study condition."""
    events = events or TrainEvents()
    cards, mappings, studies, examples = plan_evaluation(request)
    dataset = request.dataset
    seconds: dict[str, float] = {}

    clock = time.perf_counter()
    rate = shared_rate(cards)
    counter = DecodeCounter(events)
    events.stage("decode", len(examples))
    cache = build_audio_cache(
        [e.path for e in examples], rate, root=request.cache_dir, workers=request.workers, progress=counter
    )
    seconds["decode"] = time.perf_counter() - clock
    unreadable = [TrackSkip(examples[i].path, reason) for i, reason in sorted(cache.failures.items())]
    if unreadable:
        events.note(f"{len(unreadable)} unreadable file(s) left out, e.g. {unreadable[0].path}: {unreadable[0].reason}")

    from mtag.device import resolve_device
    from mtag.nets.tagger import load_card

    device = resolve_device(request.device)
    batch = request.batch_size or (64 if device.type == "cuda" else 16)
    targets = target_matrix(examples, dataset.labels)
    conditions = conditions_of(studies)
    too_short: dict[int, str] = {}
    signals: dict[int, dict[str, float]] = {}  # a track's measured signal, shared by every model's analyses
    results = []
    clock = time.perf_counter()
    for card, mapping in zip(cards, mappings):
        tagger = load_card(card, device, request.precision)
        plan = default_plan(card)
        model_targets = mapping.targets(targets)
        usable = [i for i in range(len(examples)) if i not in cache.failures]
        if not dataset.multi_label:  # a track whose one genre the model cannot name says nothing about it
            usable = [i for i in usable if model_targets[i].any()]
        result = ModelResult(card, mapping, usable)
        events.stage(f"{card.name}", len(conditions) * len(usable))
        done = 0
        for number, condition in enumerate(conditions):
            windows: dict[int, np.ndarray] = {}
            for index, rows in _scored(cache, usable, condition, plan, tagger, batch, request.seed, number):
                windows[index] = rows
                done += 1
                events.advance(done, len(conditions) * len(usable))
            if condition is BASELINE:
                for index in usable:
                    if index not in windows:
                        too_short[index] = "shorter than a second: mtag tag does not analyse it"
            kept = [i for i in usable if i in windows]
            result.conditions[condition.key] = measure(
                [windows[i] for i in kept],
                model_targets[kept],
                kept,
                mapping,
                multi_label=dataset.multi_label,
                method=request.aggregate,
                level=request.level,
                top_k=request.top_k,
                resamples=request.bootstrap,
                seed=request.seed,
            )
        result.analyses = run_analyses(
            analyses(request.studies),
            card,
            mapping.shared,
            result.baseline,
            examples,
            dataset.name,
            dataset.multi_label,
            cache,
            request.seed,
            request.bootstrap,
            signals,
        )
        results.append(result)
    seconds["score"] = time.perf_counter() - clock
    return Evaluation(
        request,
        list(examples),
        dataset.multi_label,
        studies,
        results,
        unreadable,
        [TrackSkip(examples[i].path, reason) for i, reason in sorted(too_short.items())],
        counter.decoded,
        rate,
        seconds,
    )


def shared_rate(cards: Sequence[ModelCard]) -> int:
    """The one rate tracks are decoded at: the one most models take (the highest on a tie)."""
    counts = Counter(card.frontend.sample_rate for card in cards)
    return max(counts, key=lambda rate: (counts[rate], rate))


def track_audio(cache: AudioCache, index: int, rate: int) -> np.ndarray:
    """Track ``index`` as float32 at ``rate`` (resampled in memory when the cache holds another rate)."""
    return resample(cache.audio(index), cache.sample_rate, rate)


def condition_audio(
    audio: np.ndarray, rate: int, condition: Condition, seed: int, index: int, number: int
) -> np.ndarray:
    """The track as ``condition`` changes it; the noise of track ``index`` under condition ``number`` is seeded."""
    if condition.transform is None:
        return audio
    return condition.transform(audio, rate, np.random.default_rng([seed, index, number]))


def _windows(
    cache: AudioCache, indices: Sequence[int], condition: Condition, plan: WindowPlan, seed: int, number: int
) -> Iterator[tuple[int, Window]]:
    cut = iter_windows if condition.short_inputs else analysis_windows
    for index in indices:
        audio = condition_audio(
            track_audio(cache, index, plan.sample_rate), plan.sample_rate, condition, seed, index, number
        )
        for window in cut([audio], plan):
            yield index, window


def _scored(
    cache: AudioCache,
    indices: Sequence[int],
    condition: Condition,
    plan: WindowPlan,
    tagger: Any,
    batch_size: int,
    seed: int,
    number: int,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(track, window scores)`` per track with windows, batched across tracks as the trainer's scoring is."""
    windows = _windows(cache, indices, condition, plan, seed, number)
    return map_track_windows(windows, plan, batch_size, tagger.predict)
