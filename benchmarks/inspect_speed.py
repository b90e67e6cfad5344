"""Speed and memory of ``mtag inspect`` on one generated track, with and without --explain and --plot.

Usage: python benchmarks/inspect_speed.py [--seconds 240] [--long-hours 3] [--work DIR]

Encodes (once, cached in ``--work``) a ``--seconds`` FLAC of the same synthetic
music as ``library_speed.py`` and a ``--long-hours`` MP3, then runs the real
command line in a fresh process per configuration and reports its wall time
(model loading included) and the peak resident memory of the process, sampled
every 50 ms from /proc.  The long file runs with ``--plot`` only: that is the
path that could grow with the file (the spectrogram), and ``--explain`` on it
costs seven model passes per window.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # library_speed, beside this file
from library_speed import encode, run_measured  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--long-hours", type=float, default=3.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/mtag-bench"))
    options = parser.parse_args()
    options.work.mkdir(parents=True, exist_ok=True)
    track = options.work / f"inspect-{options.seconds:g}s.flac"
    long = options.work / f"mix-{options.long_hours:g}h.mp3"
    if not track.exists():
        encode(track, options.seconds, seed=7)
    if options.long_hours and not long.exists():
        encode(long, options.long_hours * 3600, seed=99)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print("| file | options | wall (s) | peak RSS (MiB) |")
    print("|---|---|---|---|")
    plot = options.work / "plot.png"
    configurations = [
        (track, []),
        (track, ["--json"]),
        (track, ["--explain"]),
        (track, ["--plot", str(plot)]),
        (track, ["--explain", "--plot", str(plot)]),
    ]
    if options.long_hours:
        configurations.append((long, ["--plot", str(plot), "--json"]))
    for path, args in configurations:
        wall, peak, _ = run_measured([sys.executable, "-m", "mtag", "inspect", str(path), *args], options.work)
        shown = " ".join(a if a != str(plot) else "x.png" for a in args) or "(none)"
        print(f"| {path.name} | {shown} | {wall:.1f} | {peak / 2**20:.0f} |", flush=True)


if __name__ == "__main__":
    main()
