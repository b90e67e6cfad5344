"""Training on real audio: cache speed, transfer end to end, cross-validated accuracy, fine-tuning, memory.

Usage: python benchmarks/train_gtzan_mini.py [DATA_DIR] [--quick] [--json FILE]
           [--parts cache,frozen,finetune,memory] [--finetune-epochs 10] [--finetune-folds 5]

On DATA_DIR (default ``../shared/datasets/gtzan-mini``: 93 real GTZAN clips,
10 genres) this measures what issue 10 asks of ``mtag train``:

1. ``cache``: the audio cache's build speed (x realtime) with the default
   workers into a fresh folder (:func:`cache_speed.measure_build`).
2. ``frozen``: the default run (a new head on the frozen musicnn-msd) on each
   fold of a grouped 5-fold split (GTZAN's groups: blocks of 5 consecutive
   indices), for both transfer points.  The first run starts from an empty
   cache, so its wall time is the end-to-end figure (cache + features + head
   training + test); the others reuse the audio cache (a point's features are
   computed once, on its first fold).  Test accuracy per fold, mean +- std,
   min-max, best epochs.
3. ``finetune``: the whole network (``freeze=False``, defaults except
   ``--finetune-epochs``) on ``--finetune-folds`` folds: seconds per epoch,
   segments/s, test accuracy.
4. ``memory`` (run first): frozen and fine-tune runs on a third of the data set (three
   genres) and on all of it, each in a fresh process with a fresh cache: peak RSS
   (getrusage) and the peak of its anonymous part (sampled from /proc every
   20 ms; the rest is the memory-mapped cache's pages, which the kernel can
   drop at any time), and training throughput.

Everything goes into a temporary folder (models, caches) that is deleted at
the end.  The machine's load average is printed: figures from a shared
machine are only comparable at equal load.  ``--quick`` is a smoke run (one
fold, one point, one fine-tuning epoch, fine-tune memory on a third only).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmarks
from cache_speed import audio_files, measure_build  # noqa: E402

from mtag.data import VALID, Dataset  # noqa: E402
from mtag.data.load import load_dataset  # noqa: E402
from mtag.data.options import DatasetOptions  # noqa: E402
from mtag.errors import UsageError  # noqa: E402
from mtag.train.events import EpochRecord, TrainEvents  # noqa: E402

FOLDS = 5
POINTS = ("penultimate", "pooled")
MiB = 1024 * 1024


class Timings(TrainEvents):
    """Records when each epoch's training steps ended, so throughput can leave validation out."""

    def __init__(self, on_stage: Callable[[str], None] | None = None) -> None:
        self.on_stage = on_stage
        self.mark = 0.0
        self.last_step = 0.0
        self.train_seconds: list[float] = []
        self.records: list[EpochRecord] = []

    def stage(self, name: str, total: int) -> None:
        if self.on_stage is not None:
            self.on_stage(name)
        if name == "train":
            self.mark = time.perf_counter()

    def step(self, step: int, steps: int, loss: float) -> None:
        self.last_step = time.perf_counter()

    def epoch(self, record: EpochRecord) -> None:
        self.train_seconds.append(self.last_step - self.mark)
        self.records.append(record)
        self.mark = time.perf_counter()


def fold_dataset(data_dir: Path, fold: int) -> Dataset:
    """Fold ``fold`` as test, the next fold as validation (``mtag train --split folds --fold N``)."""
    options = DatasetOptions(split="folds", folds=FOLDS, fold=fold, seed=0)
    return load_dataset("gtzan", data_dir, options)


def third(dataset: Dataset) -> Dataset:
    """The tracks of three of the ten genres: a data set about a third the size, splits unchanged.

    (Every third track of each split would leave some genre fewer than the
    three training tracks ``mtag train`` asks for.)
    """
    labels = dataset.labels[:3]
    kept = [e for e in dataset.examples if e.labels[0] in labels]
    return dataclasses.replace(dataset, labels=labels, examples=kept)


def run_training(
    dataset: Dataset,
    root: Path,
    name: str,
    cache: Path,
    on_stage: Callable[[str], None] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """One ``mtag train`` run through its Python entry point; its figures."""
    from mtag.train.run import TrainRequest, train
    from mtag.train.settings import TrainSettings

    timings = Timings(on_stage)
    request = TrainRequest(
        dataset, TrainSettings(**settings), name=name, models_dir=root / "models", cache_dir=cache, force=True
    )
    started = time.perf_counter()
    result = train(request, timings)
    wall = time.perf_counter() - started
    seen = [r.examples_per_second * r.seconds for r in timings.records]
    return {
        "name": name,
        "settings": settings,
        "tracks": result.counts,
        "test_accuracy": result.test["accuracy"],
        "valid_accuracy": result.fit.best_valid["accuracy"],
        "best_epoch": result.fit.best_epoch,
        "epochs": len(result.fit.history),
        "stopped_early": result.fit.stopped_early,
        "wall": wall,
        "seconds": result.seconds,
        "epoch_seconds": statistics.mean(r.seconds for r in timings.records),
        # Medians over the epochs (the first carries torch's warm-up): as the epoch records say (validation
        # included), and over the training steps alone.
        "examples_per_second": statistics.median(r.examples_per_second for r in timings.records),
        "train_examples_per_second": statistics.median(n / t for n, t in zip(seen, timings.train_seconds)),
        "examples_per_epoch": seen[0],
        "profile": result.card.profile,
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.mean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def cross_validation(
    data_dir: Path,
    root: Path,
    folds: list[int],
    points: tuple[str, ...],
    label: str,
    **settings: Any,
) -> dict[str, Any]:
    """``settings`` trained on each fold for each point; the first run starts from an empty cache."""
    cache = root / f"cache-{label}"
    out: dict[str, Any] = {}
    for point in points:
        runs, refused = [], {}
        for fold in folds:
            dataset = fold_dataset(data_dir, fold)
            try:
                run = run_training(dataset, root, f"{label}-{point}-{fold}", cache, point=point, **settings)
            except UsageError as error:  # a split that leaves a genre no training track
                refused[fold] = str(error)
                print(f"  {label} {point:11} fold {fold}: refused: {error}", flush=True)
                continue
            run["fold"] = fold
            run["valid_genres"] = len({e.labels for e in dataset.part(VALID)})
            runs.append(run)
            print(
                f"  {label} {point:11} fold {fold}: test acc {run['test_accuracy']:.3f} "
                f"({run['tracks']['test']} tracks), best epoch {run['best_epoch']}/{run['epochs']}, "
                f"{run['wall']:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in run['seconds'].items())}), "
                f"{run['epoch_seconds']:.2f} s/epoch, {run['train_examples_per_second']:.0f} examples/s, "
                f"valid {run['tracks']['valid']} tracks of {run['valid_genres']} genre(s)",
                flush=True,
            )
        out[point] = {"runs": runs, "refused": refused, "test_accuracy": spread([r["test_accuracy"] for r in runs])}
    return out


# ---------------------------------------------------------------- memory, in a fresh process per measurement


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


class AnonPeak:
    """The peak of this process's anonymous and file-backed resident memory, sampled from /proc."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.anon, self.file = every, 0, 0
        self.stage = "setup"
        self.by_stage: dict[str, int] = {}  # stage -> peak anonymous bytes while it ran
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.is_set():
            fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            anon = int(fields.get("RssAnon", "0 kB").split()[0]) * 1024
            self.anon = max(self.anon, anon)
            self.by_stage[self.stage] = max(self.by_stage.get(self.stage, 0), anon)
            self.file = max(self.file, int(fields.get("RssFile", "0 kB").split()[0]) * 1024)
            self.stop.wait(self.every)

    def __enter__(self) -> AnonPeak:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def memory_child(data_dir: Path, kind: str, share: str, epochs: int, root: Path) -> None:
    """One measured run (called in a fresh process; ``epochs`` 0: the default); prints its figures as JSON."""
    dataset = fold_dataset(data_dir, 1)
    if share == "third":
        dataset = third(dataset)
    with AnonPeak() as peak:
        run = run_training(
            dataset,
            root,
            f"mem-{kind}-{share}",
            root / "cache",
            on_stage=lambda name: setattr(peak, "stage", name),
            freeze=kind == "frozen",
            epochs=epochs or None,
        )
    # VmHWM is this process image's own peak.  getrusage's ru_maxrss also counts the parent's size at the fork
    # (Linux keeps it across exec), so it is only right when the parent is small: see main().
    run["peak_rss"] = _status_bytes("VmHWM")
    run["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run["peak_anon"], run["peak_file"], run["anon_by_stage"] = peak.anon, peak.file, peak.by_stage
    run["examples"] = len(dataset.examples)
    print(json.dumps(run))


def memory(
    data_dir: Path, root: Path, epochs: dict[str, int], shares: dict[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    out = []
    for kind, kind_shares in shares.items():
        for share in kind_shares:
            folder = Path(tempfile.mkdtemp(prefix=f"mem-{kind}-{share}-", dir=root))
            command = [
                sys.executable,
                __file__,
                str(data_dir),
                "--memory-child",
                kind,
                share,
                str(epochs[kind]),
                str(folder),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"memory run {kind}/{share} failed:\n{done.stderr[-3000:]}")
            run = json.loads(done.stdout.strip().splitlines()[-1])
            run.update(kind=kind, share=share)
            out.append(run)
            print(
                f"  memory {kind:8} {share:5} ({run['examples']} tracks): peak RSS {run['peak_rss'] / MiB:.0f} MiB "
                f"(getrusage {run['ru_maxrss'] / MiB:.0f} MiB; anonymous {run['peak_anon'] / MiB:.0f} MiB, "
                f"file-backed {run['peak_file'] / MiB:.0f} MiB), "
                f"{run['train_examples_per_second']:.0f} examples/s; anonymous peak by stage: "
                f"{', '.join(f'{k} {v / MiB:.0f}' for k, v in run['anon_by_stage'].items())} MiB",
                flush=True,
            )
    return out


# ---------------------------------------------------------------- the report


def machine() -> dict[str, Any]:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version()}


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def print_tables(results: dict[str, Any]) -> None:
    print("\n== summary ==")
    if "cache" in results:
        c = results["cache"]
        print(
            f"cache build: {c['files']} files, {c['audio_seconds']:.0f} s of audio in {c['seconds']:.2f} s = "
            f"{c['audio_seconds'] / c['seconds']:.0f}x realtime ({c['workers']} workers)"
        )
    for part in [key for key in results if key.startswith(("frozen", "finetune"))]:
        for point, figures in results[part].items():
            acc = figures["test_accuracy"]
            refused = f" ({len(figures['refused'])} fold(s) refused)" if figures["refused"] else ""
            runs = figures["runs"]
            per_fold = ", ".join(f"{r['test_accuracy']:.2f}" for r in runs)
            best = ", ".join(f"{r['best_epoch']}/{r['epochs']}" for r in runs)
            print(
                f"{part:18} {point:11} test accuracy {acc['mean']:.3f} +- {acc['std']:.3f} "
                f"(min {acc['min']:.3f}, max {acc['max']:.3f}) over {len(runs)} fold(s){refused}: "
                f"{per_fold}; best epochs {best}; "
                f"{statistics.mean(r['epoch_seconds'] for r in runs):.2f} s/epoch, "
                f"{statistics.mean(r['train_examples_per_second'] for r in runs):.0f} examples/s"
            )
    frozen = [key for key in results if key.startswith("frozen")]
    if frozen:
        first = results[frozen[0]]["penultimate"]["runs"][0]
        print(
            f"frozen end to end from an empty cache (fold 1, in-process): {first['wall']:.1f} s "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in first['seconds'].items())})"
        )
    for run in results.get("memory", []):
        print(
            f"memory {run['kind']:8} {run['share']:5} {run['examples']:3} tracks: "
            f"peak RSS {run['peak_rss'] / MiB:.0f} MiB, "
            f"anonymous {run['peak_anon'] / MiB:.0f} MiB, {run['train_examples_per_second']:.0f} examples/s"
        )


def main() -> None:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "gtzan-mini"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=default)
    parser.add_argument("--quick", action="store_true", help="a smoke run: one fold, one point, one epoch")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--parts", default="cache,frozen,finetune,memory", help="which measurements (comma-separated)")
    parser.add_argument("--finetune-epochs", type=int, default=10, help="cap on fine-tuning epochs (default 10)")
    parser.add_argument("--finetune-folds", type=int, default=FOLDS, help="folds fine-tuned (default all 5)")
    parser.add_argument("--folds", default=",".join(map(str, range(1, FOLDS + 1))), help="the folds to run (1-5)")
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        kind, share, epochs, folder = args.memory_child
        memory_child(args.data_dir, kind, share, int(epochs), Path(folder))
        return

    parts = set(args.parts.split(","))
    folds = [1] if args.quick else [int(fold) for fold in args.folds.split(",")]
    points = POINTS[:1] if args.quick else POINTS
    tune_epochs = 1 if args.quick else args.finetune_epochs
    results: dict[str, Any] = {"machine": machine(), "load_before": load(), "data_dir": str(args.data_dir)}
    print(f"{results['machine']['cpu']}, {results['machine']['cores']} cores; load average {results['load_before']}")
    with tempfile.TemporaryDirectory(prefix="mtag-train-bench-") as folder:
        root = Path(folder)
        if "memory" in parts:  # first, while this process is small: the children are forked from it
            shares = {"frozen": ("third", "all"), "finetune": ("third",) if args.quick else ("third", "all")}
            results["memory"] = memory(args.data_dir, root, {"frozen": 0, "finetune": 1 if args.quick else 2}, shares)
        if "cache" in parts:
            build = measure_build(audio_files(args.data_dir))
            results["cache"] = dataclasses.asdict(build)
            print(f"cache: {build.realtime:.0f}x realtime ({build.seconds:.2f} s), load {load()}", flush=True)
        if "frozen" in parts:
            results["frozen"] = cross_validation(args.data_dir, root, folds, points, "frozen", freeze=True)
        if "finetune" in parts:
            tune_folds = folds[: args.finetune_folds]
            results["finetune"] = cross_validation(
                args.data_dir, root, tune_folds, POINTS[:1], "finetune", freeze=False, epochs=tune_epochs
            )
    results["load_after"] = load()
    print_tables(results)
    print(f"load average after: {results['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
