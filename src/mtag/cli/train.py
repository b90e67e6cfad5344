"""``mtag train``: train a tagger on a data set; the result is a model like the shipped ones."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mtag.cli import console
from mtag.cli.dataset_options import (
    AllGenresOption,
    DataDirOption,
    DatasetNameOption,
    FoldOption,
    FoldsOption,
    FromIndexOption,
    LabelsOption,
    MinTracksOption,
    SplitOption,
    SubsetOption,
    dataset_options,
)
from mtag.cli.options import (
    DEFAULT_MODEL,
    CacheDirOption,
    CacheWorkersOption,
    DbOption,
    DeviceOption,
    JsonOption,
    PrecisionOption,
    VerboseOption,
    complete_model,
)
from mtag.cli.train_view import TrainView
from mtag.errors import EXIT_INTERRUPTED, UsageError

if TYPE_CHECKING:
    from mtag.train.run import TrainResult


def train_command(
    dataset: DatasetNameOption,
    data_dir: DataDirOption = None,
    split: SplitOption = None,
    folds: FoldsOption = 5,
    fold: FoldOption = 1,
    labels: LabelsOption = None,
    min_tracks: MinTracksOption = 20,
    subset: SubsetOption = None,
    all_genres: AllGenresOption = False,
    from_index: FromIndexOption = False,
    db: DbOption = None,
    base: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            help=f"The installed model to start from \\[default: {DEFAULT_MODEL}, unless --arch].",
            autocompletion=complete_model,
        ),
    ] = None,
    arch: Annotated[
        Optional[str],
        typer.Option(
            "--arch",
            metavar="NAME",
            help="Train this architecture from scratch instead (musicnn, vgg, cnn1d, ...), with its paper's "
            "front end and schedule as defaults.",
        ),
    ] = None,
    param: Annotated[
        Optional[list[str]],
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="--arch: a network parameter (VALUE read as JSON), overriding the recipe; repeatable.",
        ),
    ] = None,
    frontend: Annotated[
        Optional[str],
        typer.Option("--frontend", help="--arch: logmel or mfcc instead of the architecture's own front end."),
    ] = None,
    sample_rate: Annotated[
        Optional[int], typer.Option("--sample-rate", help="--arch: the front end's rate in Hz.")
    ] = None,
    n_mels: Annotated[Optional[int], typer.Option("--n-mels", help="--arch: mel bands.")] = None,
    n_fft: Annotated[Optional[int], typer.Option("--n-fft", help="--arch: FFT length in samples.")] = None,
    hop: Annotated[Optional[int], typer.Option("--hop", help="--arch: samples between frames.")] = None,
    n_mfcc: Annotated[
        Optional[int], typer.Option("--n-mfcc", help="--arch with --frontend mfcc: coefficients.")
    ] = None,
    freeze: Annotated[
        bool,
        typer.Option(
            "--freeze/--fine-tune",
            help="Train only a new head on the frozen network (minutes on a CPU), or fine-tune all of it.",
        ),
    ] = True,
    point: Annotated[
        Optional[str],
        typer.Option("--point", help="Where the new head sits: penultimate or pooled \\[default: penultimate]."),
    ] = None,
    epochs: Annotated[
        Optional[int],
        typer.Option("--epochs", min=1, help="Most epochs \\[default: 60 frozen, 20 fine-tuning, --arch: its own]."),
    ] = None,
    batch_size: Annotated[
        Optional[int], typer.Option("--batch-size", min=1, help="Examples per batch \\[default: 32, --arch: its own].")
    ] = None,
    accumulate: Annotated[
        int,
        typer.Option("--accumulate", min=1, help="Batches per optimizer step (effective batch: batch size x this)."),
    ] = 1,
    lr: Annotated[
        Optional[float],
        typer.Option("--lr", help="Learning rate \\[default: 1e-3 frozen, 3e-4 fine-tuning, --arch: its own]."),
    ] = None,
    segment: Annotated[
        Optional[float],
        typer.Option(
            "--segment",
            help="Fine-tuning and --arch: seconds per training segment \\[default: the model's window].",
        ),
    ] = None,
    balance: Annotated[
        str,
        typer.Option(
            "--balance",
            help="Rare labels: weights (class-weighted loss), sampler (balanced draws), none, or auto "
            "(weights for one label per track, none for multi-label).",
        ),
    ] = "auto",
    patience: Annotated[
        int, typer.Option("--patience", min=1, help="Stop after this many epochs without a better validation figure.")
    ] = 10,
    seed: Annotated[
        int, typer.Option("--seed", help="Seeds the split and the training: a CPU run repeats exactly.")
    ] = 0,
    augment: Annotated[
        Optional[str],
        typer.Option(
            "--augment",
            help="Augment training segments on the fly, e.g. noise:snr=10,shift,stretch:0.8-1.25,pitch:2,gain:6,"
            "mixup:0.2,specaugment (each name[:param...]; p= sets its probability). See the README for ranges.",
        ),
    ] = None,
    augment_copies: Annotated[
        int,
        typer.Option(
            "--augment-copies",
            help="Instead, N altered copies of each training track made once with --augment's waveform "
            "augmentations (the way to augment the frozen-network path).",
        ),
    ] = 0,
    name: Annotated[
        Optional[str], typer.Option("--name", help="The new model's name \\[default: <data set>-<--from or --arch>].")
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out", help="Folder to write the model into \\[default: $XDG_DATA_HOME/mtag/models].", file_okay=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a model (or an unfinished run) of that name.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a killed or interrupted run of that name.")
    ] = False,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    workers: CacheWorkersOption = None,
    cache_dir: CacheDirOption = None,
    gpus: Annotated[
        Optional[int], typer.Option("--gpus", min=2, help="Train on N GPUs of this machine (starts torchrun).")
    ] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train a tagger on a data set, from an installed model or from scratch; it is then a model like the others.

    By default a new head for the data set's labels is trained on the frozen
    musicnn-msd network: minutes on a laptop CPU.  --arch NAME trains a new
    network of that architecture instead, every layer from random weights.
    The model goes into your model folder, so 'mtag tag --model NAME' and
    'mtag inspect --model NAME' use it; 'mtag models' lists it with its test
    figures.
    """
    if gpus is not None:
        _relaunch_with_torchrun(gpus)
    from mtag.data.load import load_dataset
    from mtag.train.run import TrainRequest, train
    from mtag.train.settings import TrainSettings

    settings = TrainSettings(
        base=base,
        freeze=freeze,
        point=point,
        arch=arch,
        params=_params(param or []),
        frontend=frontend,
        sample_rate=sample_rate,
        n_mels=n_mels,
        n_fft=n_fft,
        hop=hop,
        n_mfcc=n_mfcc,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        segment=segment,
        balance=balance,
        patience=patience,
        accumulate=accumulate,
        seed=seed,
        augment=augment,
        augment_copies=augment_copies,
    )
    # Options no run can use are refused before the data set is read.
    resolved = settings.resolved()
    if resolved.arch is not None:
        from mtag.train.cards import scratch_network

        scratch_network(resolved, n_labels=2, cuda=False)
    options = dataset_options(split, seed, folds, fold, labels, min_tracks, subset, all_genres, from_index, db)
    loaded = load_dataset(dataset, data_dir, options)
    request = TrainRequest(loaded, settings, name, out, force, resume, device, precision, workers, cache_dir)
    view = TrainView(loaded, quiet=as_json)
    try:
        with view:
            result = train(request, view)
    except KeyboardInterrupt:
        # The checkpoint of the last finished epoch is on disk: say how to go on from it.
        done = f" after epoch {view.last_epoch}" if view.last_epoch else ""
        console.err.print(f"mtag: interrupted{done}; run the same command with --resume to continue")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if view.leader:
        _report(result, as_json)


def _params(pairs: list[str]) -> dict[str, Any]:
    """``--param NAME=VALUE`` options as constructor parameters (VALUE read as JSON, else as a string)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"--param {pair!r} must be NAME=VALUE", hint="e.g. --param channels=32")
        try:
            params[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            params[name.strip()] = text
    return params


def _report(result: TrainResult, as_json: bool) -> None:
    if as_json:
        console.print_json_line(result.to_json())
        return
    headline = "pr_auc" if result.card.activation == "sigmoid" else "accuracy"
    fit = result.fit
    stopped = " (stopped early: validation had not improved)" if fit.stopped_early else ""
    console.out.print(
        f"Trained {result.card.name!r}: best epoch {fit.best_epoch} of {len(fit.history)}{stopped}, "
        f"valid {headline} {fit.best_valid[headline]:.3f}, test {headline} {result.test[headline]:.3f} "
        f"on {result.counts['test']} tracks.",
        soft_wrap=True,
    )
    console.out.print(
        f"Saved in {console.shown(result.card.directory or '')}; use it with 'mtag tag --model {result.card.name}'.",
        soft_wrap=True,
    )


def _relaunch_with_torchrun(gpus: int) -> None:
    """Replace this process with ``torchrun --nproc-per-node GPUS -m mtag train ...`` (the same flags, less --gpus)."""
    import torch

    if torch.cuda.device_count() < gpus:
        raise UsageError(
            f"--gpus {gpus}: torch sees {torch.cuda.device_count()} CUDA GPU(s) on this machine",
            hint="ask for at most that many, or run torchrun yourself to train across machines",
        )
    args = sys.argv[1:]
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--gpus":
            skip = True
            continue
        if arg.startswith("--gpus="):
            continue
        kept.append(arg)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={gpus}",
        "-m",
        "mtag",
        *kept,
    ]
    console.err.print(
        f"mtag: starting {gpus} training processes: torchrun --nproc-per-node {gpus} -m mtag {' '.join(kept)}"
    )
    os.execv(sys.executable, command)
