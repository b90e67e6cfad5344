"""Write small real audio files in any supported format, for decoding tests.

The files are encoded with PyAV -- the same FFmpeg build the decoder uses -- so
the tests need no fixture files and cover every container/codec pair for real.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

#: extension -> (FFmpeg muxer, encoder)
FORMATS: dict[str, tuple[str, str]] = {
    ".mp3": ("mp3", "libmp3lame"),
    ".flac": ("flac", "flac"),
    ".ogg": ("ogg", "vorbis"),  # FFmpeg's own vorbis encoder: stereo only
    ".oga": ("ogg", "vorbis"),
    ".opus": ("ogg", "libopus"),  # 48 kHz: see native_rate()
    ".m4a": ("ipod", "aac"),
    ".mp4": ("mp4", "aac"),
    ".aac": ("adts", "aac"),
    ".wav": ("wav", "pcm_s16le"),
    ".aif": ("aiff", "pcm_s16be"),
    ".aiff": ("aiff", "pcm_s16be"),
    ".aifc": ("aiff", "pcm_s16be"),
    ".wma": ("asf", "wmav2"),
    ".asf": ("asf", "wmav2"),
}
#: Formats mtag decodes but does not tag (so not in FORMATS, which the tag tests take as taggable):
#: Sun audio, the format of GTZAN's original archive.
DECODE_ONLY: dict[str, tuple[str, str]] = {".au": ("au", "pcm_s16be")}


def tone(
    seconds: float,
    sample_rate: int,
    freq: float = 440.0,
    gains: Sequence[float] = (1.0,),
    amplitude: float = 0.5,
) -> np.ndarray:
    """A sine of ``freq`` Hz, one row per channel scaled by ``gains``: shape (channels, n)."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    return np.stack([g * wave for g in gains]).astype(np.float32)


def chirp(seconds: float, sample_rate: int, gains: Sequence[float] = (1.0,)) -> np.ndarray:
    """A sweep from 200 Hz up (800 Hz/s), one row per channel: no two stretches look alike,
    so a misplaced seek cannot match by accident."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    wave = 0.4 * np.sin(2 * np.pi * (200 * t + 400 * t * t))
    return np.stack([g * wave for g in gains]).astype(np.float32)


def write_samples(
    path: Path,
    samples: np.ndarray,
    sample_rate: int,
    codec: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Encode float samples, shape (channels, n), in the format ``path``'s extension implies."""
    return write_blocks(path, [samples], sample_rate, samples.shape[0], codec, metadata)


def write_blocks(
    path: Path,
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    channels: int,
    codec: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Encode a stream of float blocks, each (channels, n): files longer than memory (benchmarks).

    ``metadata`` are container tags as FFmpeg names them ("title", "genre"):
    in a WAV file, FFmpeg writes them as a RIFF INFO list.
    """
    fmt, default_codec = {**FORMATS, **DECODE_ONLY}[path.suffix.lower()]
    codec = codec or default_codec
    sample_fmt = _sample_format(codec)
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
    with av.open(str(path), "w", format=fmt) as container:
        container.metadata.update(metadata or {})
        # FFmpeg's own vorbis encoder is flagged "experimental"
        options = {"strict": "experimental"}
        stream = container.add_stream(codec, rate=sample_rate, layout=layout, options=options)
        stream.codec_context.format = sample_fmt
        stream.codec_context.bit_rate = 128_000  # wmav2 refuses its default of 0
        step = stream.codec_context.frame_size or 4096
        pending = np.zeros((channels, 0), np.float32)
        offset = 0
        for block in itertools.chain(blocks, [None]):  # None: flush the tail
            if block is not None:
                pending = np.concatenate([pending, block], axis=1)
            while pending.shape[1] >= step or (block is None and pending.shape[1]):
                chunk, pending = pending[:, :step], pending[:, step:]
                frame = _frame(chunk, sample_fmt, layout, sample_rate)
                frame.pts = offset
                frame.time_base = Fraction(1, sample_rate)
                container.mux(stream.encode(frame))
                offset += chunk.shape[1]
        container.mux(stream.encode(None))
    return path


def write_tone(
    path: Path,
    seconds: float,
    sample_rate: int,
    channels: int = 1,
    freq: float = 440.0,
    codec: str | None = None,
    *,
    gains: Sequence[float] | None = None,
) -> Path:
    """Encode a ``freq`` Hz sine of ``seconds`` into ``path`` (format from the extension).

    ``gains`` scales each channel (default 1 for all), e.g. ``(1, -1)`` for a
    stereo file whose channels cancel in a mono mix.
    """
    gains = gains if gains is not None else (1.0,) * channels
    return write_samples(path, tone(seconds, sample_rate, freq, gains), sample_rate, codec)


def _sample_format(codec: str) -> str:
    """The encoder's input format: float where it takes float, else 16-bit."""
    supported = {f.name for f in av.codec.Codec(codec, "w").audio_formats}
    return next(f for f in ("fltp", "flt", "s16") if f in supported)


def _frame(chunk: np.ndarray, sample_fmt: str, layout: str, sample_rate: int) -> av.AudioFrame:
    if sample_fmt == "s16":
        data = np.round(chunk.T * 32767).astype(np.int16).reshape(1, -1)
    elif sample_fmt == "flt":
        data = np.ascontiguousarray(chunk.T).reshape(1, -1)
    else:  # planar float
        data = np.ascontiguousarray(chunk)
    frame = av.AudioFrame.from_ndarray(data, format=sample_fmt, layout=layout)
    frame.sample_rate = sample_rate
    return frame


def native_rate(path: Path, preferred: int = 44100) -> int:
    """``preferred``, or 48 kHz for Opus, which encodes nothing else at full band."""
    return 48000 if path.suffix.lower() == ".opus" else preferred
