"""The hook the training tasks call: a parsed ``--augment`` applied to a training batch, seeded.

Randomness comes from the epoch's numpy generator (the loop seeds it from
``--seed`` and the epoch number): each batch draws one seed from it, and a
:class:`Dice` built from that seed gives a torch generator on the batch's
device and a numpy one.  A resumed run therefore draws exactly what the
uninterrupted run drew, and every process of a distributed run draws the same
seed (each augments its own share of the batch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from mtag.errors import UsageError
from mtag.train.augment import features as feature_ops
from mtag.train.augment import waveform as wave_ops
from mtag.train.augment.spec import FEATURES, MIX, WAVEFORM, Augmentation, AugmentSpec


@dataclass
class Dice:
    """One batch's random generators, both from one seed."""

    gen: torch.Generator
    rng: np.random.Generator

    @classmethod
    def roll(cls, rng: np.random.Generator, device: torch.device) -> Dice:
        seed = int(rng.integers(2**62))
        gen = torch.Generator(device=device)
        gen.manual_seed(seed)
        return cls(gen, np.random.default_rng(seed))

    def uniform(self, bounds: tuple[float, float], count: int, device: torch.device) -> torch.Tensor:
        low, high = bounds
        return low + (high - low) * torch.rand(count, generator=self.gen, device=device)

    def chosen(self, p: float, count: int, device: torch.device) -> torch.Tensor:
        """Which of ``count`` examples an augmentation of probability ``p`` applies to."""
        return torch.rand(count, generator=self.gen, device=device) < p


#: The augmentations the phase vocoder does, and the parameter each draws.
VOCODED = {"stretch": "factor", "pitch": "semitones"}


class Augmenter:
    """A spec's augmentations for one model: waveform ops, input masks and mixup, in that order.

    ``waveform_online=False`` leaves the waveform augmentations out of
    training batches: ``--augment-copies`` applied them once, offline.
    ``spectral`` says whether the network's input is a spectrogram
    (``(B, frames, bands)``), which SpecAugment needs.
    """

    def __init__(
        self, spec: AugmentSpec, sample_rate: int, *, spectral: bool = True, waveform_online: bool = True
    ) -> None:
        if spec.get("specaugment") is not None and not spectral:
            raise UsageError(
                "--augment specaugment masks a spectrogram, and this model takes the waveform",
                hint="leave specaugment out, or augment the waveform (noise, shift, stretch, pitch, gain)",
            )
        self.spec = spec
        self.sample_rate = sample_rate
        self.waveform_online = waveform_online

    def batch(
        self,
        chunks: np.ndarray,
        targets: torch.Tensor,
        featurise: Callable[[torch.Tensor], torch.Tensor],
        rng: np.random.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A training batch: segments ``(B, samples)`` -> augmented network input and (mixed) targets."""
        dice = Dice.roll(rng, targets.device)
        x = torch.as_tensor(chunks).to(targets.device)
        if self.waveform_online:
            x = self.waveform(x, dice)
        inputs = self.features(featurise(x).clone(), dice)
        return self.mix(inputs, targets, dice)

    def waveform(self, x: torch.Tensor, dice: Dice, keep_length: bool = True) -> torch.Tensor:
        """The waveform augmentations on ``(B, samples)``; ``keep_length=False`` (one whole track) lets a stretch
        keep its new length."""
        x = self._vocoded(x, dice, keep_length)
        for augmentation in self.spec.stage(WAVEFORM):
            if augmentation.name not in VOCODED:
                x = self._wave(augmentation, x, dice)
        return x

    def _vocoded(self, x: torch.Tensor, dice: Dice, keep_length: bool) -> torch.Tensor:
        """Stretch and pitch on the rows they were drawn for, in one phase-vocoder pass (the costly part)."""
        batch, device = x.shape[0], x.device
        factors, semitones = torch.ones(batch, device=device), torch.zeros(batch, device=device)
        for a in self.spec.stage(WAVEFORM):
            if a.name in VOCODED:
                chosen = dice.chosen(a.p, batch, device)
                drawn = dice.uniform(a.range(VOCODED[a.name]), batch, device)
                if a.name == "stretch":
                    factors = torch.where(chosen, drawn, factors)
                else:
                    semitones = torch.where(chosen, drawn, semitones)
        rows = (factors != 1) | (semitones != 0)
        if not bool(rows.any()):
            return x
        if not keep_length:  # one whole track (the offline copies): a stretch keeps its new length
            return wave_ops.vocode_rows(x, factors, semitones, self.sample_rate, fit=False)
        out = x.clone()
        out[rows] = wave_ops.vocode_rows(x[rows], factors[rows], semitones[rows], self.sample_rate)
        return out

    def _wave(self, a: Augmentation, x: torch.Tensor, dice: Dice) -> torch.Tensor:
        batch, device = x.shape[0], x.device
        chosen = dice.chosen(a.p, batch, device)
        if a.name == "noise":
            noisy = wave_ops.add_noise(x, dice.uniform(a.range("snr"), batch, device), dice.gen)
            return torch.where(chosen[:, None], noisy, x)
        if a.name == "gain":
            return wave_ops.apply_gain(x, dice.uniform(a.range("db"), batch, device) * chosen)
        assert a.name == "shift"
        offsets = (dice.uniform(a.range("max"), batch, device) * x.shape[-1]).long() * chosen
        return wave_ops.shift(x, offsets, a.choice("mode") == "circular")

    def features(self, x: torch.Tensor, dice: Dice) -> torch.Tensor:
        """SpecAugment on the network's input ``(B, frames, bands)``."""
        for a in self.spec.stage(FEATURES):
            chosen = dice.chosen(a.p, x.shape[0], x.device)
            x = feature_ops.specaugment(
                x,
                int(a.range("freq")[0]),
                a.range("fwidth")[0],
                int(a.range("time")[0]),
                a.range("twidth")[0],
                chosen,
                dice.gen,
            )
        return x

    def mix(self, x: torch.Tensor, y: torch.Tensor, dice: Dice) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixup of the batch with a shuffle of itself, one Beta(alpha, alpha) weight per batch, with probability p."""
        for a in self.spec.stage(MIX):
            if dice.rng.random() >= a.p or len(x) < 2:
                continue
            alpha = a.range("alpha")[0]
            weight = float(dice.rng.beta(alpha, alpha))
            partner = torch.randperm(len(x), generator=dice.gen, device=x.device)
            x, y = feature_ops.mixup(x, y, weight, partner)
        return x, y
