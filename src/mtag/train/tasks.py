"""The two ways a run trains: a new head on frozen features, or the whole network on audio segments
(fine-tuned, or from scratch).

The loop (:mod:`.loop`) sees only a :class:`Task`: batches of inputs and
targets for one epoch, the trainable parameters, and track scores for a split.
Both tasks score tracks as ``mtag tag`` does (every window, mean of the
window probabilities), so validation figures are what a user will get.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from mtag.audio.windows import WindowPlan
from mtag.data.cache import AudioCache
from mtag.nets.tagger import Tagger, activate
from mtag.train.augment import Augmenter, Dice
from mtag.train.distributed import Ranks
from mtag.train.start import StartingPoint
from mtag.train.windows import map_windows

Batch = tuple[torch.Tensor, torch.Tensor]


class Task(Protocol):
    """What the loop trains."""

    net: nn.Module

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]: ...

    def steps_per_epoch(self) -> int: ...

    def batches(self, rng: np.random.Generator, ranks: Ranks) -> Iterator[Batch]:
        """One epoch's batches; under several processes, this rank's slice of each global batch."""
        ...

    def logits(self, inputs: torch.Tensor) -> torch.Tensor: ...

    def track_scores(self, indices: Sequence[int]) -> np.ndarray: ...


def epoch_order(n: int, draws: int, rng: np.random.Generator, weights: np.ndarray | None) -> np.ndarray:
    """Which examples an epoch visits: a shuffle of all of them ``draws`` times, or weighted draws."""
    if weights is None:
        return np.concatenate([rng.permutation(n) for _ in range(draws)]) if n else np.zeros(0, np.int64)
    return rng.choice(n, size=n * draws, replace=True, p=weights)


class FrozenHead:
    """A new head trained on window embeddings the frozen network computed once.

    Every window of a training track is one example (its track's labels); the
    backbone never runs during training, so an epoch costs a few matrix
    products.  The network itself is left whole: the trained model is the base
    network with this head, run like any other by ``mtag tag``.
    """

    def __init__(
        self,
        start: StartingPoint,
        activation: str,
        embeddings: dict[int, np.ndarray],
        targets: np.ndarray,
        train: Sequence[int],
        batch_size: int,
        device: torch.device,
        weights: np.ndarray | None = None,
        augmenter: Augmenter | None = None,  # mixup only: the embeddings are fixed (copies are extra tracks)
    ) -> None:
        self.net = start.net.to(device)
        self.augmenter = augmenter
        self.start = start
        self.activation = activation
        self.embeddings = embeddings
        self.targets = targets
        self.batch_size = batch_size
        self.device = device
        # One entry per training window: (track, window) pairs, and the draw weight of each.
        pairs = [(i, w) for i in train if i in embeddings for w in range(len(embeddings[i]))]
        self.pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        self.weights = None if weights is None else _normalised(weights[self.pairs[:, 0]])
        for parameter in start.backbone_parameters():
            parameter.requires_grad_(False)

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        return [{"params": self.start.head_parameters(), "lr": lr, "name": "head"}]

    def steps_per_epoch(self) -> int:
        return -(-len(self.pairs) // self.batch_size)

    def batches(self, rng: np.random.Generator, ranks: Ranks) -> Iterator[Batch]:
        self._train_mode(True)
        order = epoch_order(len(self.pairs), 1, rng, self.weights)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            if len(batch) < ranks.world:  # a tail too short to give every process a share
                break
            chosen = self.pairs[batch][ranks.rank :: ranks.world]
            inputs = np.stack([self.embeddings[i][w] for i, w in chosen]).astype(np.float32)
            batch_inputs = torch.from_numpy(inputs).to(self.device)
            batch_targets = torch.from_numpy(self.targets[chosen[:, 0]]).to(self.device)
            if self.augmenter is not None:  # training batches only: track_scores never augments
                batch_inputs, batch_targets = self.augmenter.mix(
                    batch_inputs, batch_targets, Dice.roll(rng, self.device)
                )
            yield batch_inputs, batch_targets

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net.head(inputs, self.start.point)  # type: ignore[operator]

    @torch.no_grad()
    def track_scores(self, indices: Sequence[int]) -> np.ndarray:
        self._train_mode(False)
        rows = []
        for index in indices:
            z = torch.from_numpy(np.array(self.embeddings[index], dtype=np.float32)).to(self.device)
            rows.append(activate(self.activation, self.logits(z)).mean(dim=0).float().cpu().numpy())
        return np.stack(rows) if rows else np.zeros((0, self.targets.shape[1]), np.float32)

    def _train_mode(self, training: bool) -> None:
        self.net.eval()
        for name in self.start.head:
            self.net.get_submodule(name).train(training)


class FineTune:
    """The whole network trained on random segments of the cached audio.

    The pretrained layers learn at ``backbone_scale`` times the head's rate.
    Their BatchNorm layers keep the statistics they were trained with
    (evaluation mode): a batch of a few dozen segments from a small data set
    estimates them worse than the base model's millions of windows did, and
    train-time statistics that differ from inference-time ones are the usual
    way a fine-tuned network scores well in training and badly in use.

    From scratch (``--arch``) the starting point's head is the whole network
    (:data:`~mtag.train.start.WHOLE_NETWORK`): every parameter learns at the
    full rate and every BatchNorm layer trains, through the same batches.
    """

    def __init__(
        self,
        start: StartingPoint,
        tagger: Tagger,
        cache: AudioCache,
        plan: WindowPlan,
        targets: np.ndarray,
        train: Sequence[int],
        batch_size: int,
        segment_samples: int,
        segments_per_track: int,
        backbone_scale: float,
        weights: np.ndarray | None = None,
        augmenter: Augmenter | None = None,
    ) -> None:
        self.net = start.net
        self.augmenter = augmenter
        self.start = start
        self.tagger = tagger
        self.cache = cache
        self.plan = plan
        self.targets = targets
        self.train = np.array([i for i in train if cache.length(i) > 0], dtype=np.int64)
        self.batch_size = batch_size
        self.segment_samples = segment_samples
        self.draws = segments_per_track
        self.backbone_scale = backbone_scale
        self.weights = None if weights is None else _normalised(weights[self.train])

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        return [
            {"params": self.start.head_parameters(), "lr": lr, "name": "head"},
            {"params": self.start.backbone_parameters(), "lr": lr * self.backbone_scale, "name": "backbone"},
        ]

    def steps_per_epoch(self) -> int:
        return -(-len(self.train) * self.draws // self.batch_size)

    def batches(self, rng: np.random.Generator, ranks: Ranks) -> Iterator[Batch]:
        self._train_mode()
        order = self.train[epoch_order(len(self.train), self.draws, rng, self.weights)]
        for start in range(0, len(order), self.batch_size):
            # Every rank draws the whole batch's segment starts (so the generators stay in step), reads its own.
            batch = order[start : start + self.batch_size]
            if len(batch) < ranks.world:  # a tail too short to give every process a share
                break
            drawn = [(int(i), self._start(int(i), rng)) for i in batch]
            mine = drawn[ranks.rank :: ranks.world]
            chunks = np.stack([self._segment(i, first) for i, first in mine])
            targets = torch.from_numpy(self.targets[[i for i, _ in mine]]).to(self.tagger.device)
            if self.augmenter is not None:  # training batches only: track_scores never augments
                yield self.augmenter.batch(chunks, targets, self.tagger.features, rng)
                continue
            # Features are computed without autograd (inference mode); a clone is an ordinary tensor to train on.
            yield self.tagger.features(chunks).clone(), targets

    def _start(self, index: int, rng: np.random.Generator) -> int:
        return int(rng.integers(0, max(1, self.cache.length(index) - self.segment_samples + 1)))

    def _segment(self, index: int, start: int) -> np.ndarray:
        if self.cache.length(index) < self.segment_samples:  # a short track is repeated to fill it, as musicnn pads
            return np.resize(self.cache.audio(index), self.segment_samples)
        return self.cache.segment(index, start, self.segment_samples)

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs)

    @torch.no_grad()
    def track_scores(self, indices: Sequence[int]) -> np.ndarray:
        self.net.eval()
        rows = dict(map_windows(self.cache, indices, self.plan, self.batch_size, self.tagger.predict))
        if not len(indices):
            return np.zeros((0, self.targets.shape[1]), np.float32)
        return np.stack([rows[i].mean(axis=0) for i in indices])

    def _train_mode(self) -> None:
        self.net.train()
        head = {id(m) for name in self.start.head for m in self.net.get_submodule(name).modules()}
        for module in self.net.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and id(module) not in head:
                module.eval()


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()
