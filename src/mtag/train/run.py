"""One training run, end to end: data set -> audio cache -> task -> loop -> model folder.

``mtag train`` is a thin shell over :func:`train`; a Python caller gets the
same run (and the same refusals) with a :class:`TrainRequest`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from mtag import __version__
from mtag.audio.windows import WindowPlan
from mtag.cards import ModelCard
from mtag.catalog import DEFAULT_MODEL, find_model, user_data_dir
from mtag.data import TEST, TRAIN, VALID, Dataset
from mtag.data.cache import AudioCache, build_audio_cache, cache_root
from mtag.data.check import check_trainable
from mtag.device import resolve_device
from mtag.engine.decoding import MIN_SECONDS
from mtag.engine.plans import default_plan, whole_frames
from mtag.errors import UsageError
from mtag.evaluate import metrics
from mtag.nets import profile
from mtag.nets.precision import DTYPES, resolve_precision
from mtag.nets.tagger import Tagger
from mtag.train import distributed
from mtag.train.augment.run import augmentation_record, augmenter_for, training_copies
from mtag.train.cards import scratch_card, trained_card
from mtag.train.distributed import Ranks
from mtag.train.events import EpochRecord, TrainEvents
from mtag.train.features import embedding_store, window_embeddings
from mtag.train.loop import FitResult, LossFunction, fit
from mtag.train.output import check_target, plain, write_model
from mtag.train.settings import TrainSettings
from mtag.train.start import StartingPoint, from_scratch, start_from, transfer_point
from mtag.train.targets import class_weights, positive_weights, sampling_weights, target_matrix
from mtag.train.tasks import FineTune, FrozenHead, Task

if TYPE_CHECKING:
    from mtag.train.augment import Augmenter

#: Windows per forward pass while computing embeddings or scoring tracks.
SCORING_BATCH = 32


@dataclass(frozen=True)
class TrainRequest:
    """Everything a run needs besides its hyper-parameters: data, where the model goes, where it runs."""

    dataset: Dataset
    settings: TrainSettings = TrainSettings()
    name: str | None = None  # default: <data set>-<base model or architecture>
    models_dir: Path | None = None  # default: the user's model folder
    force: bool = False
    resume: bool = False
    device: str = "auto"
    precision: str = "auto"
    workers: int | None = None
    cache_dir: Path | None = None

    @property
    def model_name(self) -> str:
        settings = self.settings
        return self.name or f"{self.dataset.name}-{settings.arch or settings.base or DEFAULT_MODEL}"

    @property
    def target(self) -> Path:
        return (self.models_dir or user_data_dir() / "models") / self.model_name

    @property
    def run_folder(self) -> Path:
        """Checkpoints and the epoch log while the run lasts (hidden beside the model's folder)."""
        return self.target.with_name(f".{self.model_name}.training")


@dataclass
class TrainResult:
    card: ModelCard
    fit: FitResult
    test: dict[str, float]
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.card.name,
            "path": str(self.card.directory),
            "best_epoch": self.fit.best_epoch,
            "epochs": len(self.fit.history),
            "stopped_early": self.fit.stopped_early,
            "valid": self.fit.best_valid,
            "test": self.test,
            "tracks": self.counts,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def train(request: TrainRequest, events: TrainEvents | None = None, ranks: Ranks | None = None) -> TrainResult:
    """Train a model as ``request`` says and write it into its model folder; returns what was written."""
    events = events or TrainEvents()
    ranks = ranks or distributed.from_environment()
    settings = request.settings.resolved()
    dataset = request.dataset
    base = find_model(settings.base or DEFAULT_MODEL) if settings.arch is None else None
    check_target(request.target, request.force)
    check_trainable(dataset)
    if base is not None:
        transfer_point(base, settings.point)
    multi_label = dataset.multi_label
    device = resolve_device(distributed.device_for(ranks, request.device))
    autocast_dtype = training_autocast(request.precision, device)
    if base is not None:
        card = trained_card(base, dataset, request.model_name, settings)
        origin: dict[str, Any] = {"base": f"{base.name}@{base.digest}"}
    else:  # the network as built (on a GPU the recipe's cuda_params apply): a resume must build the same one
        card = scratch_card(dataset, request.model_name, settings, cuda=device.type == "cuda")
        origin = {"network": {"name": card.architecture, "params": card.params, "frontend": card.frontend.to_json()}}
    plan = default_plan(card)
    _check_segment(settings, card, plan)
    fingerprint = plain(
        {
            "settings": settings.to_json(),
            **origin,
            "dataset": {"name": dataset.name, "root": dataset.root, "split": dataset.split, "labels": dataset.labels},
            "examples": len(dataset.examples),
        }
    )
    if not request.resume and (request.run_folder / "checkpoint.pt").exists() and not request.force:
        raise UsageError(
            f"an unfinished run of {request.model_name!r} is in {request.run_folder}",
            hint="add --resume to continue it, or --force to start again",
        )
    seconds: dict[str, float] = {}
    # Built before any decoding: a network its parameters cannot build, or an augmentation the model cannot
    # take (specaugment on a waveform), is refused at once.
    if base is not None:
        start = start_from(base, len(dataset.labels), settings.point, settings.seed)
    else:
        start = from_scratch(card, settings.seed)
    augmenter = augmenter_for(settings, card)

    clock = time.perf_counter()
    cache = _audio_cache(request, dataset, card.frontend.sample_rate, events, ranks)
    seconds["cache"] = time.perf_counter() - clock
    if cache.failures:
        events.note(f"{len(cache.failures)} unreadable file(s) left out, e.g. {_first_failure(cache, dataset)}")

    tagger = Tagger(card, device, "fp32", net=start.net)
    targets = target_matrix(dataset.examples, dataset.labels)
    minimum = MIN_SECONDS * plan.sample_rate
    split = {
        part: [i for i, e in enumerate(dataset.examples) if e.split == part and cache.length(i) >= minimum]
        for part in (TRAIN, VALID, TEST)
    }
    for part, indices in split.items():
        if not indices:
            raise UsageError(f"no usable track in the {part} split of {dataset.name}", hint="see 'mtag datasets check'")
    if augmenter is not None and settings.augment_copies:
        clock = time.perf_counter()
        cache, targets, split[TRAIN] = training_copies(cache, targets, split[TRAIN], augmenter, settings, events, ranks)
        seconds["copies"] = time.perf_counter() - clock
    weights = _sampling(settings, targets[split[TRAIN]], len(targets), split[TRAIN])

    clock = time.perf_counter()
    task, split = _task(
        request, settings, start, tagger, cache, plan, targets, split, weights, events, ranks, augmenter
    )
    seconds["features"] = time.perf_counter() - clock

    clock = time.perf_counter()
    log = request.run_folder / "log.jsonl"
    if ranks.leader and not request.resume:
        request.run_folder.mkdir(parents=True, exist_ok=True)
        log.write_text("")

    def on_epoch(record: EpochRecord) -> None:
        if ranks.leader:
            with log.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record.to_json()) + "\n")
        events.epoch(record)

    events.stage("train", settings.epochs or 0)
    result = fit(
        task,
        settings,
        _loss(settings, multi_label, targets[split[TRAIN]], device),
        split[VALID],
        targets[split[VALID]],
        run_folder=request.run_folder,
        fingerprint=fingerprint,
        resume=request.resume,
        ranks=ranks,
        autocast_dtype=autocast_dtype,
        on_step=events.step,
        on_epoch=on_epoch,
    )
    seconds["train"] = time.perf_counter() - clock
    if ranks.leader:  # the checkpoint's history is the whole story, whatever a resume cut from the live log
        log.write_text("".join(json.dumps(record.to_json()) + "\n" for record in result.history), encoding="utf-8")

    events.stage("test", len(split[TEST]))
    test_scores = ranks.gather_rows(split[TEST], task.track_scores(ranks.share(split[TEST])))
    test = metrics.summary(test_scores, targets[split[TEST]], multi_label)
    real = len(dataset.examples)  # indices from here on are --augment-copies copies, counted apart
    counts = {part: sum(i < real for i in indices) for part, indices in split.items()}
    if settings.augment_copies:
        counts["train_copies"] = len(split[TRAIN]) - counts[TRAIN]
    record = _training_record(request, settings, start.point, counts, result, seconds)
    record["label_counts"] = label_counts(dataset.labels, targets[split[TRAIN]])
    card = replace(card, training=record, metrics=_metrics(result.best_valid, test))
    if ranks.leader:
        card = replace(card, profile=profile.measure(tagger))  # the trained network's cost, on this device
        card = write_model(start.net, card, request.target, log)
        _remove_run(request.run_folder)
    distributed.finish(ranks)
    return TrainResult(card, result, test, counts, seconds)


def training_autocast(precision: str, device: torch.device) -> torch.dtype | None:
    """Mixed precision for training: bf16 where the GPU has it, else fp16 (with a grad scaler); fp32 on CPUs."""
    chosen = resolve_precision(precision, device)  # an unknown name is refused as tag and inspect refuse it
    if chosen == "fp32" or device.type != "cuda":
        return None
    if precision == "auto":  # inference's auto is fp16; training prefers bf16's range where the GPU has it
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return DTYPES[chosen]


def _task(
    request: TrainRequest,
    settings: TrainSettings,
    start: StartingPoint,
    tagger: Tagger,
    cache: AudioCache,
    plan: WindowPlan,
    targets: np.ndarray,
    split: dict[str, list[int]],
    weights: np.ndarray | None,
    events: TrainEvents,
    ranks: Ranks,
    augmenter: Augmenter | None = None,
) -> tuple[Task, dict[str, list[int]]]:
    """The task the loop trains, and the split's tracks it can use (frozen: those with embeddings)."""
    task: Task
    batch_size = settings.batch_size
    assert batch_size is not None  # resolved
    if settings.freeze:
        point = start.point
        assert point is not None  # a frozen network has a transfer point
        everything = sorted(i for part in split.values() for i in part)
        events.stage("features", len(everything))
        embeddings = ranks.leader_first(
            lambda: window_embeddings(
                tagger,
                point,
                cache,
                cache.keys,
                everything,
                plan,
                # Opened inside: a rank that reads after rank 0 wrote must see rank 0's shards.
                embedding_store(request.cache_dir or cache_root(), tagger, point, plan),
                SCORING_BATCH,
                events.advance,
            )
        )
        split = {part: [i for i in indices if i in embeddings] for part, indices in split.items()}
        task = FrozenHead(
            start,
            tagger.card.activation,
            embeddings,
            targets,
            split[TRAIN],
            batch_size,
            tagger.device,
            weights,
            augmenter,
        )
    else:
        segment = plan.framing.chunk_samples(_segment_frames(settings, plan))
        task = FineTune(
            start,
            tagger,
            cache,
            plan,
            targets,
            split[TRAIN],
            batch_size,
            segment,
            settings.segments_per_track,
            settings.backbone_lr_scale,
            weights,
            augmenter,
        )
    return task, split


def _audio_cache(request: TrainRequest, dataset: Dataset, rate: int, events: TrainEvents, ranks: Ranks) -> AudioCache:
    """The data set's audio at the model's rate (under several processes rank 0 decodes, the others then read)."""
    paths = [example.path for example in dataset.examples]

    def build() -> AudioCache:
        events.stage("cache", len(paths))
        return build_audio_cache(paths, rate, root=request.cache_dir, workers=request.workers, progress=events.advance)

    return ranks.leader_first(build)


def _first_failure(cache: AudioCache, dataset: Dataset) -> str:
    index, reason = next(iter(cache.failures.items()))
    return f"{dataset.examples[index].path}: {reason}"


def _segment_frames(settings: TrainSettings, plan: WindowPlan) -> int:
    return plan.window_frames if settings.segment is None else whole_frames(settings.segment, plan)


def _check_segment(settings: TrainSettings, card: ModelCard, plan: WindowPlan) -> None:
    """A fixed-length network reads exactly its window: a training segment of another length cannot fit it."""
    if card.input.fixed_length and not settings.freeze and _segment_frames(settings, plan) != plan.window_frames:
        raise UsageError(
            f"--segment {settings.segment:g}: {card.architecture} takes exactly its {card.window_seconds:.3f} s window",
            hint="leave --segment out",
        )


def _sampling(settings: TrainSettings, train_targets: np.ndarray, n: int, train: Sequence[int]) -> np.ndarray | None:
    """Per-example draw weights when ``--balance sampler``; None draws every track once per epoch."""
    if settings.balance != "sampler":
        return None
    weights = np.zeros(n)
    weights[list(train)] = sampling_weights(train_targets)
    return weights


def _loss(settings: TrainSettings, multi_label: bool, train_targets: np.ndarray, device: torch.device) -> LossFunction:
    """The loss, class-weighted when ``--balance weights`` (``auto``: single-label data only).

    ``auto`` leaves multi-label losses unweighted: positive weights inflate
    the probabilities a sigmoid tagger outputs, and ``mtag tag`` reads them as
    probabilities (its threshold), so a weighted tagger would tag too much.
    """
    balance = settings.balance
    if balance == "auto":
        balance = "none" if multi_label else "weights"
    if balance != "weights":
        return LossFunction(multi_label)
    weights = positive_weights(train_targets) if multi_label else class_weights(train_targets)
    return LossFunction(multi_label, torch.from_numpy(weights).to(device))


def _training_record(
    request: TrainRequest,
    settings: TrainSettings,
    point: str | None,
    counts: dict[str, int],
    result: FitResult,
    seconds: dict[str, float],
) -> dict[str, Any]:
    dataset = request.dataset
    return plain(
        {
            "dataset": dataset.name,
            "dataset_license": dataset.license,
            "split": dataset.split,
            "tracks": counts,
            "base": settings.base,
            "architecture": settings.arch,  # set when trained from scratch
            "frozen": settings.freeze,
            "transfer_point": point,
            "augmentation": augmentation_record(settings),
            "hyperparameters": settings.to_json(),
            "epochs_run": len(result.history),
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "seconds": {k: round(v, 1) for k, v in seconds.items()},
            "mtag": __version__,
        }
    )


def label_counts(labels: tuple[str, ...], targets: np.ndarray) -> dict[str, int]:
    """Training tracks per label (the ``targets`` rows the model learnt from): what ``mtag eval --study rare`` reads."""
    return {label: int(count) for label, count in zip(labels, targets.sum(axis=0))}


def _metrics(valid: dict[str, float], test: dict[str, float]) -> dict[str, float]:
    return {**{f"valid_{k}": v for k, v in valid.items()}, **{f"test_{k}": v for k, v in test.items()}}


def _remove_run(folder: Path) -> None:
    for path in (folder / "checkpoint.pt", folder / "log.jsonl"):
        path.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
