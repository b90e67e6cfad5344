"""What a training run is: its hyper-parameters, and the defaults a user on a CPU should get.

Defaults are chosen for the path a new user takes first: a new head on the
frozen ``musicnn-msd`` network, which trains in minutes on a laptop CPU.
Fine-tuning the whole network (``freeze=False``) gets a lower learning rate
for the pretrained layers than for the new head (discriminative learning
rates), so the head can move fast without wrecking what the backbone knows.
Training an architecture from scratch (``arch``) takes its schedule from the
architecture's :class:`~mtag.nets.recipes.Recipe`: the values its paper used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from mtag.catalog import DEFAULT_MODEL
from mtag.errors import UsageError
from mtag.nets.recipes import Recipe, recipe

BALANCES = ("auto", "weights", "sampler", "none")

#: Head training on frozen features is cheap (a few thousand vectors), so it gets
#: many epochs and patience; fine-tuning a whole network gets fewer.
FROZEN_EPOCHS, FINE_TUNE_EPOCHS = 60, 20
FROZEN_LR, FINE_TUNE_LR = 1e-3, 3e-4
BATCH_SIZE = 32
#: The front ends ``--frontend`` chooses between for an architecture on a spectrogram.
FRONTEND_CHOICES = ("logmel", "mfcc")

#: --augment-copies: each copy is another copy of the training audio on disk (and in embeddings).
MAX_COPIES = 20


@dataclass(frozen=True)
class TrainSettings:
    """A run's settings.  ``None`` means "the default for this kind of run" (see :meth:`resolved`)."""

    base: str | None = None  # the installed model to start from (--from; default: DEFAULT_MODEL unless arch)
    freeze: bool = True  # train only a new head on the base's features
    point: str | None = None  # where the new head sits (the base network's TRANSFER_POINTS; first = default)
    arch: str | None = None  # train this registered architecture from scratch instead (--arch)
    params: dict[str, Any] = field(default_factory=dict)  # arch: constructor parameters overriding the recipe's
    frontend: str | None = None  # arch: logmel or mfcc instead of the recipe's front end
    sample_rate: int | None = None  # arch: front-end overrides (None: the recipe's)
    n_mels: int | None = None
    n_fft: int | None = None
    hop: int | None = None
    n_mfcc: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    backbone_lr_scale: float = 0.1  # fine-tuning: the pretrained layers learn at lr x this
    weight_decay: float = 1e-2
    warmup: float = 0.05  # share of the steps spent warming the learning rate up
    clip: float = 1.0  # gradient-norm clipping
    patience: int = 10  # epochs without a better validation figure before stopping early
    segment: float | None = None  # seconds of audio per training example (default: the model's window)
    segments_per_track: int = 4  # fine-tuning: random segments drawn from each track per epoch
    balance: str = "auto"  # class imbalance: class-weighted loss, balanced sampling, or nothing
    accumulate: int = 1  # micro-batches whose gradients make one step (effective batch: batch_size x this)
    seed: int = 0
    augment: str | None = None  # --augment: training-time augmentations (mtag.train.augment.spec)
    augment_copies: int = 0  # --augment-copies: altered copies of each training track, made once

    @property
    def frontend_overrides(self) -> dict[str, Any]:
        """The front-end options given, by option name (``--n-mels``: 64 ...)."""
        values = {
            "--frontend": self.frontend,
            "--sample-rate": self.sample_rate,
            "--n-mels": self.n_mels,
            "--n-fft": self.n_fft,
            "--hop": self.hop,
            "--n-mfcc": self.n_mfcc,
        }
        return {option: value for option, value in values.items() if value is not None}

    def resolved(self) -> TrainSettings:
        """The settings with every default filled in and every value checked."""
        self.check()
        if self.arch is not None:
            return self._resolved_arch()
        if self.params or self.frontend_overrides:
            option = "--param" if self.params else next(iter(self.frontend_overrides))
            raise UsageError(
                f"{option} applies to --arch only: a model trained --from keeps its base's network and front end"
            )
        settings = replace(
            self,
            base=self.base or DEFAULT_MODEL,
            epochs=self.epochs if self.epochs is not None else FROZEN_EPOCHS if self.freeze else FINE_TUNE_EPOCHS,
            lr=self.lr if self.lr is not None else FROZEN_LR if self.freeze else FINE_TUNE_LR,
            batch_size=self.batch_size or BATCH_SIZE,
        )
        settings.check()
        return settings

    def arch_recipe(self) -> Recipe:
        """The recipe of ``arch``, an unknown or untrainable architecture being a usage error."""
        assert self.arch is not None
        try:
            return recipe(self.arch)
        except ValueError as exc:
            raise UsageError(f"--arch: {exc}") from None

    def _resolved_arch(self) -> TrainSettings:
        """From scratch: no base, every layer trained, the recipe's schedule where the user gave none."""
        if self.base is not None:
            raise UsageError("--arch and --from cannot be used together: --arch trains a new network from scratch")
        if self.point is not None:
            raise UsageError("--point applies to --from only: a network trained from scratch has no new head")
        found = self.arch_recipe()
        settings = replace(
            self,
            freeze=False,
            epochs=self.epochs if self.epochs is not None else found.epochs,
            lr=self.lr if self.lr is not None else found.lr,
            batch_size=self.batch_size or found.batch_size,
            segment=self.segment if self.segment is not None else found.segment,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Usage errors for values no run can use, naming the option."""
        checks = [
            ("--epochs", self.epochs is None or self.epochs >= 1, "at least 1"),
            ("--batch-size", self.batch_size is None or self.batch_size >= 1, "at least 1"),
            ("--accumulate", self.accumulate >= 1, "at least 1"),
            ("--frontend", self.frontend is None or self.frontend in FRONTEND_CHOICES, " or ".join(FRONTEND_CHOICES)),
            ("--sample-rate", self.sample_rate is None or 1000 <= self.sample_rate <= 384000, "1000 to 384000 Hz"),
            ("--n-mels", self.n_mels is None or self.n_mels >= 1, "at least 1"),
            ("--n-fft", self.n_fft is None or self.n_fft >= 16, "at least 16"),
            ("--hop", self.hop is None or self.hop >= 1, "at least 1 sample"),
            ("--n-mfcc", self.n_mfcc is None or self.n_mfcc >= 1, "at least 1"),
            ("--lr", self.lr is None or (math.isfinite(self.lr) and 0 < self.lr < 10), "between 0 and 10"),
            (
                "--segment",
                self.segment is None or (math.isfinite(self.segment) and 0.5 <= self.segment <= 60),
                "0.5 to 60 seconds",
            ),
            ("--segments-per-track", self.segments_per_track >= 1, "at least 1"),
            ("--patience", self.patience >= 1, "at least 1"),
            ("--balance", self.balance in BALANCES, f"one of {', '.join(BALANCES)}"),
        ]
        for option, ok, expected in checks:
            if not ok:
                raise UsageError(f"{option} must be {expected}")
        self._check_augment()

    def _check_augment(self) -> None:
        """The augmentation options: a valid spec, and one this kind of run can apply (see README, Training)."""
        from mtag.train.augment.spec import FEATURES, WAVEFORM, parse_augment

        if not 0 <= self.augment_copies <= MAX_COPIES:
            raise UsageError(f"--augment-copies must be 0 to {MAX_COPIES}")
        spec = parse_augment(self.augment) if self.augment is not None else None
        waveform = spec is not None and bool(spec.stage(WAVEFORM))
        if self.augment_copies and not waveform:
            raise UsageError(
                "--augment-copies makes copies with --augment's waveform augmentations, and none is given",
                hint="add e.g. --augment noise:snr=10,stretch",
            )
        frozen = self.freeze and self.arch is None  # a network trained from scratch is never frozen
        if spec is not None and frozen and waveform and not self.augment_copies:
            raise UsageError(
                "--augment noise, shift, gain, stretch and pitch alter the audio, and the frozen-network path "
                "trains on embeddings computed once",
                hint="add --augment-copies N (altered copies, embedded once) or train with --fine-tune",
            )
        if spec is not None and frozen and spec.stage(FEATURES):
            raise UsageError(
                "--augment specaugment masks the network's input, which the frozen-network path never sees",
                hint="train with --fine-tune, or leave specaugment out",
            )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
