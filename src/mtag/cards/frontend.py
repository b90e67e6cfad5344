"""What a model hears: the front end its card declares, as data (no torch here).

A front end turns a window of mono samples into the network's input.  The
card names its ``kind`` and settings; this module reads and checks them and
tells the engine how the front end frames samples (:class:`Framing`), so that
the decode workers can cut windows without importing torch.  The torch
modules that compute each kind live in :mod:`mtag.nets.frontends`.

Kinds:

- ``musicnn-logmel``: musicnn's exact recipe (librosa's Slaney mel power,
  float16 rounding, ``log10(10000 x + 1)``); the shipped models need it
  bit for bit.
- ``logmel``: a general log-mel: any sample rate, FFT, hop, bands and range,
  compressed in dB (``10 log10`` of the power, floored at :data:`DB_FLOOR`
  so silence stays finite) or with ``log1p``.
- ``mfcc``: DCT-II (orthonormal) of the dB log-mel, the first ``n_mfcc``
  coefficients.
- ``waveform``: the samples themselves, for raw-audio networks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

#: The dB front ends floor the mel power here before the logarithm (-100 dB): silence stays finite.
DB_FLOOR = 1e-10
#: The compressions a general log-mel offers.
COMPRESSIONS = ("db", "log1p")


class FrontEndError(ValueError):
    """A front end the card describes that mtag cannot compute; the message names the setting."""


@dataclass(frozen=True)
class Framing:
    """How a front end turns samples into frames: what a window needs beyond the span it covers.

    ``hop`` samples per frame; each frame reads ``length`` samples; a centred
    transform (an STFT as librosa computes it) starts its frame ``t`` at
    ``t * hop - length // 2``, and the file's edges are reflect-padded by that
    much.  A waveform network reads samples directly: one frame per sample.
    """

    hop: int = 1
    length: int = 1
    centred: bool = False

    @property
    def edge(self) -> int:
        """Samples of reflect padding at each end of a file (half a frame for a centred transform)."""
        return self.length // 2 if self.centred else 0

    def chunk_samples(self, frames: int) -> int:
        """Samples (padding included) that give ``frames`` frames."""
        return (frames - 1) * self.hop + self.length

    def frames_in(self, samples: int) -> int:
        """Frames a track of ``samples`` samples has (librosa's ``1 + n // hop`` for a centred STFT)."""
        return max(0, (samples + 2 * self.edge - self.length) // self.hop + 1)


@dataclass(frozen=True)
class FrontEndSpec:
    """Settings common to every front end; subclasses add their own."""

    kind: ClassVar[str]
    sample_rate: int

    @property
    def framing(self) -> Framing:
        return Framing()

    @property
    def features(self) -> int | None:
        """Values per frame the network receives (mel bands, coefficients), None for a waveform."""
        return None

    @property
    def mel_bands(self) -> int | None:
        """Mel bands of a spectrogram input (what ``inspect --explain`` silences by band), else None."""
        return None

    def describe(self) -> str:
        """One line for ``mtag models show``."""
        return f"{self.sample_rate} Hz mono samples"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}

    def _check(self) -> None:
        if self.sample_rate < 1000:
            raise FrontEndError(f"sample_rate {self.sample_rate} is too low (at least 1000 Hz)")


@dataclass(frozen=True)
class WaveformSpec(FrontEndSpec):
    """The network reads the resampled samples themselves."""

    kind: ClassVar[str] = "waveform"


@dataclass(frozen=True)
class MelSpec(FrontEndSpec):
    """A mel spectrogram's settings (Slaney mel scale and area normalisation, periodic Hann, power 2)."""

    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    fmin: float = 0.0
    fmax: float | None = None

    @property
    def framing(self) -> Framing:
        return Framing(hop=self.hop_length, length=self.n_fft, centred=True)

    @property
    def features(self) -> int | None:
        return self.n_mels

    @property
    def mel_bands(self) -> int | None:
        return self.n_mels

    @property
    def top_hz(self) -> float:
        return self.sample_rate / 2 if self.fmax is None else self.fmax

    def _mel_text(self) -> str:
        return f"{self.n_mels} mel bands {self.fmin:g}-{self.top_hz:g} Hz, n_fft {self.n_fft}, hop {self.hop_length}"

    def _check(self) -> None:
        super()._check()
        if self.n_fft < 16 or self.hop_length < 1 or self.n_mels < 1:
            raise FrontEndError("n_fft must be at least 16, hop_length and n_mels at least 1")
        if not 0 <= self.fmin < self.top_hz <= self.sample_rate / 2:
            raise FrontEndError(
                f"need 0 <= fmin < fmax <= sample_rate / 2, got fmin {self.fmin:g}, fmax {self.top_hz:g}"
            )


@dataclass(frozen=True)
class MusicnnLogMelSpec(MelSpec):
    """musicnn's log-mel, exactly: float16-rounded mel power, ``log10(10000 x + 1)``."""

    kind: ClassVar[str] = "musicnn-logmel"
    float16_rounding: bool = True

    def describe(self) -> str:
        return f"{self.sample_rate} Hz mono, log-mel as musicnn computes it: {self._mel_text()}"


@dataclass(frozen=True)
class LogMelSpec(MelSpec):
    """A general log-mel, compressed in dB or with ``log1p``."""

    kind: ClassVar[str] = "logmel"
    compression: str = "db"

    def describe(self) -> str:
        return f"{self.sample_rate} Hz mono, log-mel ({self.compression}): {self._mel_text()}"

    def _check(self) -> None:
        super()._check()
        if self.compression not in COMPRESSIONS:
            raise FrontEndError(f"compression {self.compression!r} is not one of {', '.join(COMPRESSIONS)}")


@dataclass(frozen=True)
class MfccSpec(MelSpec):
    """MFCCs: the orthonormal DCT-II of the dB log-mel, first ``n_mfcc`` coefficients."""

    kind: ClassVar[str] = "mfcc"
    n_mels: int = 40
    n_mfcc: int = 20

    @property
    def features(self) -> int | None:
        return self.n_mfcc

    @property
    def mel_bands(self) -> int | None:
        return None  # coefficients, not bands: nothing to silence by frequency

    def describe(self) -> str:
        return f"{self.sample_rate} Hz mono, {self.n_mfcc} MFCCs of {self._mel_text()}"

    def _check(self) -> None:
        super()._check()
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise FrontEndError(f"n_mfcc must be between 1 and n_mels ({self.n_mels}), got {self.n_mfcc}")


FRONT_ENDS: dict[str, type[FrontEndSpec]] = {
    spec.kind: spec for spec in (MusicnnLogMelSpec, LogMelSpec, MfccSpec, WaveformSpec)
}

_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


def read_frontend(data: Any) -> FrontEndSpec:
    """The front end a card's ``frontend`` object describes; anything off is a :class:`FrontEndError`."""
    if not isinstance(data, dict):
        raise FrontEndError("must be an object with a 'kind'")
    kind = data.get("kind")
    spec_type = FRONT_ENDS.get(kind) if isinstance(kind, str) else None
    if spec_type is None:
        raise FrontEndError(f"unknown kind {kind!r}; known: {', '.join(FRONT_ENDS)}")
    known = {f.name: f for f in fields(spec_type)}
    unknown = sorted(set(data) - set(known) - {"kind"})
    if unknown:
        raise FrontEndError(f"{kind} has no setting {unknown[0]!r}; its settings: {', '.join(known)}")
    values = {}
    for name, field in known.items():
        if name not in data:
            if name == "sample_rate":
                raise FrontEndError("lacks sample_rate")
            continue
        values[name] = _typed(data[name], str(field.type), f"{kind} {name}")
    spec = spec_type(**values)
    spec._check()
    return spec


def _typed(value: Any, annotation: str, where: str) -> Any:
    """A JSON value checked against a dataclass field's annotation (``int``, ``float | None``, ...)."""
    options = [part.strip() for part in annotation.split("|")]
    if value is None:
        if "None" in options:
            return None
        raise FrontEndError(f"{where} cannot be null")
    for option in options:
        wanted = _TYPES.get(option)
        if wanted is bool and isinstance(value, bool):
            return value
        if wanted is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if wanted is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if wanted is str and isinstance(value, str):
            return value
    raise FrontEndError(f"{where} must be {' or '.join(options)}, not {value!r}")
