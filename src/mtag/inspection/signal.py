"""Measure the recording itself: level, clipping, stereo phase, bandwidth, noisiness, pauses.

The model hears a 16 kHz mono mix; several ways a file can fool it only show
in the signal before that mix: a mono sum cancels out-of-phase channels,
resampling smooths full-scale runs, and a telephone-band source looks like
quiet music.  One streaming pass over the file at its own rate and channel
count measures what the rules of :mod:`mtag.inspection.rules` need, in memory
that does not grow with the file but for the loudness envelope (a float per
~46 ms: 0.9 MB for three hours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtag.audio.decode import stream_channels

#: A sample at or above this magnitude is at full scale.  int16's largest value is 32767 / 32768
#: = 0.99997; limiters in mastering stop at -0.1 dBFS (0.989) or lower, so only clipped audio (or the
#: overshoot a lossy codec adds to clipped audio) gets here in more than a handful of samples.
CLIP_LEVEL = 0.999

#: Spectral frames last about this long (rounded up to a power of two samples: 2048 at 44.1 kHz).
FRAME_SECONDS = 0.04

#: A frame quieter than this (dBFS) is left out of the spectrum and the noisiness measure, so a
#: track's silent gaps do not count as "narrow" or "noisy".
SOUND_DBFS = -60.0

#: The bandwidth is the frequency above which the recording holds less than this share of its energy
#: (-60 dB).  16-bit quantisation noise sits ~80 dB below a normal master's level, so it does not
#: widen a band-limited source, while a solo piano's overtones above 5 kHz (~-40 to -50 dB) still count.
BANDWIDTH_ENERGY_SHARE = 1e-6

#: Spectral flatness is measured where the model listens: up to its 8 kHz (half of 16 kHz).
FLATNESS_MAX_HZ = 8000.0

#: A frame more than this far below the track's loud level (its 95th percentile frame) is a pause.
PAUSE_BELOW_DB = 30.0

#: Loudness changes at syllable rate: speech opens and closes 3-6 times a second.
SYLLABLE_HZ = (2.0, 8.0)
#: ...out of all slower-than-10 Hz changes of loudness (the envelope's frame rate allows ~11 Hz).
MODULATION_HZ = (0.5, 10.0)


#: Samples per channel :func:`measure_samples` hands the accumulator at a time (about 6 s at 44.1 kHz).
_HELD_BLOCK = 1 << 18


@dataclass(frozen=True)
class SignalStats:
    """What one pass over the decoded file measured (levels in dBFS, -inf for digital silence)."""

    sample_rate: int
    channels: int
    duration: float
    level_dbfs: float  # RMS of the mono mix (what the model hears)
    peak: float  # largest magnitude of any channel
    clipped_share: float  # share of samples (all channels) at or above CLIP_LEVEL
    mono_loss_db: float | None  # mono mix energy vs the channels' mean energy; None for mono or silence
    bandwidth_hz: float | None  # frequency holding all but BANDWIDTH_ENERGY_SHARE of the energy; None if silent
    flatness: float | None  # median spectral flatness of sounding frames, 0 (tonal) .. ~0.56 (white noise)
    pause_share: float  # share of frames PAUSE_BELOW_DB under the loud level (or silent)
    syllable_modulation: float  # share of the envelope's modulation energy at syllable rate (0..1)
    envelope: np.ndarray  # RMS (dBFS) of the mono mix per frame
    frame_seconds: float  # the frames' length

    def level_between(self, start: float, end: float) -> float:
        """RMS level (dBFS) of the mono mix from ``start`` to ``end`` seconds, from the envelope."""
        first = int(start / self.frame_seconds)
        last = max(first + 1, math.ceil(end / self.frame_seconds))
        frames = self.envelope[first:last]
        if frames.size == 0:
            return -math.inf
        energy = float(np.mean(10.0 ** (frames.astype(np.float64) / 10.0)))
        return 10.0 * math.log10(energy) if energy > 0 else -math.inf


class _Accumulator:
    """Running sums over frames of one sample rate."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate, self.channels = rate, channels
        self.size = 1 << max(8, math.ceil(math.log2(FRAME_SECONDS * rate)))
        self.window = np.hanning(self.size).astype(np.float32)
        frequencies = np.fft.rfftfreq(self.size, 1.0 / rate)
        self.frequencies = frequencies
        self.flat_bins = (frequencies > 0) & (frequencies <= FLATNESS_MAX_HZ)
        self.spectrum = np.zeros(frequencies.size)
        self.pending = np.zeros((channels, 0), np.float32)
        self.samples = 0
        self.clipped = 0
        self.peak = 0.0
        self.mono_energy = 0.0
        self.channel_energy = 0.0
        self.envelope: list[np.ndarray] = []
        self.flatness: list[np.ndarray] = []

    def add(self, block: np.ndarray) -> None:
        magnitude = np.abs(block)
        self.clipped += int(np.count_nonzero(magnitude >= CLIP_LEVEL))
        self.peak = max(self.peak, float(magnitude.max(initial=0.0)))
        self.pending = np.concatenate([self.pending, block], axis=1)
        whole = self.pending.shape[1] // self.size * self.size
        if whole:
            self._frames(self.pending[:, :whole])
            self.pending = self.pending[:, whole:]

    def finish(self) -> None:
        if self.pending.shape[1]:  # the last partial frame, zero-padded: counts for levels, not much else
            tail = self.pending.shape[1]
            padded = np.pad(self.pending, ((0, 0), (0, self.size - tail)))
            self._frames(padded, tail)
            self.pending = self.pending[:, :0]

    def _frames(self, block: np.ndarray, valid: int | None = None) -> None:
        count = block.shape[1] // self.size
        frames = block.reshape(self.channels, count, self.size)
        mono = frames.mean(axis=0)
        used = count * self.size if valid is None else valid
        self.samples += used
        mono_energy = np.square(mono, dtype=np.float64).sum(axis=1)
        self.mono_energy += float(mono_energy.sum())
        self.channel_energy += float(np.square(frames, dtype=np.float64).sum()) / self.channels
        rms = np.sqrt(mono_energy / (self.size if valid is None else valid))
        with np.errstate(divide="ignore"):
            levels = 20.0 * np.log10(rms)
        self.envelope.append(levels.astype(np.float32))
        sounding = levels > SOUND_DBFS
        if sounding.any():
            power = np.square(np.abs(np.fft.rfft(mono[sounding] * self.window, axis=1)))
            self.spectrum += power.sum(axis=0)
            band = power[:, self.flat_bins] + 1e-20
            self.flatness.append((np.exp(np.log(band).mean(axis=1)) / band.mean(axis=1)).astype(np.float32))

    def stats(self) -> SignalStats:
        samples = max(self.samples, 1)
        envelope = np.concatenate(self.envelope) if self.envelope else np.zeros(0, np.float32)
        with np.errstate(divide="ignore"):
            level = 10.0 * math.log10(self.mono_energy / samples) if self.mono_energy > 0 else -math.inf
        loss = None
        if self.channels > 1 and self.channel_energy > 0:
            loss = 10.0 * math.log10(self.mono_energy / self.channel_energy) if self.mono_energy > 0 else -math.inf
        flatness = np.concatenate(self.flatness) if self.flatness else np.zeros(0)
        return SignalStats(
            sample_rate=self.rate,
            channels=self.channels,
            duration=self.samples / self.rate,
            level_dbfs=level,
            peak=self.peak,
            clipped_share=self.clipped / (samples * self.channels),
            mono_loss_db=loss,
            bandwidth_hz=self._bandwidth(),
            flatness=float(np.median(flatness)) if flatness.size else None,
            pause_share=_pause_share(envelope),
            syllable_modulation=_syllable_modulation(envelope, self.size / self.rate),
            envelope=envelope,
            frame_seconds=self.size / self.rate,
        )

    def _bandwidth(self) -> float | None:
        spectrum = self.spectrum[1:]  # DC says nothing about bandwidth
        total = spectrum.sum()
        if total <= 0:
            return None
        above = total - np.cumsum(spectrum)  # energy above each bin
        first_quiet = int(np.argmax(above <= BANDWIDTH_ENERGY_SHARE * total))
        return float(self.frequencies[1:][first_quiet])


def _pause_share(envelope: np.ndarray) -> float:
    """Share of frames far below the track's loud level: speech breathes, most music does not stop."""
    if envelope.size == 0 or not np.isfinite(envelope).any():
        return 1.0
    loud = float(np.percentile(envelope[np.isfinite(envelope)], 95))
    return float(np.mean(envelope < loud - PAUSE_BELOW_DB))


def _syllable_modulation(envelope: np.ndarray, step: float) -> float:
    """Share of the loudness envelope's modulation energy at syllable rate (see SYLLABLE_HZ)."""
    if envelope.size < 8:
        return 0.0
    amplitude = np.where(np.isfinite(envelope), 10.0 ** (envelope / 20.0), 0.0)
    amplitude = amplitude - amplitude.mean()
    power = np.square(np.abs(np.fft.rfft(amplitude * np.hanning(amplitude.size))))
    frequencies = np.fft.rfftfreq(amplitude.size, step)
    total = power[(frequencies >= MODULATION_HZ[0]) & (frequencies <= MODULATION_HZ[1])].sum()
    syllabic = power[(frequencies >= SYLLABLE_HZ[0]) & (frequencies <= SYLLABLE_HZ[1])].sum()
    return float(syllabic / total) if total > 0 else 0.0


def measure_signal(path: str | Path) -> SignalStats:
    """Stream ``path`` once at its own rate and channels and measure it (see :class:`SignalStats`).

    A file whose rate changes midway (rare: some broadcast recordings) is
    measured on its first rate's stretch; raises :class:`~mtag.errors.AudioError`
    where the file does not decode, like the engine would.
    """
    accumulator: _Accumulator | None = None
    for block, rate in stream_channels(path):
        if accumulator is None:
            accumulator = _Accumulator(rate, block.shape[0])
        if rate != accumulator.rate or block.shape[0] != accumulator.channels:
            break
        accumulator.add(block)
    if accumulator is None:
        accumulator = _Accumulator(16000, 1)
    return _finished(accumulator)


def measure_samples(samples: np.ndarray, rate: int) -> SignalStats:
    """Measure audio already in memory (``(samples,)`` mono or ``(channels, samples)``) as :func:`measure_signal` does.

    For callers that decoded a track once for other work (``mtag eval``'s
    studies): the same rules and thresholds, without decoding the file again.
    """
    block = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    accumulator = _Accumulator(rate, block.shape[0])
    for start in range(0, block.shape[1], _HELD_BLOCK):  # in blocks, as decoding streams: memory stays flat
        accumulator.add(block[:, start : start + _HELD_BLOCK])
    return _finished(accumulator)


def _finished(accumulator: _Accumulator) -> SignalStats:
    accumulator.finish()
    return accumulator.stats()
