"""Synthetic recordings that trigger (or must not trigger) each inspect diagnostic.

Every function returns float samples shaped ``(channels, n)`` at ``RATE``;
:func:`write` encodes them with the same encoder the other tests use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.audio.synth import write_samples

RATE = 44100


def _time(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * RATE)) / RATE


def band_music(seconds: float, seed: int = 0) -> np.ndarray:
    """A drum-and-bass groove: kick and snare-like noise bursts on the beat, a bass line and a bright chord.

    Full band (energy up to ~15 kHz), never silent, in phase in both channels: no rule fires on it.
    """
    rng = np.random.default_rng(seed)
    t = _time(seconds)
    beat = (t * 2.0) % 1.0  # 120 bpm
    kick = np.sin(2 * np.pi * 55 * t) * np.exp(-beat * 12)
    snare_gate = np.exp(-((t * 2.0 + 0.5) % 1.0) * 20)
    snare = rng.standard_normal(t.size) * snare_gate * 0.3
    hats = rng.standard_normal(t.size) * np.exp(-((t * 8.0) % 1.0) * 40) * 0.08
    bass_notes = np.array([55.0, 55.0, 65.4, 49.0])[(t // 2).astype(int) % 4]
    bass = 0.3 * np.sign(np.sin(2 * np.pi * np.cumsum(bass_notes) / RATE))
    chord = sum(0.08 * np.sin(2 * np.pi * f * t) for f in (440.0, 554.4, 659.3, 880.0, 1318.5))
    mono = 0.5 * (kick + snare + hats + bass + chord)
    mono = (0.7 * mono / np.max(np.abs(mono))).astype(np.float32)
    return np.stack([mono, mono])


def soft_strings(seconds: float) -> np.ndarray:
    """Slow, soft sustained chords with vibrato and no beat: a texture unlike :func:`band_music`."""
    t = _time(seconds)
    chords = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7)]
    index = (t // 4).astype(int) % len(chords)
    vibrato = 1 + 0.004 * np.sin(2 * np.pi * 5.5 * t)
    mono = np.zeros_like(t)
    for voice in range(3):
        freq = np.array([chord[voice] for chord in chords])[index] * vibrato
        phase = 2 * np.pi * np.cumsum(freq) / RATE
        mono += sum(np.sin(k * phase) / k**1.5 for k in range(1, 24))  # overtones past 5 kHz: full band
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / 8) ** 2
    mono = (0.5 * mono * swell / np.max(np.abs(mono))).astype(np.float32)
    return np.stack([mono, mono])


def speech_like(seconds: float, seed: int = 1) -> np.ndarray:
    """Voiced syllables (a 110-140 Hz pulse train through vowel formants), 4-5 a second, with pauses between phrases."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE), np.float32)
    formants = [(730, 1090), (270, 2290), (300, 870), (530, 1840), (660, 1720)]
    position = int(0.2 * RATE)
    while position < out.size:
        for _ in range(rng.integers(4, 9)):  # a phrase
            if position >= out.size:
                break
            length = int(rng.uniform(0.12, 0.22) * RATE)
            t = np.arange(length) / RATE
            pitch = rng.uniform(110, 140) * (1 - 0.1 * t / t[-1])
            phase = 2 * np.pi * np.cumsum(pitch) / RATE
            f1, f2 = formants[rng.integers(len(formants))]
            harmonics = np.arange(1, 40)
            voice = np.zeros(length)
            for k in harmonics:
                f = k * pitch.mean()
                gain = 1 / (1 + ((f - f1) / 90) ** 2) + 0.5 / (1 + ((f - f2) / 120) ** 2)
                voice += gain * np.sin(k * phase)
            voice *= np.hanning(length)
            end = min(position + length, out.size)
            out[position:end] = voice[: end - position]
            position = end + int(rng.uniform(0.03, 0.08) * RATE)
        position += int(rng.uniform(0.4, 0.9) * RATE)  # a breath between phrases
    out = 0.5 * out / np.max(np.abs(out))
    return np.stack([out, out])


def white_noise(seconds: float, seed: int = 2) -> np.ndarray:
    noise = (0.25 * np.random.default_rng(seed).standard_normal(int(seconds * RATE))).astype(np.float32)
    return np.stack([noise, noise])


def silence(seconds: float) -> np.ndarray:
    return np.zeros((2, int(seconds * RATE)), np.float32)


def hard_clipped(samples: np.ndarray, gain: float = 4.0) -> np.ndarray:
    """``samples`` driven ``gain`` times into full scale: the tops of the waves cut flat."""
    return np.clip(samples * gain, -1.0, 1.0).astype(np.float32)


def low_passed(samples: np.ndarray, cutoff_hz: float = 3400.0) -> np.ndarray:
    """``samples`` with everything above ``cutoff_hz`` removed, as a telephone line does."""
    spectrum = np.fft.rfft(samples, axis=-1)
    spectrum[..., np.fft.rfftfreq(samples.shape[-1], 1 / RATE) > cutoff_hz] = 0
    return np.fft.irfft(spectrum, n=samples.shape[-1], axis=-1).astype(np.float32)


def phase_cancelling(samples: np.ndarray) -> np.ndarray:
    """Left channel as it is, right channel inverted: the mono mix the model hears is almost nothing."""
    left = samples[0]
    return np.stack([left, -left * 0.98])


def back_to_back(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts, axis=-1)


def alternating(first: np.ndarray, second: np.ndarray, every: float) -> np.ndarray:
    """``first`` and ``second`` (same shape) taking turns every ``every`` seconds."""
    turns = (np.arange(first.shape[-1]) / RATE // every).astype(int) % 2
    return np.where(turns == 0, first, second).astype(np.float32)


def write(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    write_samples(path, samples, rate)
    return path
