"""How fast the training audio cache builds, what it costs in memory and disk, and how fast a rebuild is.

Usage: python benchmarks/cache_speed.py [DATA_DIR] [--workers N]

Builds the cache of every audio file under DATA_DIR (default
``../shared/datasets/gtzan-mini``: 93 real FLAC clips, 2,790 s at 22,050 Hz)
at 16,000 Hz, musicnn's rate, into a temporary folder, with the default
workers (one decode process per available core) unless ``--workers`` says
otherwise.  Reports the build's speed in x realtime, the peak RSS of the main
process and of the largest worker, the bytes on disk, and the time of a
second build when everything is cached.  The machine's load average is
printed too: figures from a shared machine are only comparable at equal load.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mtag.audio.decode import SUPPORTED_EXTENSIONS
from mtag.cpu import available_cores
from mtag.data.cache import build_audio_cache
from mtag.units import human_size

RATE = 16000


@dataclass
class CacheBuild:
    """One cache build's figures (the RSS figures are this process's and its workers' peaks so far)."""

    files: int
    workers: int
    seconds: float
    audio_seconds: float
    failures: int
    on_disk: int
    rebuild_seconds: float
    main_rss: int
    worker_rss: int

    @property
    def realtime(self) -> float:
        return self.audio_seconds / self.seconds


def audio_files(data_dir: Path) -> list[Path]:
    """Every audio file under ``data_dir``, sorted."""
    return sorted(p for p in data_dir.rglob("*") if p.suffix.lower() in SUPPORTED_EXTENSIONS)


def measure_build(paths: list[Path], workers: int | None = None) -> CacheBuild:
    """Build the cache of ``paths`` into a fresh temporary folder, then again with everything cached."""
    with tempfile.TemporaryDirectory(prefix="mtag-cache-bench-") as folder:
        started = time.perf_counter()
        cache = build_audio_cache(paths, RATE, root=Path(folder), workers=workers)
        seconds = time.perf_counter() - started
        audio = sum(cache.duration(i) for i in range(len(cache)))
        started = time.perf_counter()
        build_audio_cache(paths, RATE, root=Path(folder), workers=workers)
        rebuild = time.perf_counter() - started
        on_disk = cache.store.nbytes()
    return CacheBuild(
        files=len(paths),
        workers=available_cores() if workers is None else workers,
        seconds=seconds,
        audio_seconds=audio,
        failures=len(cache.failures),
        on_disk=on_disk,
        rebuild_seconds=rebuild,
        main_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        worker_rss=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    )


def main() -> None:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "gtzan-mini"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=default)
    parser.add_argument("--workers", type=int, default=None, help="decode processes (default: one per core)")
    args = parser.parse_args()
    paths = audio_files(args.data_dir)
    workers = available_cores() if args.workers is None else args.workers
    print(f"{len(paths)} files under {args.data_dir}; {workers} worker(s) on {available_cores()} core(s)")
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    build = measure_build(paths, args.workers)
    print(f"build: {build.seconds:.2f} s for {build.audio_seconds:,.0f} s of audio = {build.realtime:.0f}x realtime")
    print(f"failures: {build.failures}")
    print(f"on disk: {human_size(build.on_disk)} ({build.on_disk / build.audio_seconds / RATE:.3f} bytes a sample)")
    print(f"peak RSS: main {human_size(build.main_rss)}, largest worker {human_size(build.worker_rss)}")
    print(f"rebuild with everything cached: {build.rebuild_seconds * 1000:.0f} ms")
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
