"""Run by ``torchrun`` in the distributed-training test: one rank of a training run on the tone data set.

Usage: ddp_worker.py BASE_DIR DATA_DIR MODELS_DIR NAME
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    base, data, models, name = sys.argv[1:5]
    os.environ["MTAG_MODEL_PATH"] = base
    from mtag.nets import registry
    from mtag.train import loop
    from mtag.train.run import TrainRequest, train
    from tests.nets.tiny import TINY, TINY_TARGET
    from tests.train.helpers import ddp_settings, reload_tone_dataset

    registry.ARCHITECTURES[TINY] = TINY_TARGET
    seen = []  # examples in each of this rank's training steps
    compute = loop.LossFunction.__call__

    def counting(self, logits, targets):  # type: ignore[no-untyped-def]
        seen.append(len(targets))
        return compute(self, logits, targets)

    loop.LossFunction.__call__ = counting  # type: ignore[method-assign]
    dataset = reload_tone_dataset(Path(data))
    train(TrainRequest(dataset, ddp_settings(), name=name, models_dir=Path(models), workers=0))
    rank, world = os.environ["RANK"], os.environ["WORLD_SIZE"]
    Path(models, f"rank{rank}of{world}.txt").write_text(" ".join(map(str, seen)))


if __name__ == "__main__":
    main()
