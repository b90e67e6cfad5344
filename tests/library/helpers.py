"""Libraries of real (synthesised) audio files for the library and CLI tests."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pytest

from mtag.cli import console
from mtag.cli.main import run
from tests.audio.synth import native_rate, write_samples

#: Every format mtag writes tags into, one file each; the last two go into a subfolder.
TAGGABLE = (".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav", ".aiff", ".wma")
#: Formats that keep white noise as it is (lossy codecs band-limit it, and the model hears something else).
LOSSLESS = (".flac", ".wav", ".aiff")
SUBFOLDER = "sub"


def music(seconds: float, sample_rate: int, seed: int = 0) -> np.ndarray:
    """A stereo sweep over a bass note, noise and a drum-like click every half second.

    Richer than a bare tone: musicnn-msd gives it a genre well above the
    default threshold (a sine alone may score nothing).
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    signal = 0.3 * np.sin(2 * np.pi * (200 * t + 400 * t * t)) + 0.2 * np.sin(2 * np.pi * 55 * t)
    signal += 0.05 * rng.standard_normal(n)
    clicks = np.zeros(n)
    length = int(0.08 * sample_rate)
    for start in range(0, n, sample_rate // 2):
        piece = clicks[start : start + length]
        piece[:] = np.exp(-np.arange(piece.size) / (0.015 * sample_rate))
    signal += 0.6 * clicks * rng.standard_normal(n)
    signal = 0.8 * signal / np.abs(signal).max()
    return np.stack([signal, 0.9 * signal]).astype(np.float32)


def noise(seconds: float, sample_rate: int, seed: int = 0) -> np.ndarray:
    """White noise, the same in both channels; musicnn-msd hears electronic dance music in it (lossless only)."""
    row = 0.3 * np.random.default_rng(seed).standard_normal(round(seconds * sample_rate))
    return np.stack([row, row]).astype(np.float32)


def write_music(path: Path, seconds: float = 4.0, seed: int = 0) -> Path:
    """``path`` (format from its extension) holding :func:`music`, at 16 kHz where the codec allows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = native_rate(path, 16000)
    return write_samples(path, music(seconds, rate, seed), rate)


def write_noise(path: Path, seconds: float = 4.0, seed: int = 0) -> Path:
    """``path`` holding :func:`noise` at 16 kHz: "Electronic; Dance; ..." by the default table."""
    assert path.suffix in LOSSLESS, "lossy codecs change what the model hears in noise"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_samples(path, noise(seconds, 16000, seed), 16000)


def build_library(root: Path, extensions: Sequence[str] = TAGGABLE, seconds: float = 4.0) -> list[Path]:
    """One file per extension under ``root``, the last two in a subfolder; sorted like discovery sorts.

    Lossless files hold noise, the others :func:`music`, so the library gets more than one genre.
    """
    paths = []
    for i, ext in enumerate(extensions):
        folder = root / SUBFOLDER if i >= len(extensions) - 2 else root
        write = write_noise if ext in LOSSLESS else write_music
        paths.append(write(folder / f"track{i:02d}{ext}", seconds, seed=i))
    return sorted(p.absolute() for p in paths)


def copy_library(source: Path, target: Path) -> list[Path]:
    shutil.copytree(source, target)
    return sorted(p.absolute() for p in target.rglob("*") if p.is_file())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(paths: Iterable[Path]) -> dict[Path, str]:
    return {path: digest(path) for path in paths}


def write_taxonomy(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def mtag(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run ``mtag ARGS`` in this process; returns (exit code, stdout, stderr)."""
    console.settings.verbose = False  # as in a fresh process: an earlier -v must not leak into this run
    with pytest.raises(SystemExit) as exit_info:
        run([str(arg) for arg in args])
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def isolate_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point HOME and the XDG folders into ``tmp_path``: no user genre table, no default index of the user's."""
    env = {}
    for name, folder in (("HOME", "home"), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        env[name] = str(tmp_path / folder)
        monkeypatch.setenv(name, env[name])
    return env
