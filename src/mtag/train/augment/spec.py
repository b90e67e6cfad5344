"""The ``--augment`` language: which augmentations, with which parameters, parsed and checked up front.

A spec is a comma-separated list of ``name[:param[:param...]]``; a param is
``key=value`` or a bare value (the augmentation's main parameter); a value is
a number or a range ``low-high`` (drawn uniformly per example).  Examples::

    noise:snr=10,shift,stretch:0.8-1.25,pitch:2,gain:6,mixup:0.2,specaugment
    noise:snr=5-20:p=0.3,specaugment:freq=1:time=1

Every augmentation takes ``p=``, the probability it is applied to an example
(a batch, for mixup).  Anything the table below does not know, or a value out
of its range, is a :class:`~mtag.errors.UsageError` naming it, raised before a
single file is decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mtag.errors import UsageError

#: Where an augmentation acts: on the waveform batch, on the network's input, or on inputs and targets together.
WAVEFORM, FEATURES, MIX = "waveform", "features", "mix"


@dataclass(frozen=True)
class Param:
    """One parameter: default, allowed range, and whether a single value ``v`` means ``-v..v`` (``symmetric``)."""

    name: str
    default: float | str
    low: float = 0.0
    high: float = 0.0
    doc: str = ""
    symmetric: bool = False  # a single value v is the range -v..v (gain in dB, semitones, shift)
    reciprocal: bool = False  # a single value v is the range min(v, 1/v)..max(v, 1/v) (a stretch factor)
    choices: tuple[str, ...] = ()
    ranged: bool = True  # may be given as low-high
    exclusive_low: bool = False  # the low bound itself is not allowed
    whole: bool = False  # a count: whole numbers only


@dataclass(frozen=True)
class Kind:
    """An augmentation the spec may name."""

    name: str
    stage: str
    params: tuple[Param, ...]  # the main one (a bare value sets it) first, p last
    doc: str

    @property
    def main(self) -> Param:
        """The parameter a bare value sets."""
        return self.params[0]


def _p(default: float) -> Param:
    return Param("p", default, 0.0, 1.0, "probability", ranged=False)


#: Every augmentation, in the order a batch goes through them (noise last: its SNR is against the final signal).
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "stretch",
            WAVEFORM,
            (
                Param("factor", "0.8-1.25", 0.5, 2.0, "duration factor (tempo 1/factor), pitch kept", reciprocal=True),
                _p(0.5),
            ),
            "time stretch without pitch change (phase vocoder)",
        ),
        Kind(
            "pitch",
            WAVEFORM,
            (Param("semitones", 2.0, -12.0, 12.0, "semitones, tempo kept", symmetric=True), _p(0.5)),
            "pitch shift without tempo change (stretch, then band-limited resampling)",
        ),
        Kind(
            "shift",
            WAVEFORM,
            (
                Param("max", 0.5, -1.0, 1.0, "largest shift, as a share of the segment", symmetric=True),
                Param("mode", "circular", doc="circular (a roll) or pad (zeros come in)", choices=("circular", "pad")),
                _p(0.5),
            ),
            "time shift of the segment",
        ),
        Kind(
            "gain",
            WAVEFORM,
            (Param("db", 6.0, -40.0, 40.0, "gain in dB", symmetric=True), _p(0.5)),
            "random gain",
        ),
        Kind(
            "noise",
            WAVEFORM,
            (Param("snr", 10.0, -10.0, 60.0, "signal-to-noise ratio in dB, against each segment's own power"), _p(0.5)),
            "additive white Gaussian noise",
        ),
        Kind(
            "specaugment",
            FEATURES,
            (
                Param("freq", 2, 0.0, 10.0, "frequency masks per example", ranged=False, whole=True),
                Param("fwidth", 0.15, 0.0, 1.0, "largest frequency mask, as a share of the bands", ranged=False),
                Param("time", 2, 0.0, 10.0, "time masks per example", ranged=False, whole=True),
                Param("twidth", 0.1, 0.0, 1.0, "largest time mask, as a share of the frames", ranged=False),
                _p(1.0),
            ),
            "time and frequency masks on the network's input (Park et al. 2019)",
        ),
        Kind(
            "mixup",
            MIX,
            (
                Param("alpha", 0.2, 0.0, 10.0, "Beta(alpha, alpha) mixing weight", ranged=False, exclusive_low=True),
                _p(1.0),
            ),
            "mixes pairs of examples and their targets (Zhang et al. 2018)",
        ),
    )
}


@dataclass(frozen=True)
class Augmentation:
    """One parsed augmentation: its kind, each parameter's value (a ``(low, high)`` range or a choice), ``p``."""

    kind: Kind
    values: dict[str, tuple[float, float] | str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def p(self) -> float:
        value = self.values["p"]
        assert isinstance(value, tuple)
        return value[0]

    def range(self, name: str) -> tuple[float, float]:
        value = self.values[name]
        assert isinstance(value, tuple)
        return value

    def choice(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def canonical(self) -> str:
        """Every parameter spelled out, so two spellings of the same augmentation key the same cache."""
        parts = [self.name]
        for param in self.kind.params:
            value = self.values[param.name]
            text = (
                value
                if isinstance(value, str)
                else f"{value[0]:g}"
                if value[0] == value[1]
                else f"{value[0]:g}~{value[1]:g}"
            )
            parts.append(f"{param.name}={text}")
        return ":".join(parts)


@dataclass(frozen=True)
class AugmentSpec:
    """A parsed ``--augment``: its augmentations in application order."""

    augmentations: tuple[Augmentation, ...]

    def stage(self, stage: str) -> tuple[Augmentation, ...]:
        return tuple(a for a in self.augmentations if a.kind.stage == stage)

    def get(self, name: str) -> Augmentation | None:
        return next((a for a in self.augmentations if a.name == name), None)

    def canonical(self) -> str:
        return ",".join(a.canonical() for a in self.augmentations)


def parse_augment(text: str) -> AugmentSpec:
    """Parse an ``--augment`` spec; a :class:`UsageError` names the first thing wrong with it."""
    seen: dict[str, Augmentation] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise UsageError(f"--augment {text!r}: an empty item", hint="separate augmentations with single commas")
        name, *params = item.split(":")
        kind = KINDS.get(name.strip().lower())
        if kind is None:
            raise UsageError(
                f"--augment: unknown augmentation {name.strip()!r}", hint=f"choose from {', '.join(KINDS)}"
            )
        if kind.name in seen:
            raise UsageError(f"--augment: {kind.name} is given twice", hint="give each augmentation once")
        seen[kind.name] = _augmentation(kind, params)
    return AugmentSpec(tuple(seen[name] for name in KINDS if name in seen))


def _augmentation(kind: Kind, params: list[str]) -> Augmentation:
    values: dict[str, tuple[float, float] | str] = {}
    known = {param.name: param for param in kind.params}
    for position, text in enumerate(params):
        key, has_key, value = text.partition("=")
        if not has_key:
            if position:  # only the first may be bare, or "pitch:2:3" would silently mean something
                raise UsageError(f"--augment {kind.name}: {text!r} needs a name", hint=_params_hint(kind))
            key, value = kind.main.name, text
        key = key.strip().lower()
        if key not in known:
            raise UsageError(f"--augment {kind.name}: unknown parameter {key!r}", hint=_params_hint(kind))
        if key in values:
            raise UsageError(f"--augment {kind.name}: {key} is given twice", hint=_params_hint(kind))
        values[key] = _value(kind, known[key], value.strip())
    for param in kind.params:
        if param.name not in values:
            values[param.name] = _value(kind, param, str(param.default))
    return Augmentation(kind, values)


_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)"
_RANGE = re.compile(rf"({_NUMBER})\s*-\s*({_NUMBER})")


def _value(kind: Kind, param: Param, text: str) -> tuple[float, float] | str:
    """A parameter's value, checked against its range; single values of symmetric parameters become ranges."""
    where = f"--augment {kind.name}: {param.name}={text}"
    if param.choices:
        if text.lower() not in param.choices:
            raise UsageError(f"{where} is not one of {', '.join(param.choices)}")
        return text.lower()
    ranged = _RANGE.fullmatch(text)
    try:
        if ranged:
            if not param.ranged:
                raise UsageError(f"{where}: {param.name} takes one value, not a range", hint=_params_hint(kind))
            low, high = float(ranged.group(1)), float(ranged.group(2))
        else:
            low = high = float(text)
    except ValueError:
        raise UsageError(f"{where} is not a number", hint=_params_hint(kind)) from None
    if param.whole and not low.is_integer():
        raise UsageError(f"{where} is not a whole number", hint=f"{param.name} counts masks")
    if not (low <= high) or not all(_inside(param, v) for v in (low, high)):
        raise UsageError(f"{where} is out of range", hint=f"{param.name} is {_bounds(param)}")
    if not ranged and param.symmetric:
        low, high = -abs(low), abs(low)
    elif not ranged and param.reciprocal:
        low, high = min(low, 1 / low), max(low, 1 / low)
    return (low, high)


def _inside(param: Param, value: float) -> bool:
    low_ok = value > param.low if param.exclusive_low else value >= param.low
    return low_ok and value <= param.high


def _bounds(param: Param) -> str:
    low = "above" if param.exclusive_low else "from"
    return f"{low} {param.low:g} to {param.high:g}"


def _params_hint(kind: Kind) -> str:
    return f"{kind.name} takes " + ", ".join(f"{p.name}=" for p in kind.params)
