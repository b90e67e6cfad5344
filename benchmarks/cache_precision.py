"""What storing the decoded audio as int16 or float16 costs in fidelity: signal error and model scores.

Usage: python benchmarks/cache_precision.py [DATA_DIR] [FILES]

Decodes FILES (default 30) real clips of DATA_DIR (default
``../shared/datasets/gtzan-mini``) at 16 kHz through ``stream_audio``, stores
each as int16 (scaled by 32767, clipped) and as float16, and reports the
signal-to-noise ratio of the round trip, the largest sample error, how many
samples int16 would clip, and the largest change of a musicnn-msd window
score and track score against the float32 signal.  These figures chose the
audio cache's storage type (see src/mtag/data/cache.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from mtag.audio.decode import load_audio
from mtag.audio.windows import iter_windows
from mtag.catalog import find_model
from mtag.engine.plans import default_plan
from mtag.nets.tagger import Tagger

RATE = 16000


def as_int16(signal: np.ndarray) -> np.ndarray:
    return (np.clip(np.round(signal * 32767), -32768, 32767).astype(np.int16)).astype(np.float32) / 32767


def as_float16(signal: np.ndarray) -> np.ndarray:
    return signal.astype(np.float16).astype(np.float32)


def snr_db(signal: np.ndarray, stored: np.ndarray) -> float:
    noise = float(np.sum((signal - stored) ** 2))
    return float("inf") if noise == 0 else 10 * np.log10(float(np.sum(signal**2)) / noise)


def main(data_dir: Path, count: int) -> None:
    card = find_model("musicnn-msd")
    tagger = Tagger(card, torch.device("cpu"), "fp32")
    plan = default_plan(card)
    every = sorted(data_dir.rglob("*.flac"))
    files = every[:: max(1, len(every) // count)][:count]  # spread over the genres
    rows = {"int16": [], "float16": []}
    for path in files:
        signal = load_audio(path, RATE)
        windows = np.stack([w.samples for w in iter_windows([signal], plan)])
        reference = tagger.predict(windows)
        for name, store in (("int16", as_int16), ("float16", as_float16)):
            stored = store(signal)
            scores = tagger.predict(np.stack([w.samples for w in iter_windows([stored], plan)]))
            rows[name].append(
                (
                    snr_db(signal, stored),
                    float(np.abs(signal - stored).max()),
                    int(np.sum(np.abs(signal) > 1.0)),
                    float(np.abs(scores - reference).max()),
                    float(np.abs(scores.mean(0) - reference.mean(0)).max()),
                )
            )
    print(f"{len(files)} clips of {data_dir} at {RATE} Hz; musicnn-msd fp32\n")
    print("| storage | bytes/s | SNR dB (min / median) | max sample error | samples > 1.0 | max dwindow | max dtrack |")
    print("|---|---|---|---|---|---|---|")
    for name, values in rows.items():
        a = np.array(values)
        print(
            f"| {name} | {2 * RATE} | {a[:, 0].min():.1f} / {np.median(a[:, 0]):.1f} | {a[:, 1].max():.1e} |"
            f" {int(a[:, 2].sum())} | {a[:, 3].max():.1e} | {a[:, 4].max():.1e} |"
        )


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "gtzan-mini"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else root, int(sys.argv[2]) if len(sys.argv) > 2 else 30)
