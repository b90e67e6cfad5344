"""Speed of each ``--augment`` augmentation on a training batch: 16 segments of 3 s at 16 kHz, p=1.

Run: ``python benchmarks/augment_speed.py [--device cuda] [--repeats 10]``.  Prints segments/s per
augmentation and for all waveform ones together; compare with fine-tuning's own rate (the epoch log's
``examples/s``), which the augmentations must not drag down.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mtag  # noqa: F401  (before torch: its OpenMP threads sleep while they wait, as in mtag's own runs)

RATE, SECONDS, BATCH = 16000, 3.0, 16
SPECS = {
    "noise": "noise:p=1",
    "shift": "shift:p=1",
    "gain": "gain:p=1",
    "stretch": "stretch:p=1",
    "pitch": "pitch:p=1",
    "all waveform": "noise:p=1,shift:p=1,gain:p=1,stretch:p=1,pitch:p=1",
    "specaugment": "specaugment",
    "mixup": "mixup",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    import torch

    from mtag.train.augment import Augmenter, Dice, parse_augment

    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    chunks = torch.from_numpy(rng.standard_normal((BATCH, int(RATE * SECONDS))).astype(np.float32)).to(device)
    features = torch.randn(BATCH, 187, 96, device=device)
    targets = torch.eye(BATCH, 10, device=device)
    for name, text in SPECS.items():
        augmenter = Augmenter(parse_augment(text), RATE)
        times = []
        for _ in range(args.repeats + 1):
            dice = Dice.roll(rng, device)
            started = time.perf_counter()
            if name == "specaugment":
                augmenter.features(features, dice)
            elif name == "mixup":
                augmenter.mix(features, targets, dice)
            else:
                augmenter.waveform(chunks, dice)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        best = float(np.median(times[1:]))
        print(f"{name:14s} {BATCH / best:9.0f} segments/s  ({best * 1000:.1f} ms per batch of {BATCH})")


if __name__ == "__main__":
    main()
