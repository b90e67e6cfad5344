"""The model card: one typed, versioned model.json, read, checked and written here alone.

Everything mtag needs to know about a model is in its card -- the network and
its parameters, the front end and input window it was trained on, how its
outputs turn into probabilities, its labels and what genres they mean, which
weights file it is (by SHA-256) -- so nothing else guesses: the loader, the
engine, ``mtag models``, the converter and the trainer all go through
:class:`ModelCard`.  No torch here: listing models must stay instant.

Format history: 1 (mtag 0.1-0.3) carried musicnn's preprocessing in STFT
frames; it is still read, as the ``musicnn-logmel`` front end it always meant.
2 added ``frontend``, ``input`` (in samples), ``genres`` and ``pruning``;
later, the optional ``profile`` (parameters, MACs per window, windows/s: what
the model costs, see :mod:`mtag.nets.profile`), which older readers ignore.
A card of a newer format is refused rather than half-understood.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from mtag.cards.frontend import FrontEndError, FrontEndSpec, MusicnnLogMelSpec, read_frontend
from mtag.errors import ModelError

CARD_FILE = "model.json"
CARD_FORMAT = 2
SIGMOID, SOFTMAX = "sigmoid", "softmax"
#: How scores are made of a network's logits: independent labels (multi-label) or one class (single-label).
ACTIVATIONS = (SIGMOID, SOFTMAX)
#: What fills a window when the track is shorter: its frames repeated (musicnn's training), zeros, or nothing
#: (the network takes the short input as it is).
SHORT_INPUTS = ("repeat", "zero", "none")


@dataclass(frozen=True)
class InputWindow:
    """The window a model scores, in samples at its front end's rate."""

    window_samples: int
    hop_samples: int
    fixed_length: bool = False  # True: the network takes this window length only (a dense layer reads it)
    short_input: str = "repeat"

    def to_json(self) -> dict[str, Any]:
        return {
            "window_samples": self.window_samples,
            "hop_samples": self.hop_samples,
            "fixed_length": self.fixed_length,
            "short_input": self.short_input,
        }


@dataclass(frozen=True)
class WeightsRef:
    """The weights file, and the digest that says which weights they are."""

    file: str
    sha256: str
    parameters: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "sha256": self.sha256}
        if self.parameters is not None:
            data["parameters"] = self.parameters
        return data


@dataclass(frozen=True)
class ModelCard:
    """A model's card (its model.json), typed; ``directory`` is where it was read from, if anywhere."""

    name: str
    architecture: str
    params: dict[str, Any]
    frontend: FrontEndSpec
    input: InputWindow
    activation: str
    labels: tuple[str, ...]
    weights: WeightsRef
    description: str = ""
    kind: str = "tagger"
    genres: dict[str, str] = field(default_factory=dict)  # label -> the genre it means, for labels of a genre set
    license: str = "unknown"
    license_text: str | None = None
    attribution: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    pruning: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None  # what the network costs (mtag.nets.profile); trained models have one
    directory: Path | None = field(default=None, compare=False)

    @property
    def weights_path(self) -> Path:
        if self.directory is None:
            raise ValueError(f"model card {self.name!r} was not read from a folder")
        return self.directory / self.weights.file

    @property
    def digest(self) -> str:
        """A short form of the weights' SHA-256: enough to tell two versions of a model apart."""
        return self.weights.sha256[:16]

    @property
    def origin(self) -> str:
        """Where the model came from, in a word: a package, a data set, a homepage, or local."""
        s = self.source
        return s.get("package") or s.get("dataset") or s.get("homepage") or "local"

    @property
    def window_seconds(self) -> float:
        return self.input.window_samples / self.frontend.sample_rate

    @cached_property
    def size_bytes(self) -> int:
        """Bytes on disk of the model's folder (weights and card)."""
        if self.directory is None:
            return 0
        return sum(f.stat().st_size for f in self.directory.iterdir() if f.is_file())

    @property
    def headline_metric(self) -> str:
        """The one figure ``mtag models`` shows: a trained model's test figure, else the reported one."""
        figures = {k: v for k, v in (self.metrics or {}).items() if isinstance(v, (int, float))}
        for key, name in (
            ("test_accuracy", "test acc."),
            ("test_pr_auc", "test PR-AUC"),
            ("roc_auc", "ROC-AUC"),
            ("pr_auc", "PR-AUC"),
        ):
            if key in figures:
                return f"{name} {figures[key]:.3f}"
        return ""

    def summary(self) -> dict[str, Any]:
        """The row ``mtag models`` shows for this model."""
        return {
            "name": self.name,
            "kind": self.kind,
            "architecture": self.architecture,
            "frontend": self.frontend.kind,
            "labels": len(self.labels),
            "activation": self.activation,
            "source": self.origin,
            "license": self.license,
            "size_bytes": self.size_bytes,
            "metric": self.headline_metric,
            "parameters": (self.profile or {}).get("parameters", self.weights.parameters),
            "macs_per_window": (self.profile or {}).get("macs_per_window"),
            "path": str(self.directory),
        }

    def to_json(self) -> dict[str, Any]:
        """The card as model.json holds it; key order is fixed so the bytes are reproducible."""
        data: dict[str, Any] = {
            "format": CARD_FORMAT,
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "architecture": {"name": self.architecture, "params": dict(self.params)},
            "frontend": self.frontend.to_json(),
            "input": self.input.to_json(),
            "activation": self.activation,
            "labels": list(self.labels),
        }
        if self.genres:
            data["genres"] = dict(self.genres)
        optional = {
            "training": self.training,
            "metrics": self.metrics,
            "pruning": self.pruning,
            "profile": self.profile,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.source:
            data["source"] = dict(self.source)
        data["license"] = self.license
        if self.license_text is not None:
            data["license_text"] = self.license_text
        if self.attribution is not None:
            data["attribution"] = self.attribution
        data["weights"] = self.weights.to_json()
        return data

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_card(directory: Path) -> ModelCard:
    """Read and check one model folder's card; anything wrong is a :class:`ModelError` naming file and field."""
    path = directory / CARD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"unreadable model card: {exc}", path=path) from exc
    try:
        return parse_card(data, directory)
    except _CardError as exc:
        raise ModelError(f"model card {exc}", path=path, hint=exc.hint) from None


def parse_card(data: Any, directory: Path | None = None) -> ModelCard:
    """A card from its JSON object (format 1 or 2); raises :class:`_CardError`."""
    if not isinstance(data, dict):
        raise _CardError("is not a JSON object")
    version = data.get("format", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _CardError(f"field 'format' must be a positive integer, not {version!r}")
    if version > CARD_FORMAT:
        raise _CardError(
            f"has format {version}; this mtag reads formats up to {CARD_FORMAT}", "upgrade mtag to use this model"
        )
    r = _Reader(data)
    if version == 1:
        frontend, window = _format1_input(r)
    else:
        try:
            frontend = read_frontend(r.get("frontend", dict))
        except FrontEndError as exc:
            raise _CardError(f"field 'frontend': {exc}") from None
        window = _read_input(r.get("input", dict), frontend)
    labels = r.get("labels", list)
    if not labels or not all(isinstance(label, str) and label for label in labels):
        raise _CardError("field 'labels' must be a non-empty list of names")
    if len(set(labels)) != len(labels):
        raise _CardError("field 'labels' names a label twice")
    activation = r.get("activation", str, SIGMOID)
    if activation not in ACTIVATIONS:
        raise _CardError(f"field 'activation' must be one of {', '.join(ACTIVATIONS)}, not {activation!r}")
    architecture = r.get("architecture", dict)
    arch_name, params = architecture.get("name"), architecture.get("params", {})
    if not isinstance(arch_name, str) or not isinstance(params, dict):
        raise _CardError("field 'architecture' needs a 'name' and a 'params' object")
    genres = r.get("genres", dict, {})
    stray = sorted(set(genres) - set(labels))
    if stray or not all(isinstance(name, str) and name for name in genres.values()):
        raise _CardError(f"field 'genres' maps labels to genre names; {stray[:1] or 'a name'} is not one of them")
    weights = r.get("weights", dict)
    file, sha256 = weights.get("file"), weights.get("sha256")
    if not isinstance(file, str) or not file or Path(file).name != file:
        raise _CardError("field 'weights.file' must be a file name in the model's folder")
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise _CardError("field 'weights.sha256' must be the weights file's SHA-256 (64 lowercase hex digits)")
    return ModelCard(
        name=r.get("name", str),
        architecture=arch_name,
        params=params,
        frontend=frontend,
        input=window,
        activation=activation,
        labels=tuple(labels),
        weights=WeightsRef(file, sha256, weights.get("parameters")),
        description=r.get("description", str, ""),
        kind=r.get("kind", str, "tagger"),
        genres=genres,
        license=r.get("license", str, "unknown"),
        license_text=r.get("license_text", str, None),
        attribution=r.get("attribution", str, None),
        source=r.get("source", dict, {}),
        training=r.get("training", dict, None),
        metrics=r.get("metrics", dict, None),
        pruning=r.get("pruning", dict, None),
        profile=r.get("profile", dict, None),
        directory=directory,
    )


def write_card(card: ModelCard, directory: Path) -> Path:
    """Write ``directory/model.json`` atomically (a reader never sees half a card); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CARD_FILE
    handle, temporary = tempfile.mkstemp(prefix=".model.", suffix=".json", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(card.to_bytes())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_weights(card: ModelCard) -> bytes:
    """The weights file's bytes, refused unless they are the weights the card names (by SHA-256).

    A model folder whose weights were replaced or damaged would otherwise load and
    tag without a word, and the index would take its scores for the old model's.
    """
    path = card.weights_path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the weights: {exc.strerror or exc}", path=path) from exc
    found = hashlib.sha256(data).hexdigest()
    if found != card.weights.sha256:
        raise ModelError(
            f"weights do not match the model card (sha256 {found[:12]}..., the card says "
            f"{card.weights.sha256[:12]}...)",
            path=path,
            hint=f"the file was changed or damaged; restore it, or update {CARD_FILE} if the change was meant",
        )
    return data


class _CardError(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class _Reader:
    """Typed access to the card's top-level fields, with errors that name the field."""

    _MISSING = object()

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        if key not in self.data or (self.data[key] is None and default is not self._MISSING):
            if default is self._MISSING:
                raise _CardError(f"lacks the field {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
            raise _CardError(f"field {key!r} must be {_JSON_NAMES[kind]}, not {type(value).__name__}")
        return value


_JSON_NAMES = {str: "a string", dict: "an object", list: "a list", bool: "true or false", int: "an integer"}


def _read_input(data: dict[str, Any], frontend: FrontEndSpec) -> InputWindow:
    def number(key: str, default: int | None = None) -> int:
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _CardError(f"field 'input.{key}' must be a positive number of samples, not {value!r}")
        return value

    window = number("window_samples")
    hop = number("hop_samples", window)
    step = frontend.framing.hop
    if window % step or hop % step:
        raise _CardError(f"field 'input': window and hop must be whole frames of {step} samples")
    short_input = data.get("short_input", "repeat")
    if short_input not in SHORT_INPUTS:
        raise _CardError(f"field 'input.short_input' must be one of {', '.join(SHORT_INPUTS)}, not {short_input!r}")
    fixed = data.get("fixed_length", False)
    if not isinstance(fixed, bool):
        raise _CardError("field 'input.fixed_length' must be true or false")
    if fixed and short_input == "none":
        raise _CardError("field 'input': a fixed-length network cannot take short inputs as they are")
    return InputWindow(window, hop, fixed, short_input)


#: Format 1's ``preprocessing`` always meant musicnn's recipe; anything else in it was refused then too.
_FORMAT1_RECIPE = {
    "window": "hann",
    "center": True,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "power": 2.0,
    "compression": "logC",
}


def _format1_input(r: _Reader) -> tuple[FrontEndSpec, InputWindow]:
    """Format 1's ``preprocessing`` (window in STFT frames) as a front end and an input window in samples."""
    pre = r.get("preprocessing", dict)
    for key, value in _FORMAT1_RECIPE.items():
        if pre.get(key, value) != value:
            raise _CardError(f"field 'preprocessing.{key}' is {pre[key]!r}; format 1 cards only describe {value!r}")
    try:
        frontend = read_frontend(
            {
                "kind": MusicnnLogMelSpec.kind,
                **{k: pre[k] for k in ("sample_rate", "n_fft", "hop_length", "n_mels")},
                **{k: pre[k] for k in ("fmin", "fmax", "float16_rounding") if k in pre},
            }
        )
        frames, hop_frames = int(pre["window_frames"]), int(pre.get("hop_frames", pre["window_frames"]))
    except KeyError as exc:
        raise _CardError(f"field 'preprocessing' lacks {exc.args[0]!r}") from None
    except FrontEndError as exc:
        raise _CardError(f"field 'preprocessing': {exc}") from None
    fixed = r.data.get("architecture", {}).get("name") == "vgg"  # format 1 knew one fixed-length network
    hop = frontend.framing.hop
    window = InputWindow(frames * hop, hop_frames * hop, fixed, str(pre.get("short_input", "repeat")))
    return frontend, window
