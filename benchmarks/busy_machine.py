"""mtag against the original musicnn loop, on an idle machine and beside two CPU hogs, side by side in one run.

Usage: python benchmarks/busy_machine.py [--tracks 6] [--seconds 240] [--hogs 2] [--work DIR]
                                         [--original-models DIR]

The original musicnn tags a library with a loop over ``top_tags(file)``: each
call loads the whole file (librosa: decode, downmix, resample to 16 kHz),
computes its log-mel spectrogram, cuts it into 3 s patches, rebuilds the model
and restores its weights, and runs the network one patch at a time, with the
thread pool's defaults.  :func:`original_loop` is that loop on mtag's PyTorch
port of the same networks (TensorFlow is not installed here; the port is
faster per patch than TensorFlow was, so the comparison is the harder one for
mtag).  The original networks had every channel; mtag ships them with the dead
ones removed, so give the loop the unpruned networks, as
``python tools/convert_musicnn.py WHEEL --out DIR --keep-dead-channels`` writes
them, with ``--original-models DIR`` (without it the loop runs the shipped,
pruned networks and the table says so).  It runs in a fresh process with OpenMP's default wait policy (spinning),
as a script that imports torch without mtag's settings would.

Each condition runs the reference loop, then ``mtag tag --dry-run`` with the
defaults (a fresh process each, start-up and model loading included; the
library is that of ``library_speed.py``), then mtag with the old defaults --
OpenMP's default wait policy, a model thread per core and one decode process
per core but one -- to show what changed.  The
busy condition starts ``--hogs`` processes that spin on the CPU (each bounded
in time, and killed when the condition ends).  The load average at the start
is printed: other programs on the machine change the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # library_speed, beside this file
from library_speed import build_library, measure, run_measured  # noqa: E402

#: Longest a hog may run: it stops by itself even if this script is killed with SIGKILL.
HOG_SECONDS = 3600
#: OpenMP's default wait policy (spin, then sleep) in a child process: libgomp takes an empty value as unset
#: (with a warning on stderr, which the runner swallows), and mtag's import leaves a value that is set alone.
DEFAULT_WAITS = {"OMP_WAIT_POLICY": ""}
HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def original_loop(files: list[str], model: str) -> float:
    """Tag ``files`` as the original musicnn loop does (see the module docstring); the audio seconds analysed.

    ``model`` is a model name or folder.
    """
    import torch

    from mtag.audio.decode import load_audio
    from mtag.catalog import find_model
    from mtag.nets.tagger import Tagger

    audio_seconds = 0.0
    for path in files:
        samples = load_audio(path, 16000)  # the whole file in memory, as librosa.load
        audio_seconds += samples.size / 16000
        tagger = Tagger(find_model(model), torch.device("cpu"), "fp32")  # rebuilt per call, as the TF graph was
        logmel = tagger.features(samples[None])[0]
        frames = tagger.card.input.window_samples // tagger.card.frontend.framing.hop
        patches = [logmel[i : i + frames] for i in range(0, logmel.shape[0] - frames + 1, frames)]
        taggram = torch.cat([tagger.predict_features(patch[None]) for patch in patches])  # one sess.run per patch
        taggram.mean(0)
    return audio_seconds


def run_original(files: list[Path], model: str, work: Path) -> float:
    """Wall seconds of :func:`original_loop` in a fresh process with OpenMP's default (spinning) waits."""
    wall, _, _ = run_measured([sys.executable, __file__, "--original", model, *map(str, files)], work, DEFAULT_WAITS)
    return wall


@contextmanager
def hogs(count: int) -> Iterator[None]:
    """``count`` processes spinning on the CPU for the duration of the block."""
    started = [subprocess.Popen([sys.executable, "-c", HOG.format(seconds=HOG_SECONDS)]) for _ in range(count)]
    try:
        time.sleep(1)  # let the scheduler see them
        yield
    finally:
        for process in started:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--model", default="musicnn-msd")
    parser.add_argument("--work", type=Path, default=Path("/tmp/mtag-bench"))
    parser.add_argument("--original-models", type=Path, help="unpruned models for the original loop (see above)")
    parser.add_argument("--original", nargs="+", metavar=("MODEL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a plain kill still stops the hogs (finally)
    if args.original:
        original_loop(args.original[1:], args.original[0])
        return
    library = build_library(args.work, args.tracks, args.seconds)
    files = sorted(library.iterdir())
    cores = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores; load average at start: {load}")
    print(f"library: {args.tracks} tracks x {args.seconds:g} s (mp3/flac/ogg/m4a/wav, 44.1 kHz stereo); {args.model}")
    original_model = str(args.original_models / args.model) if args.original_models else args.model
    print(f"original loop: {'unpruned networks' if args.original_models else 'the shipped, pruned networks'}\n")
    print("| condition | original loop | mtag | mtag vs original | mtag, old defaults | old vs original |")
    print("|---|---|---|---|---|---|")  # seconds per track
    conditions = {"no hogs": 0, f"{args.hogs} CPU hogs": args.hogs}
    for name, count in conditions.items():
        with hogs(count):
            original = run_original(files, original_model, args.work) / len(files)
            mtag = measure([str(library), "--model", args.model], args.work)["wall"] / len(files)
            # Before: a thread per core for the model, one decoder per core but one, OpenMP spinning.
            before = ["--workers", str(max(1, cores - 1)), "--threads", str(cores)]
            old = measure([str(library), "--model", args.model, *before], args.work, DEFAULT_WAITS)
            old_s = old["wall"] / len(files)
        print(
            f"| {name} | {original:.2f} s | {mtag:.2f} s | {original / mtag:.2f}x"
            f" | {old_s:.2f} s | {original / old_s:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
