"""The new model's card before training: from an installed model (``--from``) or from a recipe (``--arch``).

Both paths share :func:`dataset_card`, which gives a card the data set's
labels, genres, activation, licence and source, so a model trained either way
reads the same to ``mtag tag``, ``mtag models`` and ``mtag eval``.  What
differs is where the network and its input come from: the base model's card,
or the architecture's :class:`~mtag.nets.recipes.Recipe` with the user's
front-end options over it.
"""

from __future__ import annotations

import inspect
from dataclasses import fields, replace
from typing import Any

from mtag import __version__
from mtag.cards import SIGMOID, SOFTMAX, FrontEndError, FrontEndSpec, InputWindow, ModelCard, WeightsRef, read_frontend
from mtag.cards.frontend import FRONT_ENDS, MelSpec, WaveformSpec
from mtag.data import Dataset
from mtag.errors import UsageError
from mtag.nets.recipes import Recipe
from mtag.nets.registry import check_params, network_class
from mtag.train.settings import TrainSettings

#: Settings every mel front end has: what carries over when ``--frontend`` changes the kind.
_MEL_SETTINGS = tuple(f.name for f in fields(MelSpec))
#: option -> the front-end setting it sets.
_FRONTEND_KEYS = {
    "--sample-rate": "sample_rate",
    "--n-mels": "n_mels",
    "--n-fft": "n_fft",
    "--hop": "hop_length",
    "--n-mfcc": "n_mfcc",
}


def dataset_card(
    card: ModelCard, dataset: Dataset, name: str, description: str, license: str, source: dict[str, Any]
) -> ModelCard:
    """``card``'s network and input with the data set's labels: what every trained model's card starts as."""
    return replace(
        card,
        name=name,
        params={**card.params, "n_labels": len(dataset.labels)},
        labels=tuple(dataset.labels),
        genres=dict(dataset.genres),
        activation=SIGMOID if dataset.multi_label else SOFTMAX,
        description=description,
        kind="tagger",
        license=license,
        source={"dataset": dataset.name, **source, "mtag": __version__},
        training=None,
        metrics=None,
        pruning=None,
        directory=None,
    )


def trained_card(base: ModelCard, dataset: Dataset, name: str, settings: TrainSettings) -> ModelCard:
    """The new model's card before training: the base's network and input, the data set's labels."""
    how = "a new head on the frozen network" if settings.freeze else "fine-tuned"
    return dataset_card(
        base,
        dataset,
        name,
        f"{base.name}, {how}, trained on {dataset.name} ({dataset.split} split); {len(dataset.labels)} labels.",
        f"{base.license}; data: {dataset.license}",  # the base's weights', then the data set's terms
        {"base": f"{base.name}@{base.digest}"},
    )


def scratch_card(dataset: Dataset, name: str, settings: TrainSettings, cuda: bool) -> ModelCard:
    """The card of a new ``settings.arch`` network: the recipe's front end, window and parameters, overridden.

    ``cuda``: the recipe's ``cuda_params`` (a larger model for a GPU) apply.
    """
    assert settings.arch is not None
    params, frontend, window = scratch_network(settings, len(dataset.labels), cuda)
    skeleton = ModelCard(
        name=name,
        architecture=settings.arch,
        params=params,
        frontend=frontend,
        input=window,
        activation=SOFTMAX,
        labels=tuple(dataset.labels),
        weights=WeightsRef("", ""),  # write_model fills in the trained weights' file and digest
    )
    return dataset_card(
        skeleton,
        dataset,
        name,
        f"{settings.arch} trained from scratch on {dataset.name} ({dataset.split} split); "
        f"{len(dataset.labels)} labels.",
        f"data: {dataset.license}",  # no base weights: only the data set's terms
        {"architecture": settings.arch},
    )


def scratch_network(
    settings: TrainSettings, n_labels: int, cuda: bool
) -> tuple[dict[str, Any], FrontEndSpec, InputWindow]:
    """An ``--arch`` run's network parameters, front end and window; what no network can use is a usage error.

    Cheap (nothing is built), so ``mtag train`` calls it before it reads the data set.  The window is the
    recipe's, rounded to whole frames of the front end.
    """
    assert settings.arch is not None
    found = settings.arch_recipe()
    frontend = scratch_frontend(settings.arch, found, settings)
    hop = frontend.framing.hop
    frames = max(1, round(found.window_seconds * frontend.sample_rate / hop))
    window = InputWindow(frames * hop, frames * hop, found.fixed_length, found.short_input)
    params = {**found.params, **(found.cuda_params if cuda else {}), **settings.params}
    params.update(_conventional(settings.arch, frontend, frames))
    params["n_labels"] = n_labels
    try:
        check_params(settings.arch, params)
    except ValueError as exc:
        raise UsageError(f"--arch {settings.arch}: {exc}") from None
    return params, frontend, window


def scratch_frontend(arch: str, found: Recipe, settings: TrainSettings) -> FrontEndSpec:
    """The recipe's front end with ``--frontend``, ``--n-mels`` ... applied, checked as a card's would be."""
    data = dict(found.frontend)
    overrides = settings.frontend_overrides
    if data.get("kind") == WaveformSpec.kind:
        spectral = [option for option in overrides if option != "--sample-rate"]
        if spectral:
            raise UsageError(
                f"{spectral[0]} applies to spectrogram architectures only: {arch} reads the waveform itself"
            )
    if settings.frontend is not None and settings.frontend != data.get("kind"):
        # A new kind keeps the mel settings every mel front end shares, and drops the old kind's own.
        data = {"kind": settings.frontend, **{k: v for k, v in data.items() if k in _MEL_SETTINGS}}
    for option, key in _FRONTEND_KEYS.items():
        if option in overrides:
            data[key] = overrides[option]
    kind = FRONT_ENDS.get(str(data.get("kind")), MelSpec)
    if "n_mfcc" in data and "n_mfcc" not in {f.name for f in fields(kind)}:
        raise UsageError("--n-mfcc applies to the mfcc front end only", hint="add --frontend mfcc")
    try:
        return read_frontend(data)
    except FrontEndError as exc:
        raise UsageError(f"front end of {arch}: {exc}") from None


def _conventional(arch: str, frontend: FrontEndSpec, frames: int) -> dict[str, int]:
    """``n_mels`` and ``n_frames`` where the architecture's constructor takes them (see mtag.nets.recipes)."""
    accepted = inspect.signature(network_class(arch)).parameters
    values: dict[str, int] = {}
    if "n_mels" in accepted and frontend.features is not None:
        values["n_mels"] = frontend.features
    if "n_frames" in accepted:
        values["n_frames"] = frames
    return values
