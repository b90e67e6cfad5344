"""Decode any audio file into mono float32 at a target sample rate, block by block.

This is mtag's only decoding path: tagging, training and evaluation all read
audio through :func:`stream_audio`, so a model sees the same signal whichever
of them feeds it.  The signal is made the way the reference (musicnn, through
``librosa.load(sr=16000)``) makes it, so that the ported models get the input
they were trained on:

1. FFmpeg (PyAV) decodes the file at its own rate; every sample format is
   converted to planar float, so ``int16`` becomes ``x / 32768`` like
   libsndfile's.
2. The channels are averaged to mono *before* resampling, as librosa's
   ``to_mono`` does: the result then matches the reference to float rounding,
   and only one channel goes through the resampler.
3. soxr resamples with quality ``HQ`` -- librosa's ``soxr_hq``.  Its streaming
   resampler gives the same samples as the one-shot call, so decoding in blocks
   costs nothing in fidelity, and the output gets librosa's length,
   ``ceil(n * target_rate / native_rate)`` (soxr itself may end one sample short).

Memory stays bounded by ``block_frames`` however long the file is.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from os import PathLike
from pathlib import Path

import av
import numpy as np
import soxr
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from mtag.errors import AudioError

#: soxr's quality for every resampling mtag does: librosa's ``soxr_hq``, what the reference used.
RESAMPLE_QUALITY = "HQ"

#: File extensions (lower case) that mtag reads as audio.
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp3",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".m4a",
        ".mp4",
        ".aac",
        ".wav",
        ".aif",
        ".aiff",
        ".aifc",
        ".wma",
        ".asf",
    }
)

#: Seeking lands this long before ``start`` and decodes up to it: a decoder
#: only rebuilds its state from earlier packets (MDCT overlap in AAC, Vorbis
#: and WMA, the MP3 bit reservoir, Opus's 80 ms convergence), so the samples
#: from ``start`` on then equal those of a decode from the beginning.
#: It also absorbs an Ogg seek that lands a page late.
SEEK_PREROLL = 0.5  # seconds

#: Rejected packets are skipped until there are this many and more than the
#: decoded ones; then the file is not audio (see _frames).
_MIN_REJECTED_TO_FAIL = 8

_log = logging.getLogger(__name__)

_HINT_DAMAGED = "the file is damaged or is not audio; re-rip or re-download it"
_HINT_FORMATS = "mtag reads mp3, flac, ogg/opus, m4a/aac, wav, aiff and wma"


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its headers (nothing decoded but a few packets)."""

    path: Path
    container: str  # FFmpeg's demuxer name: "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", ...
    codec: str  # "mp3", "aac", "flac", "vorbis", "opus", "pcm_s16le", "wmav2", ...
    sample_rate: int  # of the file (not the rate stream_audio resamples to)
    channels: int
    duration: float | None  # seconds; None where neither stream nor container says
    bit_rate: int | None  # bits per second; None where unknown


def probe(path: str | PathLike[str]) -> AudioInfo:
    """Describe the audio stream that :func:`stream_audio` would decode."""
    path = Path(path)
    _check_file(path)
    with _open(path) as container:
        stream = _audio_stream(container, path)
        context = stream.codec_context
        return AudioInfo(
            path=path,
            container=container.format.name,
            codec=context.codec.canonical_name,
            sample_rate=context.sample_rate,
            channels=context.channels,
            duration=_duration(container, stream),
            bit_rate=context.bit_rate or container.bit_rate or None,
        )


def stream_audio(
    path: str | PathLike[str],
    sample_rate: int = 16000,
    *,
    block_frames: int = 65536,
    start: float = 0.0,
    duration: float | None = None,
) -> Generator[np.ndarray, None, None]:
    """Decode ``path`` to mono float32 at ``sample_rate``, as a stream of 1-D blocks.

    The blocks put end to end are the whole signal; each comes from about
    ``block_frames`` samples at the file's own rate, so memory does not grow
    with the length of the file.  ``start`` and ``duration`` (seconds) select
    a window: the file is seeked near ``start`` rather than decoded from the
    beginning, and the window holds exactly the native samples
    ``round(start * rate)`` up to ``round(duration * rate)`` later, the same
    samples as a decode of the whole file (to the sample, except in WMA, whose
    timestamps are in milliseconds).  The window is resampled on its own, so
    its first and last few milliseconds differ slightly from the same stretch
    of a whole-file decode.

    Bad arguments raise ``ValueError`` and a missing or unreadable file raises
    :class:`AudioError` at once; a file that does not decode raises
    :class:`AudioError` from the iteration.  Stopping early (``close()``, or
    dropping the generator) closes the file.
    """
    if sample_rate <= 0 or block_frames <= 0:
        raise ValueError("sample_rate and block_frames must be positive")
    if start < 0 or (duration is not None and duration <= 0):
        raise ValueError("start must be >= 0 and duration > 0 (or None for the rest)")
    path = Path(path)
    _check_file(path)
    return _stream(path, sample_rate, block_frames, start, duration)


def stream_channels(
    path: str | PathLike[str], *, block_frames: int = 65536
) -> Generator[tuple[np.ndarray, int], None, None]:
    """Decode ``path`` at its own rate with its channels apart: blocks ``(channels, n)`` float32 and their rate.

    For measuring the recording itself (clipping, stereo phase, bandwidth),
    which the model's input -- mono, resampled -- hides: a mono mix averages
    cancelling channels away, and resampling smooths full-scale runs.  Same
    decoder, same error handling as :func:`stream_audio`.
    """
    if block_frames <= 0:
        raise ValueError("block_frames must be positive")
    path = Path(path)
    _check_file(path)
    return _stream_channels(path, block_frames)


def load_audio(path: str | PathLike[str], sample_rate: int = 16000) -> np.ndarray:
    """The whole file as one mono float32 array at ``sample_rate`` (for short clips and tests)."""
    blocks = list(stream_audio(path, sample_rate))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


# -- opening -------------------------------------------------------------------


def special_kind(mode: int) -> str | None:
    """``None`` for a regular file, else what it is: "FIFO", "socket", "device" or "special file"."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _check_file(path: Path) -> None:
    """Fail early, with a precise message, on what FFmpeg would report vaguely, or hang on.

    Every decode checks here before FFmpeg opens the file, so no open can block.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AudioError("file not found", path=path, hint="check the path") from None
    except OSError as error:
        raise AudioError(f"cannot read the file ({error.strerror})", path=path, hint="check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise AudioError("is a folder, not an audio file", path=path, hint="give the audio files in it")
    kind = special_kind(info.st_mode)
    if kind is not None:  # opening a FIFO would wait forever for a writer; never open one
        raise AudioError(f"is a {kind}, not a regular file", path=path, hint="give the audio file itself")
    if stat.S_ISREG(info.st_mode) and info.st_size == 0:
        raise AudioError("file is empty", path=path, hint=_HINT_DAMAGED)


@contextmanager
def _open(path: Path) -> Iterator[InputContainer]:
    """Open ``path`` with FFmpeg, turning its failures into :class:`AudioError`."""
    try:
        # "file:" keeps FFmpeg from reading "Live: Wembley.mp3" as protocol "Live"
        container = av.open(f"file:{path}")
    except PermissionError:
        raise AudioError("permission denied", path=path, hint="make the file readable (chmod +r)") from None
    except FileNotFoundError:
        raise AudioError("file not found", path=path, hint="check the path") from None
    except (av.FFmpegError, OSError) as error:
        raise AudioError(
            f"not an audio file FFmpeg can read ({_reason(error)})",
            path=path,
            hint=f"{_HINT_DAMAGED}; {_HINT_FORMATS}",
        ) from None
    with container:
        yield container


def _audio_stream(container: InputContainer, path: Path) -> AudioStream:
    """The file's main audio stream (FFmpeg's pick where there are several)."""
    stream = container.streams.best("audio")
    if not isinstance(stream, AudioStream):  # None: the file has none
        raise AudioError(
            "has no audio stream",
            path=path,
            hint=f"{_HINT_DAMAGED}; video-only, image and text files carry none",
        )
    if stream.codec_context is None or not stream.codec_context.sample_rate:
        raise AudioError(
            "audio stream cannot be decoded (unknown codec or parameters)",
            path=path,
            hint=f"{_HINT_DAMAGED}; {_HINT_FORMATS}",
        )
    return stream


def _duration(container: InputContainer, stream: AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


# -- decoding --------------------------------------------------------------------


def _stream(
    path: Path, sample_rate: int, block_frames: int, start: float, duration: float | None
) -> Generator[np.ndarray, None, None]:
    with _open(path) as container:  # closed however the iteration ends
        stream = _audio_stream(container, path)
        frames = _located_frames(container, stream, path, start)
        resampler: _Resampler | None = None
        for planes, rate in _gather(_window(frames, start, duration), block_frames):
            # The mix is the plain mean of the channels (librosa's ``to_mono``), not FFmpeg's downmix
            # matrix, which weights centre and surround channels.  Taken per block, not per frame: the
            # same numbers, for a fraction of the per-call cost.
            block = planes.mean(axis=0, dtype=np.float32)
            if resampler is not None and resampler.in_rate != rate:
                yield from _nonempty(resampler.finish())  # the file changed rate midway
                resampler = None
            resampler = resampler or _Resampler(rate, sample_rate)
            yield from _nonempty(resampler.feed(block))
        if resampler is not None:
            yield from _nonempty(resampler.finish())


def _stream_channels(path: Path, block_frames: int) -> Generator[tuple[np.ndarray, int], None, None]:
    with _open(path) as container:
        stream = _audio_stream(container, path)
        planes = _Planes()
        frames = _located_frames(container, stream, path, 0.0)
        yield from _gather(((planes(frame), frame.sample_rate) for frame, _ in frames), block_frames)


def _frames(container: InputContainer, stream: AudioStream, path: Path) -> Generator[AudioFrame, None, None]:
    """The stream's frames from the demuxer's current position.

    A packet the decoder rejects is skipped, as FFmpeg's command line does:
    the last packet of a truncated FLAC, AAC or WMA file, or one damaged MP3
    frame, then costs those few milliseconds instead of the whole file, and a
    warning says what was lost.  A file whose packets are mostly rejected is
    garbage that passed FFmpeg's probe (random bytes can look like MP3) and
    fails, as does a failure to read the file.
    """
    reached, accepted, rejected, first_rejected = 0.0, 0, 0, 0.0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError as error:
                if not rejected:
                    first_rejected = reached
                rejected += 1
                if rejected >= _MIN_REJECTED_TO_FAIL and rejected > accepted:
                    raise AudioError(
                        f"decoding failed at {first_rejected:.2f} s: {rejected} of "
                        f"{rejected + accepted} packets undecodable ({_reason(error)})",
                        path=path,
                        hint=_HINT_DAMAGED,
                    ) from None
                continue
            accepted += 1
            for frame in frames:
                if frame.time is not None:
                    reached = frame.time + frame.samples / frame.sample_rate
                yield frame
    except (av.FFmpegError, OSError) as error:
        raise AudioError(
            f"reading failed at {reached:.2f} s ({_reason(error)})", path=path, hint=_HINT_DAMAGED
        ) from None
    if rejected:
        _log.warning(
            "%s: skipped %d undecodable packet(s), the first at %.2f s",
            path,
            rejected,
            first_rejected,
        )


def _located_frames(
    container: InputContainer, stream: AudioStream, path: Path, start: float
) -> Iterator[tuple[AudioFrame, int]]:
    """Frames from at or before ``start``, each with the index of its first sample in the
    whole decode (counted at the frame's rate).

    Time 0 is the first decoded sample (after any encoder delay FFmpeg drops),
    not timestamp 0: MP3 and WMA streams start later than that.  Where the
    seek lands after ``start`` (or past the end), decoding restarts from the
    beginning: slower, never wrong.
    """
    frames = _frames(container, stream, path)
    first = next(frames, None)
    if first is None:
        raise AudioError("contains no decodable audio", path=path, hint=_HINT_DAMAGED)
    origin, time_base = first.pts, stream.time_base
    position = 0  # without a seek, ``first`` is the first frame of the whole decode
    if origin is not None and time_base is not None and start > SEEK_PREROLL:
        frames.close()
        target = origin + int((start - SEEK_PREROLL) / time_base)
        frames, first = _seek(container, stream, path, target)
        if first is None or not _starts_by(first, origin, time_base, start):
            # landed late, past the end or without timestamps: decode from the beginning
            frames.close()
            frames, first = _seek(container, stream, path, origin)
        index = None if first is None else _index(first, origin, time_base)
        if first is None or index is None:
            raise AudioError(f"cannot seek to {start:.2f} s", path=path, hint="decode it from the start")
        position = index
    rate = first.sample_rate
    for frame in chain([first], frames):
        if frame.sample_rate != rate:  # re-express the position at the new rate
            position, rate = round(position * frame.sample_rate / rate), frame.sample_rate
        yield frame, position
        position += frame.samples


def _seek(
    container: InputContainer, stream: AudioStream, path: Path, target: int
) -> tuple[Generator[AudioFrame, None, None], AudioFrame | None]:
    """Frames from the packet at or before ``target`` (stream time base), and the first of them."""
    try:
        container.seek(target, stream=stream)  # backward: the packet at or before target
    except av.FFmpegError:
        return _no_frames(), None
    frames = _frames(container, stream, path)
    return frames, next(frames, None)


def _no_frames() -> Generator[AudioFrame, None, None]:
    """No frames, closable like :func:`_frames`'s: what a failed seek leaves to read."""
    yield from ()


def _starts_by(frame: AudioFrame, origin: int, time_base: Fraction, start: float) -> bool:
    """Whether ``frame``, the first after a seek, begins at or before ``start``."""
    index = _index(frame, origin, time_base)
    return index is not None and index <= round(start * frame.sample_rate)


def _index(frame: AudioFrame, origin: int, time_base: Fraction) -> int | None:
    """Index of ``frame``'s first sample, from its timestamp (exact rational arithmetic); None without one."""
    if frame.pts is None:
        return None
    return round((frame.pts - origin) * time_base * frame.sample_rate)


def _window(
    frames: Iterable[tuple[AudioFrame, int]], start: float, duration: float | None
) -> Iterator[tuple[np.ndarray, int]]:
    """The samples of ``[start, start + duration)`` as ``(channels, samples)``, with their sample rate."""
    planes = _Planes()
    for frame, position in frames:
        begin = round(start * frame.sample_rate)
        end = None if duration is None else begin + round(duration * frame.sample_rate)
        low = max(begin - position, 0)
        high = frame.samples if end is None else min(end - position, frame.samples)
        if low < high:
            yield planes(frame)[:, low:high], frame.sample_rate
        if end is not None and position + frame.samples >= end:
            return


class _Planes:
    """Frames of any sample format and layout -> ``(channels, samples)`` float32 at the frame's own rate.

    FFmpeg's converter handles every integer/float, packed/planar format; frames
    already in planar float (what the MP3, AAC and Vorbis decoders give) need none.
    """

    def __init__(self) -> None:
        self._converter: av.AudioResampler | None = None
        self._source: tuple[str, str, int] | None = None

    def __call__(self, frame: AudioFrame) -> np.ndarray:
        if frame.format.name == "fltp":
            return frame.to_ndarray()
        source = (frame.format.name, frame.layout.name, frame.sample_rate)
        if self._converter is None or source != self._source:  # a converter is bound to its first frame's parameters
            self._converter, self._source = av.AudioResampler(format="fltp"), source
        return np.concatenate([f.to_ndarray() for f in self._converter.resample(frame)], axis=1)


def _gather(chunks: Iterable[tuple[np.ndarray, int]], block_frames: int) -> Iterator[tuple[np.ndarray, int]]:
    """Regroup chunks (1-D, or 2-D with samples last) into blocks of at least ``block_frames`` samples
    of one rate (and one channel count) each.

    Frames hold a few hundred to a few thousand samples; feeding soxr and the
    channel mix larger blocks keeps the per-call overhead negligible.
    """
    pending: list[np.ndarray] = []
    size, rate = 0, 0
    for chunk, chunk_rate in chunks:
        if pending and (chunk_rate != rate or chunk.shape[:-1] != pending[0].shape[:-1]):
            yield np.concatenate(pending, axis=-1), rate
            pending, size = [], 0
        pending.append(chunk)
        size, rate = size + chunk.shape[-1], chunk_rate
        if size >= block_frames:
            yield np.concatenate(pending, axis=-1), rate
            pending, size = [], 0
    if pending:
        yield np.concatenate(pending, axis=-1), rate


def resample(audio: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """A whole float32 signal already in memory, at ``out_rate``, with the decoder's soxr quality.

    For audio decoded once and needed at a second rate (``mtag eval``'s cache
    shared by models of other rates, its codec study's MP3 round trip); a file
    is resampled while it is decoded (:func:`stream_audio`), never through this.
    """
    if in_rate == out_rate or audio.size == 0:
        return audio
    return soxr.resample(audio, in_rate, out_rate, quality=RESAMPLE_QUALITY).astype(np.float32)


class _Resampler:
    """Streaming soxr HQ (a plain pass where the rates agree), ending at librosa's length."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self._soxr = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality=RESAMPLE_QUALITY)
        )
        self._taken = self._given = 0

    def feed(self, block: np.ndarray) -> np.ndarray:
        self._taken += len(block)
        out = block if self._soxr is None else self._soxr.resample_chunk(block)
        self._given += len(out)
        return out

    def finish(self) -> np.ndarray:
        """The resampler's tail, zero-padded to ``ceil(n_in * out_rate / in_rate)`` in all.

        soxr's own output can end a sample short of that; librosa pads to it,
        and matching it keeps lengths (and so frame counts) equal to the reference.
        """
        tail = (
            np.zeros(0, np.float32)
            if self._soxr is None
            else self._soxr.resample_chunk(np.zeros(0, np.float32), last=True)
        )
        missing = -(-self._taken * self.out_rate // self.in_rate) - self._given - len(tail)
        return np.pad(tail, (0, missing)) if missing >= 0 else tail[: max(len(tail) + missing, 0)]


def _nonempty(block: np.ndarray) -> Iterator[np.ndarray]:
    if block.size:
        yield block
