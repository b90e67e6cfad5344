"""Time each model on 30 s of audio on this machine's CPU (or --device).

Usage: python benchmarks/model_speed.py [--device cpu] [--repeat 5] [--batches 1 2 8] [--baseline DIR]

Reports, per model, the median over ``--repeat`` runs of: the end-to-end
analysis of a 30 s, 44.1 kHz stereo FLAC (decode, resample, windows, model)
in a warm process, its process CPU time (all threads), and the network alone
on the same 10 windows; plus a whole fresh ``mtag inspect`` process (Python
start, imports, model load, analysis), comparable with the original's
per-call figures in SPEC.md section 9.  The file is synthesised (a chord
sweep with noise bursts), so the figures need nothing outside the repository.

Then the network alone in windows/s at each of ``--batches``; with
``--baseline`` another models folder (for instance the unpruned models:
``git archive aec703a models | tar -x -C /tmp/old``) is timed in the same
process, alternating run by run, so that a shared CPU's load hits both alike.
``--network-only`` skips the file and process timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import av
import numpy as np
import torch
from safetensors.torch import load_file

from mtag.cards import read_card
from mtag.engine.inference import analyse_file, default_batch_size
from mtag.engine.plans import default_plan
from mtag.nets.registry import build_network
from mtag.nets.tagger import Tagger, load_tagger

MODELS = ("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt")


def synthesise(path: Path, seconds: float = 30.0, rate: int = 44100) -> Path:
    """A stereo FLAC with tonal and noisy parts, like music as far as timing goes."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * f * t * (1 + 0.01 * np.sin(t))) for f in (220.0, 277.2, 329.6))
    bursts = rng.standard_normal(t.size) * (np.sin(2 * np.pi * 2 * t) > 0.9)
    mono = (0.2 * chord + 0.1 * bursts).astype(np.float32)
    stereo = np.stack([mono, 0.9 * mono])
    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="stereo")
        for start in range(0, t.size, 4096):
            chunk = np.round(stereo[:, start : start + 4096].T * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def timed(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def predict_in_batches(tagger: Tagger, logmel: torch.Tensor, batch: int) -> None:
    """The network on every window of ``logmel``, ``batch`` windows a call (the engine's batching)."""
    for i in range(0, len(logmel), batch):
        tagger.predict_features(logmel[i : i + batch])


def load_network(directory: Path) -> torch.nn.Module:
    """A model folder's network in eval mode, from its card (format 1 or 2) and weights (no catalog)."""
    card = read_card(directory)
    network = build_network(card.architecture, card.params).eval()
    _, unexpected = network.load_state_dict(load_file(card.weights_path), strict=False)
    assert not unexpected, unexpected
    return network


def windows_per_second(network: torch.nn.Module, logmel: torch.Tensor, batch: int) -> float:
    """Throughput of one pass over ``logmel``'s windows in batches of ``batch``."""
    with torch.inference_mode():
        start = time.perf_counter()
        for i in range(0, len(logmel), batch):
            network(logmel[i : i + batch])
    return len(logmel) / (time.perf_counter() - start)


def network_speeds(directories: dict[str, Path], batches: list[int], repeat: int, windows: int) -> None:
    """Windows/s of each model folder's networks at each batch size, runs alternating between folders."""
    print(f"network alone, windows/s (median of {repeat}); {windows} windows of 187 frames a run")
    print(f"{'model':12} {'batch':>5} " + " ".join(f"{label:>10}" for label in directories))
    logmel = torch.from_numpy(np.random.default_rng(2).uniform(0.0, 4.0, (windows, 187, 96)).astype(np.float32))
    for name in MODELS:
        networks = {label: load_network(folder / name) for label, folder in directories.items()}
        for batch in batches:
            runs: dict[str, list[float]] = {label: [] for label in networks}
            for network in networks.values():
                windows_per_second(network, logmel[: 2 * batch], batch)  # warm-up
            for _ in range(repeat):
                for label, network in networks.items():
                    runs[label].append(windows_per_second(network, logmel, batch))
            print(f"{name:12} {batch:5} " + " ".join(f"{statistics.median(r):10.1f}" for r in runs.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 8])
    parser.add_argument("--baseline", type=Path, help="a models folder to time the networks against")
    parser.add_argument("--windows", type=int, default=48, help="windows per network run (default 48)")
    parser.add_argument("--network-only", action="store_true", help="skip the file and fresh-process timings")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, device {args.device}")
    if args.device == "cpu":
        folders = {"models": Path(__file__).resolve().parents[1] / "models"}
        if args.baseline:
            folders = {"baseline": args.baseline, **folders}
        network_speeds(folders, args.batches, args.repeat, args.windows)
    if args.network_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        audio = synthesise(Path(tmp) / "30s.flac")
        print(f"{'model':12} {'file wall s':>12} {'file CPU s':>11} {'network s':>10} {'fresh process s':>16}")
        for name in MODELS:
            tagger = load_tagger(name, args.device)
            batch = default_batch_size(tagger.device)
            analyse_file(audio, tagger)  # warm-up
            runs = [timed(partial(analyse_file, audio, tagger)) for _ in range(args.repeat)]
            noise = np.random.default_rng(1).standard_normal((10, default_plan(tagger.card).chunk_samples))
            logmel = tagger.features(noise.astype(np.float32))
            net = [timed(partial(predict_in_batches, tagger, logmel, batch))[0] for _ in range(args.repeat)]
            command = [sys.executable, "-m", "mtag", "inspect", str(audio), "--json"]
            command += ["-m", name, "--device", args.device]
            fresh = [timed(partial(subprocess.run, command, check=True, capture_output=True))[0] for _ in range(3)]
            file_wall, file_cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            print(
                f"{name:12} {file_wall:12.3f} {file_cpu:11.3f} "
                f"{statistics.median(net):10.3f} {statistics.median(fresh):16.2f}"
            )


if __name__ == "__main__":
    main()
