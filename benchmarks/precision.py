"""How far bf16 / fp16 autocast moves scores and genre decisions, and how much faster it is.

Usage: python benchmarks/precision.py [SHARED_DIR]

For each shipped model and each reference recording in
``SHARED_DIR/reference/musicnn/audio`` (default ``../shared``), analyses the
file at fp32, bf16 and fp16 (CPU autocast) and reports the largest change of a
window score and of a track score, and whether the genre decision of
``mtag tag`` (default top 3 and threshold) stays the same.  Then times the
network alone per precision at the CPU batch size.  These figures are what
``--precision auto`` is based on (see src/mtag/nets/precision.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from mtag.catalog import find_model
from mtag.engine.inference import CPU_BATCH_SIZE, analyse_file
from mtag.nets.precision import cpu_has_native_bf16
from mtag.nets.tagger import Tagger
from mtag.taxonomy import load_taxonomy

MODELS = ("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt")
REDUCED = ("bf16", "fp16")


def main(shared: Path) -> None:
    taxonomy = load_taxonomy()
    audio_files = sorted((shared / "reference" / "musicnn" / "audio").iterdir())
    print(f"CPU native bf16: {cpu_has_native_bf16()}, threads: {torch.get_num_threads()}\n")
    print("| model | file | genres at fp32 | bf16: max dwindow / dtrack / same | fp16: max dwindow / dtrack / same |")
    print("|---|---|---|---|---|")
    for name in MODELS:
        taggers = {p: Tagger(find_model(name), torch.device("cpu"), p) for p in ("fp32", *REDUCED)}
        for path in audio_files:
            results = {p: analyse_file(path, tagger) for p, tagger in taggers.items()}
            windows = {p: np.stack([s.scores for s in r.segments]) for p, r in results.items()}
            decisions = {p: [c.name for c in taxonomy.decide(r.labels, r.mean)] for p, r in results.items()}
            cells = []
            for p in REDUCED:
                d_window = np.abs(windows[p] - windows["fp32"]).max()
                d_track = np.abs(results[p].mean - results["fp32"].mean).max()
                cells.append(f"{d_window:.1e} / {d_track:.1e} / {'yes' if decisions[p] == decisions['fp32'] else 'NO'}")
            print(f"| {name} | {path.name} | {', '.join(decisions['fp32']) or '-'} | {' | '.join(cells)} |")
    print("\n| model | " + " | ".join(f"{p} windows/s" for p in ("fp32", *REDUCED)) + " |")
    print("|---|---|---|---|")
    for name in MODELS:
        speeds = [speed(Tagger(find_model(name), torch.device("cpu"), p)) for p in ("fp32", *REDUCED)]
        print(f"| {name} | " + " | ".join(f"{s:.0f}" for s in speeds) + " |")


def speed(tagger: Tagger, windows: int = 32) -> float:
    """Network windows per second at the CPU batch size (front end excluded: it is fp32 always)."""
    logmel = tagger.features(torch.randn(windows, 48128) * 0.1)
    for i in range(0, 8, CPU_BATCH_SIZE):  # warm-up
        tagger.predict_features(logmel[i : i + CPU_BATCH_SIZE])
    started = time.perf_counter()
    for i in range(0, windows, CPU_BATCH_SIZE):
        tagger.predict_features(logmel[i : i + CPU_BATCH_SIZE])
    return windows / (time.perf_counter() - started)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared")
