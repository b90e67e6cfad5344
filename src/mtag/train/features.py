"""Frozen-network features: each window's embedding at the transfer point, computed once and cached.

Training a head on a frozen network needs the network's activations for every
window of every track, every epoch; computing them once turns an epoch into a
few matrix products.  They are stored (float32, so the trainer's figures are
exactly what the saved model gives) in a :class:`~mtag.data.cache.ShardStore`
keyed by the file's identity, the base model's weights digest, the transfer
point and the window plan, so a second run on the same data starts training at
once and a changed file is recomputed alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from mtag.audio.windows import WindowPlan
from mtag.data.cache import AudioCache, ShardStore
from mtag.nets.tagger import Tagger
from mtag.train.windows import map_windows


def embedding_store(root: Path, tagger: Tagger, point: str, plan: WindowPlan) -> ShardStore:
    """The store for one base model's embeddings at one point under one window plan."""
    setting = f"{tagger.card.weights.sha256}/{point}/{plan.sample_rate}/{plan.window}/{plan.hop}"
    return ShardStore(root / "embeddings" / hashlib.sha256(setting.encode()).hexdigest()[:24], dtype="float32")


def window_embeddings(
    tagger: Tagger,
    point: str,
    cache: AudioCache,
    keys: Sequence[str | None],
    indices: Sequence[int],
    plan: WindowPlan,
    store: ShardStore,
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, np.ndarray]:
    """``track -> (windows, D)`` embeddings for ``indices`` (tracks without a window are left out).

    ``keys[i]`` identifies track ``i``'s audio (the cache's key for it).
    """
    todo = [i for i in indices if cache.length(i) > 0 and keys[i] not in store]
    net = tagger.net.eval()

    @torch.inference_mode()
    def embed(chunks: np.ndarray, frames: int) -> np.ndarray:
        return net.embed(tagger.features(chunks, frames), point).float().cpu().numpy()  # type: ignore[operator]

    with store.writer() as writer:
        for done, (index, rows) in enumerate(map_windows(cache, todo, plan, batch_size, embed), start=1):
            writer.add(str(keys[index]), rows)
            if progress is not None:
                progress(done, len(todo))
    return {i: store.get(key) for i in indices if (key := keys[i]) is not None and key in store}
