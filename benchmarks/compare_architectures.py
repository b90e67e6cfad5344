"""The comparison table: every architecture, with and without augmentation, on real music.

Usage: python benchmarks/compare_architectures.py [DATA_DIR] [--archs fcn,crnn,...]
           [--conditions baseline,noise,all] [--folds 1,2,3,4,5] [--epochs 3]
           [--budget-minutes 60] [--json FILE] [--markdown FILE] [--no-transfer]
       python benchmarks/compare_architectures.py --combine A.json B.json [--markdown FILE]

On DATA_DIR (default ``../shared/datasets/gtzan-mini``: 93 real GTZAN clips,
10 genres) each architecture is trained from scratch (``mtag train --arch``)
on each fold of the grouped 5-fold split (``--split folds --fold N``), under
three conditions:

* ``baseline``: no augmentation;
* ``noise``: ``--augment noise:snr=10`` (the SNR the reference projects used);
* ``all``: noise, shift, gain, stretch, pitch and mixup, plus SpecAugment for
  the spectrogram networks (:data:`ALL`).

The transfer path (a new head on the frozen ``musicnn-msd``) runs beside it:
its baseline, and the same augmentations as offline copies
(``--augment-copies 2``), the only way a frozen network's features can see
altered audio.

Schedules are short (``--epochs``, default 3, and one random segment per
track per epoch, ``--segments-per-track``; ``mtag train`` draws 4) so a
fold of the whole table fits a 2-core CPU in about 20 minutes:
the figures compare the architectures *at a small budget*, which favours
small networks and says nothing of what each reaches when trained to
convergence.  Folds run in the outer loop, so when ``--budget-minutes`` runs
out every cell holds the same folds.  Per cell: test accuracy mean +- std
over the folds, training seconds per run; per architecture: parameters,
MACs per window and windows/s at inference (from the trained card's
profile, measured on this machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmarks
from train_gtzan_mini import FOLDS, fold_dataset, load, machine, run_training, spread  # noqa: E402

from mtag.errors import UsageError  # noqa: E402

ARCHS = ("cnn1d", "fcn", "crnn", "shortres", "musicnn", "vgg", "samplecnn", "transformer")
WAVEFORM = {"samplecnn"}  # no spectrogram to mask
NOISE = "noise:snr=10"
ALL = "noise:snr=5-20,shift,gain:6,stretch:0.8-1.25,pitch:2,mixup:0.2"
CONDITIONS = ("baseline", "noise", "all")
TRANSFER = "transfer (frozen musicnn-msd)"


def augment_spec(condition: str, arch: str | None) -> str | None:
    """The ``--augment`` value of ``condition`` for ``arch`` (None: the transfer path)."""
    if condition == "baseline":
        return None
    if condition == "noise":
        return NOISE
    return ALL if arch in WAVEFORM or arch is None else f"{ALL},specaugment"


def settings_for(arch: str | None, condition: str, epochs: int, segments: int) -> dict[str, Any]:
    """``TrainSettings`` keywords of one cell."""
    spec = augment_spec(condition, arch)
    if arch is None:  # the transfer path: offline copies (a frozen network cannot see on-the-fly changes)
        # mixup mixes batches, not tracks: it has no offline copy
        copies = {} if spec is None else {"augment": spec.replace(",mixup:0.2", ""), "augment_copies": 2}
        return {"freeze": True, **copies}
    return {"arch": arch, "epochs": epochs, "segments_per_track": segments, **({"augment": spec} if spec else {})}


def main() -> None:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "gtzan-mini"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=default)
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--folds", default=",".join(map(str, range(1, FOLDS + 1))))
    parser.add_argument("--epochs", type=int, default=3, help="most epochs per from-scratch run (default 3)")
    parser.add_argument(
        "--segments-per-track", type=int, default=1, help="random segments per track per epoch (mtag train: 4)"
    )
    parser.add_argument("--budget-minutes", type=float, default=60.0, help="no new fold starts after this")
    parser.add_argument("--no-transfer", action="store_true", help="leave the transfer path out")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--markdown", type=Path, help="write the table to this file")
    parser.add_argument("--combine", nargs="+", type=Path, help="only print the table of these --json files' runs")
    args = parser.parse_args()
    if args.combine:
        combine(args.combine, args.markdown)
        return

    archs: list[str | None] = [*args.archs.split(","), *([] if args.no_transfer else [None])]
    conditions = args.conditions.split(",")
    folds = [int(fold) for fold in args.folds.split(",")]
    results: dict[str, Any] = {
        "machine": machine(),
        "load_before": load(),
        "epochs": args.epochs,
        "segments_per_track": args.segments_per_track,
        "runs": [],
        "folds_done": [],
    }
    print(f"{results['machine']['cpu']}, {results['machine']['cores']} cores; load average {results['load_before']}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mtag-arch-bench-") as folder:
        root = Path(folder)
        for fold in folds:
            if (time.perf_counter() - started) / 60 > args.budget_minutes:
                print(f"budget of {args.budget_minutes:.0f} min spent: folds from {fold} on are not run", flush=True)
                break
            dataset = fold_dataset(args.data_dir, fold)
            for arch in archs:
                for condition in conditions:
                    name = f"{arch or 'transfer'}-{condition}-{fold}"
                    try:
                        run = run_training(
                            dataset,
                            root,
                            name,
                            root / "cache",
                            **settings_for(arch, condition, args.epochs, args.segments_per_track),
                        )
                    except UsageError as error:
                        print(f"  {name}: refused: {error}", flush=True)
                        continue
                    run.update(arch=arch or TRANSFER, condition=condition, fold=fold)
                    results["runs"].append(run)
                    print(
                        f"  {name:28} test acc {run['test_accuracy']:.3f}, best epoch {run['best_epoch']}/"
                        f"{run['epochs']}, {run['wall']:.1f} s, load {load()}",
                        flush=True,
                    )
            results["folds_done"].append(fold)
            if args.json:  # after every fold: a run stopped later keeps what it measured
                args.json.write_text(json.dumps(results, indent=1, default=str))
    results["minutes"] = (time.perf_counter() - started) / 60
    results["load_after"] = load()
    table = markdown_table(results, [a or TRANSFER for a in archs], conditions)
    print("\n" + table)
    print(f"{results['minutes']:.1f} min; load average after: {results['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    if args.markdown:
        args.markdown.write_text(table + "\n")


def combine(files: list[Path], markdown: Path | None) -> None:
    """The table of several runs of this script (e.g. folds 1-2 here, 3-5 later), as one."""
    parts = [json.loads(file.read_text()) for file in files]
    runs = [run for part in parts for run in part["runs"]]
    archs = list(dict.fromkeys(run["arch"] for run in runs))
    conditions = list(dict.fromkeys(run["condition"] for run in runs))
    folds = sorted({fold for part in parts for fold in part["folds_done"]})
    table = markdown_table({"runs": runs}, archs, conditions)
    print(f"{len(runs)} runs over folds {folds}\n{table}")
    if markdown:
        markdown.write_text(table + "\n")


def markdown_table(results: dict[str, Any], archs: list[str], conditions: list[str]) -> str:
    """Architecture x condition: accuracy mean +- std (folds), training time, and the network's cost."""
    header = ["architecture", "parameters", "MMACs / window", "windows/s", *conditions, "seconds / run"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for arch in archs:
        runs = [r for r in results["runs"] if r["arch"] == arch]
        if not runs:
            continue
        profile = runs[0].get("profile") or {}
        cells = []
        for condition in conditions:
            accuracies = [r["test_accuracy"] for r in runs if r["condition"] == condition]
            if accuracies:
                s = spread(accuracies)
                cells.append(f"{s['mean']:.2f} ± {s['std']:.2f} (n={len(accuracies)})")
            else:
                cells.append("–")
        macs = profile.get("macs_per_window")
        lines.append(
            "| "
            + " | ".join(
                [
                    arch,
                    f"{profile['parameters']:,}" if "parameters" in profile else "–",
                    f"{macs / 1e6:,.0f}" if macs else "–",
                    f"{profile['windows_per_second']:,.0f}" if "windows_per_second" in profile else "–",
                    *cells,
                    f"{statistics.mean(r['wall'] for r in runs):.0f}",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
