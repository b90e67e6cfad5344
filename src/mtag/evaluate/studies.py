"""Study conditions: the same tracks changed in memory (cropped, noisier, re-encoded) to see where a model fails.

A condition is a function of a track's decoded audio, applied in memory
after the one decode; nothing is written next to the user's files.  A study
is a named list of conditions with the axis its curve is drawn on.  The
analysis studies (``rare``, ``cross``, ``characteristics``) work on the
measured results instead of changing the audio (:mod:`mtag.evaluate.analyses`);
they are named in :data:`ANALYSES`, so ``--study`` accepts both kinds.

* ``length``: the middle ``s`` seconds of each track (the whole track when
  it is shorter), for 0.5, 1, 2, 3, 5, 10 and 30 s, and the full track.  A
  crop shorter than the model's window goes through the card's short-input
  padding (``Tagger.features(frames=...)``), exactly as ``tag`` scores a
  short track; ``tag`` itself skips files under one second, the study still
  measures them so the curve shows what half a second is worth.
* ``noise``: white Gaussian noise at 30, 20, 10, 5 and 0 dB SNR against the
  track's own mean power, seeded per track and condition.
* ``codec``: MP3 at 320, 128, 64 and 32 kbit/s, encoded and decoded with
  PyAV in memory at 44.1 kHz (the audio is resampled up for the encoder and
  back: MPEG-2 at 16 kHz allows at most 160 kbit/s, so the bit rates would
  not mean what they mean on a CD rip), and the telephone band, 300-3400 Hz
  (a 4th-order Butterworth band-pass, run forwards and backwards).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mtag.errors import UsageError

#: audio (float32 mono), its rate, a generator seeded for this track and condition -> changed audio
Transform = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

#: The rate MP3s are encoded at (MPEG-1 layer III, so every bit rate up to 320 kbit/s exists).
MP3_RATE = 44100


@dataclass(frozen=True)
class Condition:
    """One way of changing every track; ``value`` places it on the study's axis (None: not on it)."""

    study: str
    name: str
    value: float | None
    transform: Transform | None = None  # None: the audio as decoded
    short_inputs: bool = False  # score tracks under a second too (through the short-input padding)

    @property
    def key(self) -> str:
        return f"{self.study}:{self.name}"


@dataclass(frozen=True)
class Study:
    """A named set of conditions and the axis their metric curve is drawn on."""

    name: str
    axis: str
    conditions: tuple[Condition, ...] = field(default_factory=tuple)
    log_axis: bool = False


def crop_middle(seconds: float) -> Transform:
    """The middle ``seconds`` of a track (all of it when shorter)."""

    def transform(audio: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        want = max(1, round(seconds * rate))
        if audio.size <= want:
            return audio
        start = (audio.size - want) // 2
        return audio[start : start + want]

    return transform


def white_noise(snr_db: float) -> Transform:
    """Gaussian white noise at ``snr_db`` below the track's mean power (digital silence stays silent)."""

    def transform(audio: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        power = float(np.mean(np.square(audio, dtype=np.float64))) if audio.size else 0.0
        if power == 0.0:
            return audio
        sigma = np.sqrt(power / 10 ** (snr_db / 10))
        return (audio + sigma * rng.standard_normal(audio.size)).astype(np.float32)

    return transform


def mp3(kbps: int) -> Transform:
    """The track as an MP3 at ``kbps`` would decode, encoded at :data:`MP3_RATE` in memory with PyAV."""

    def transform(audio: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return mp3_roundtrip(audio, rate, kbps)

    return transform


def mp3_roundtrip(audio: np.ndarray, rate: int, kbps: int) -> np.ndarray:
    """Encode ``audio`` as MP3 and decode it again, in memory; the result has ``audio``'s length and rate."""
    import av

    from mtag.audio.decode import resample

    wide = resample(audio, rate, MP3_RATE)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as out:
        stream = out.add_stream("mp3", rate=MP3_RATE)
        stream.bit_rate = kbps * 1000
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wide[np.newaxis]), format="flt", layout="mono")
        frame.sample_rate = MP3_RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as source:
        decoded = [f.to_ndarray().reshape(-1) for f in source.decode(audio=0)]
    back = np.concatenate(decoded).astype(np.float32) if decoded else np.zeros(0, np.float32)
    back = resample(back, MP3_RATE, rate)
    out_audio = np.zeros(audio.size, np.float32)
    out_audio[: min(audio.size, back.size)] = back[: audio.size]
    return out_audio


def telephone(low: float = 300.0, high: float = 3400.0) -> Transform:
    """A telephone line's band, ``low``-``high`` Hz (what a voice call or an old radio leaves of the music)."""

    def transform(audio: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        from scipy.signal import butter, sosfiltfilt

        if audio.size < 64:
            return audio
        sos = butter(4, [low, min(high, 0.45 * rate)], btype="bandpass", fs=rate, output="sos")
        return sosfiltfilt(sos, audio).astype(np.float32)

    return transform


LENGTHS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
SNRS = (30.0, 20.0, 10.0, 5.0, 0.0)
BITRATES = (320, 128, 64, 32)

#: The condition every study is compared with: the tracks as decoded.
BASELINE = Condition("baseline", "as decoded", None)


def _length() -> Study:
    crops = tuple(Condition("length", f"{s:g} s", s, crop_middle(s), short_inputs=True) for s in LENGTHS)
    return Study("length", "input length (s)", (*crops, Condition("length", "full", None)), log_axis=True)


def _noise() -> Study:
    noisy = tuple(Condition("noise", f"{snr:g} dB", snr, white_noise(snr)) for snr in SNRS)
    return Study("noise", "SNR (dB)", (Condition("noise", "clean", None), *noisy))


def _codec() -> Study:
    coded = tuple(Condition("codec", f"mp3 {k}k", float(k), mp3(k)) for k in BITRATES)
    return Study(
        "codec",
        "condition",
        (Condition("codec", "original", None), *coded, Condition("codec", "telephone", None, telephone())),
    )


#: Studies that change the audio, by name.
STUDIES: dict[str, Callable[[], Study]] = {"length": _length, "noise": _noise, "codec": _codec}

#: Studies that analyse the measured results instead (run by :mod:`mtag.evaluate.analyses`): name -> what it tells.
ANALYSES: dict[str, str] = {
    "rare": "per-genre figure against the genre's share of the model's training tracks",
    "cross": "this data set's figures beside the model's in-domain ones",
    "characteristics": "track properties that go with right and wrong answers; the worst tracks",
}


def resolve_studies(text: str | None) -> list[Study]:
    """``--study a,b`` -> the audio studies, in order; an unknown name is a usage error naming the known ones."""
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    known = [*STUDIES, *ANALYSES]
    for name in names:
        if name not in known:
            raise UsageError(f"unknown study {name!r}", hint=f"choose from {', '.join(known)}")
    return [STUDIES[name]() for name in dict.fromkeys(names) if name in STUDIES]


def analyses(text: str | None) -> list[str]:
    """The analysis studies named in ``--study`` (those registered in :data:`ANALYSES`)."""
    return [name for name in dict.fromkeys(n.strip() for n in (text or "").split(",")) if name in ANALYSES]


def conditions_of(studies: Sequence[Study]) -> list[Condition]:
    """The baseline, then every study's conditions that change the audio (a study's own baseline is the baseline)."""
    return [BASELINE, *(c for study in studies for c in study.conditions if c.transform is not None)]
