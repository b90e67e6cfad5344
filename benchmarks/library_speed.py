"""Speed and memory of ``mtag tag`` on a generated library, as a user runs it.

Usage: python benchmarks/library_speed.py [--tracks 40] [--seconds 240] [--long-hours 3] [--work DIR]

Builds (once, cached in ``--work``) a library of ``--tracks`` synthetic tracks
of ``--seconds`` each in mixed formats (mp3, flac, ogg, m4a, wav; 44.1 kHz
stereo), and one ``--long-hours`` MP3, then runs the real command line in a
fresh process for each configuration -- full analysis at fp32, full analysis
at ``--precision auto``, and ``--sample 8`` -- each with ``--dry-run``, which
neither skips nor writes anything, so every run analyses every file.  Reported per configuration:
tracks per minute, times realtime, seconds per track, and the peak resident
memory of the whole process tree (the main process plus decode workers,
sampled every 50 ms from /proc).  The signals are chords, sweeps and noise
bursts, so the figures need nothing outside the repository; the model's cost
does not depend on what the music is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.audio.synth
from tests.audio.synth import write_blocks  # noqa: E402

EXTENSIONS = (".mp3", ".flac", ".ogg", ".m4a", ".wav")
RATE = 44100
BLOCK = RATE * 10  # samples encoded at a time: the long file never sits in memory


def music_like(rng: np.random.Generator, start: int, n: int) -> np.ndarray:
    """Stereo float32 (2, n): a chord that changes every 2 s, a sweep, and drum-like noise bursts."""
    t = (start + np.arange(n)) / RATE
    root = 110.0 * 2 ** (np.floor(t / 2) % 12 / 12)
    chord = sum(np.sin(2 * np.pi * root * ratio * t) for ratio in (1.0, 1.26, 1.5, 2.0)) / 4
    sweep = 0.2 * np.sin(2 * np.pi * (300 + 200 * np.sin(0.1 * t)) * t)
    beat = (np.modf(t * 2)[0] < 0.05) * rng.standard_normal(n) * 0.5
    mono = (0.5 * chord + sweep + beat).astype(np.float32) * 0.6
    return np.stack([mono, 0.8 * mono])


def encode(path: Path, seconds: float, seed: int) -> None:
    """Encode ``seconds`` of :func:`music_like` block by block (format from the extension)."""
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE)
    blocks = (music_like(rng, start, min(BLOCK, total - start)) for start in range(0, total, BLOCK))
    partial = path.with_name(f"partial-{path.name}")
    write_blocks(partial, blocks, RATE, channels=2)
    partial.rename(path)


def build_library(work: Path, tracks: int, seconds: float) -> Path:
    """``tracks`` files of ``seconds`` each in mixed formats, made once and cached under ``work``."""
    library = work / f"library-{tracks}x{seconds:g}s"
    library.mkdir(parents=True, exist_ok=True)
    for i in range(tracks):
        path = library / f"track{i:03d}{EXTENSIONS[i % len(EXTENSIONS)]}"
        if not path.exists():
            encode(path, seconds, seed=i)
    return library


def build(work: Path, tracks: int, seconds: float, long_hours: float) -> tuple[Path, Path]:
    library = build_library(work, tracks, seconds)
    long_file = work / f"mix-{long_hours:g}h.mp3"
    if not long_file.exists():
        encode(long_file, long_hours * 3600, seed=999)
    return library, long_file


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def run_measured(cmd: list[str], work: Path, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``cmd`` in a fresh process (its index under ``work``; ``env`` added): wall seconds, peak tree RSS, stdout."""
    env = {**os.environ, "XDG_DATA_HOME": str(work / "data"), **(env or {})}
    started = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak = 0

    def poll() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll)
    watcher.start()
    try:
        out, err = process.communicate()
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the measured process goes too
        process.kill()
        raise
    finally:
        watcher.join()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({process.returncode}):\n{err}")
    return wall, peak, out


def measure(args: list[str], work: Path, env: dict[str, str] | None = None) -> dict:
    """Run ``mtag tag ARGS --dry-run --json`` in a fresh process; wall time, peak tree RSS, its report."""
    wall, peak, out = run_measured([sys.executable, "-m", "mtag", "tag", *args, "--dry-run", "--json"], work, env)
    return {"wall": wall, "peak_rss": peak, "report": json.loads(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--long-hours", type=float, default=3.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/mtag-bench"))
    parser.add_argument("--model", default="musicnn-msd")
    args = parser.parse_args()
    library, long_file = build(args.work, args.tracks, args.seconds, args.long_hours)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}"
    )
    print(
        f"library: {args.tracks} tracks x {args.seconds:g} s (mp3/flac/ogg/m4a/wav, 44.1 kHz stereo);"
        f" model {args.model}\n"
    )
    print("| configuration | tracks/min | x realtime | s per track | peak RSS (tree) |")
    print("|---|---|---|---|---|")
    configs = {
        "full, fp32": ["--precision", "fp32"],
        "full, --precision auto": ["--precision", "auto"],
        "--sample 8": ["--sample", "8"],
    }
    for name, extra in configs.items():
        result = measure([str(library), "--model", args.model, *extra], args.work)
        audio = result["report"]["audio_seconds"]
        wall = result["wall"]
        print(
            f"| {name} | {args.tracks / wall * 60:.1f} | {audio / wall:.0f} | {wall / args.tracks:.2f} |"
            f" {result['peak_rss'] / 2**20:.0f} MiB |"
        )
    result = measure([str(long_file), "--model", args.model, "--precision", "fp32"], args.work)
    realtime = result["report"]["audio_seconds"] / result["wall"]
    print(
        f"| one {args.long_hours:g}-hour MP3, full fp32 | - | {realtime:.0f} |"
        f" {result['wall']:.1f} | {result['peak_rss'] / 2**20:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
