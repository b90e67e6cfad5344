"""What a training run needs from the augmentation package: its augmenter, its copies, its record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mtag.cards import ModelCard, WaveformSpec
from mtag.data.cache import AudioCache
from mtag.train.augment.augmenter import Augmenter
from mtag.train.augment.copies import with_copies
from mtag.train.augment.spec import parse_augment
from mtag.train.distributed import Ranks
from mtag.train.events import TrainEvents
from mtag.train.settings import TrainSettings


def augmenter_for(settings: TrainSettings, card: ModelCard) -> Augmenter | None:
    """The run's augmenter (None without ``--augment``); with copies, the waveform part works offline only."""
    if settings.augment is None:
        return None
    return Augmenter(
        parse_augment(settings.augment),
        card.frontend.sample_rate,
        spectral=not isinstance(card.frontend, WaveformSpec),
        waveform_online=not settings.augment_copies,
    )


def training_copies(
    cache: AudioCache,
    targets: np.ndarray,
    train: Sequence[int],
    augmenter: Augmenter,
    settings: TrainSettings,
    events: TrainEvents,
    ranks: Ranks,
) -> tuple[AudioCache, np.ndarray, list[int]]:
    """The cache, targets and training tracks with ``--augment-copies`` copies of each training track added."""

    def build() -> tuple[AudioCache, list[int]]:
        events.stage("copies", len(train) * settings.augment_copies)
        return with_copies(cache, train, augmenter, settings.augment_copies, settings.seed, events.advance)

    extended, sources = ranks.leader_first(build)  # rank 0 computes; the others then read its shards
    first = len(cache)
    return extended, np.concatenate([targets, targets[sources]]), [*train, *range(first, first + len(sources))]


def augmentation_record(settings: TrainSettings) -> dict[str, Any] | None:
    """The card's word on the augmentation: every parameter spelled out, and where it ran."""
    if settings.augment is None:
        return None
    spec = parse_augment(settings.augment)
    offline = [a.name for a in spec.augmentations if a.kind.stage == "waveform"] if settings.augment_copies else []
    return {
        "spec": spec.canonical(),
        "copies": settings.augment_copies,
        "offline": offline,  # applied once, to the copies
        "online": [a.name for a in spec.augmentations if a.name not in offline],  # applied to each training batch
    }
