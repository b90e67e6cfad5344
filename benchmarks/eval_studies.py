"""``mtag eval`` with studies against the same work done by separate ``mtag tag --dry-run`` runs.

Usage: python benchmarks/eval_studies.py [DATA_DIR] [--models a,b,c] [--split folds] [--part test]

On ``../shared/datasets/gtzan-mini`` (93 real GTZAN FLAC clips; the fold-1
test part of ``--split folds`` is 21 of them), with the shipped
musicnn-msd, musicnn-mtt and vgg-msd, in a fresh cache folder:

1. ``evaluate`` of the three models with the ``length`` and ``noise``
   studies (1 baseline + 7 crops + 5 noise levels = 13 conditions per
   model, 39 model x condition passes): wall time and the decode counter
   (files the run decoded: each track once, however many passes).
2. One model's baseline again: the cache has every track, so it decodes none.
3. ``mtag tag --dry-run --model M FILES`` once per model, in its own
   process (what a user measuring the models with ``tag`` runs): each run
   decodes every file itself.  That is the baseline condition only; a
   ``tag``-based study would repeat such a run per condition on files the
   conditions were written to, so the sum over the 13 conditions is
   estimated as 13 x the baseline runs (crops under 30 s score fewer
   windows, so this overstates the crops' share; the decodes it counts are
   real: 13 x 3 per track).

The machine's load average is printed: on a shared machine only figures at
equal load compare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mtag.data.load import load_dataset
from mtag.data.options import DatasetOptions
from mtag.evaluate.runner import EvalRequest, evaluate

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "datasets" / "gtzan-mini"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", default="musicnn-msd,musicnn-mtt,vgg-msd")
    parser.add_argument("--split", default="folds")
    parser.add_argument("--part", default="test")
    parser.add_argument("--studies", default="length,noise")
    args = parser.parse_args()
    models = args.models.split(",")
    dataset = load_dataset("gtzan", args.data_dir, DatasetOptions(split=args.split))
    files = [e.path for e in (dataset.examples if args.part == "all" else dataset.part(args.part))]
    print(f"load average before: {os.getloadavg()}; {len(files)} tracks; models {', '.join(models)}")
    with tempfile.TemporaryDirectory() as cache:
        request = EvalRequest(models, dataset, args.part, args.studies, bootstrap=1000, cache_dir=Path(cache))
        clock = time.perf_counter()
        first = evaluate(request)
        cold = time.perf_counter() - clock
        passes = sum(len(m.conditions) for m in first.models)
        print(
            f"eval, cold cache: {cold:.1f} s for {passes} model x condition passes; decoded {first.decoded} "
            f"of {len(files)} files (decode {first.seconds['decode']:.1f} s, scoring {first.seconds['score']:.1f} s)"
        )
        clock = time.perf_counter()
        again = evaluate(replace(request, models=models[:1], studies=None))  # the decode is what is measured
        print(
            f"eval again (one model, no study), warm cache: {time.perf_counter() - clock:.1f} s; "
            f"decoded {again.decoded} files"
        )
        for result in first.models:
            figures = result.baseline.figures
            print(f"  {result.card.name}: accuracy {figures['accuracy']:.3f} on {len(result.baseline.tracks)} tracks")
    tag_seconds = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for model in models:
            command = [sys.executable, "-m", "mtag", "tag", "--dry-run", "--model", model, "--db", f"{scratch}/i.db"]
            clock = time.perf_counter()
            subprocess.run([*command, *map(str, files)], check=True, capture_output=True)
            spent = time.perf_counter() - clock
            tag_seconds += spent
            print(f"mtag tag --dry-run --model {model}: {spent:.1f} s ({len(files)} decodes)")
    conditions = passes // len(models)
    print(
        f"sum of the {len(models)} tag runs (baseline only): {tag_seconds:.1f} s; x {conditions} conditions "
        f"= {tag_seconds * conditions:.1f} s estimated for the same study with tag, "
        f"{conditions * len(models) * len(files)} decodes"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
