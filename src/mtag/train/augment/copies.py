"""``--augment-copies N``: N altered copies of every training track, computed once and kept in the audio cache.

The offline variant of the waveform augmentations, as several reference
projects trained: each copy is the whole track through ``--augment``'s
waveform augmentations (a stretched copy keeps its new length), stored in
the audio cache's :class:`~mtag.data.shards.ShardStore` beside the decoded
tracks, so a full disk stops the run with the cache's own one-line error and
a second run reads them instead of computing them.

A copy's key hashes its track's key (so a changed file gets new copies), the
waveform part of the spec spelled out in full (so another spec, or another
spelling's defaults, never reuses them, while a change of mixup or
SpecAugment, which act during training, does), ``--seed`` and the copy's
number.  The copy's random draws come from its key: the same copy whatever
the order tracks are processed in.

Copies are extra training examples only (the track's labels; the split put
the track in training, so its group is there too): validation and test
score the real tracks.  They are what makes the frozen-network path
augmentable: their embeddings are computed once like any track's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import torch

from mtag.data.cache import STORAGE, AudioCache
from mtag.train.augment.augmenter import Augmenter, Dice
from mtag.train.augment.spec import WAVEFORM

#: Part of every copy's key: bump it when what a copy holds changes meaning.
COPY_VERSION = 1


def copy_key(track_key: str, augmenter: Augmenter, seed: int, number: int) -> str:
    """The cache key of copy ``number`` of the track cached under ``track_key``."""
    waveform = ",".join(a.canonical() for a in augmenter.spec.stage(WAVEFORM))
    identity = f"mtag-augment-copy-v{COPY_VERSION}\0{track_key}\0{waveform}\0{seed}\0{number}"
    return hashlib.sha256(identity.encode()).hexdigest()[:40]


def with_copies(
    cache: AudioCache,
    train: Sequence[int],
    augmenter: Augmenter,
    copies: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[AudioCache, list[int]]:
    """The cache with ``copies`` copies of every track of ``train`` after its tracks, and the copies' sources.

    Index ``len(cache) + j`` of the returned cache is a copy of track
    ``sources[j]``; copies already in the store are read, the rest computed.
    """
    store = cache.store
    sources = [i for i in train for _ in range(copies)]
    keys = [copy_key(str(cache.keys[i]), augmenter, seed, n) for i in train for n in range(copies)]
    todo = [(source, key) for source, key in zip(sources, keys) if key not in store]
    if todo:
        with store.writer() as writer:
            for done, (source, key) in enumerate(todo, start=1):
                writer.add(key, altered(cache.audio(source), augmenter, key).astype(STORAGE))
                if progress is not None:
                    progress(done, len(todo))
    return AudioCache(store, [*cache.keys, *keys], cache.sample_rate, dict(cache.failures)), sources


@torch.no_grad()
def altered(audio: np.ndarray, augmenter: Augmenter, key: str) -> np.ndarray:
    """One copy of a whole track: the waveform augmentations, drawn from the copy's key."""
    dice = Dice.roll(np.random.default_rng(int(key[:16], 16)), torch.device("cpu"))
    return augmenter.waveform(torch.from_numpy(audio)[None], dice, keep_length=False)[0].numpy()
