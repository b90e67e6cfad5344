"""What a training run is: its hyper-parameters, and the defaults a user on a CPU should get.

Defaults are chosen for the path a new user takes first: a new head on the
frozen ``musicnn-msd`` network, which trains in minutes on a laptop CPU.
Fine-tuning the whole network (``freeze=False``) gets a lower learning rate
for the pretrained layers than for the new head (discriminative learning
rates), so the head can move fast without wrecking what the backbone knows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from mtag.catalog import DEFAULT_MODEL
from mtag.errors import UsageError

BALANCES = ("auto", "weights", "sampler", "none")

#: Head training on frozen features is cheap (a few thousand vectors), so it gets
#: many epochs and patience; fine-tuning a whole network gets fewer.
FROZEN_EPOCHS, FINE_TUNE_EPOCHS = 60, 20
FROZEN_LR, FINE_TUNE_LR = 1e-3, 3e-4

#: --augment-copies: each copy is another copy of the training audio on disk (and in embeddings).
MAX_COPIES = 20


@dataclass(frozen=True)
class TrainSettings:
    """A run's settings.  ``None`` means "the default for this kind of run" (see :meth:`resolved`)."""

    base: str = DEFAULT_MODEL  # the installed model to start from (--from)
    freeze: bool = True  # train only a new head on the base's features
    point: str | None = None  # where the new head sits (the base network's TRANSFER_POINTS; first = default)
    epochs: int | None = None
    batch_size: int = 32
    lr: float | None = None
    backbone_lr_scale: float = 0.1  # fine-tuning: the pretrained layers learn at lr x this
    weight_decay: float = 1e-2
    warmup: float = 0.05  # share of the steps spent warming the learning rate up
    clip: float = 1.0  # gradient-norm clipping
    patience: int = 10  # epochs without a better validation figure before stopping early
    segment: float | None = None  # seconds of audio per training example (default: the model's window)
    segments_per_track: int = 4  # fine-tuning: random segments drawn from each track per epoch
    balance: str = "auto"  # class imbalance: class-weighted loss, balanced sampling, or nothing
    seed: int = 0
    augment: str | None = None  # --augment: training-time augmentations (mtag.train.augment.spec)
    augment_copies: int = 0  # --augment-copies: altered copies of each training track, made once

    def resolved(self) -> TrainSettings:
        """The settings with every default filled in and every value checked."""
        settings = replace(
            self,
            epochs=self.epochs if self.epochs is not None else FROZEN_EPOCHS if self.freeze else FINE_TUNE_EPOCHS,
            lr=self.lr if self.lr is not None else FROZEN_LR if self.freeze else FINE_TUNE_LR,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Usage errors for values no run can use, naming the option."""
        checks = [
            ("--epochs", self.epochs is None or self.epochs >= 1, "at least 1"),
            ("--batch-size", self.batch_size >= 1, "at least 1"),
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
        if spec is not None and self.freeze and waveform and not self.augment_copies:
            raise UsageError(
                "--augment noise, shift, gain, stretch and pitch alter the audio, and the frozen-network path "
                "trains on embeddings computed once",
                hint="add --augment-copies N (altered copies, embedded once) or train with --fine-tune",
            )
        if spec is not None and self.freeze and spec.stage(FEATURES):
            raise UsageError(
                "--augment specaugment masks the network's input, which the frozen-network path never sees",
                hint="train with --fine-tune, or leave specaugment out",
            )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
