"""Inspection tests share one loaded model and one set of synthetic recordings (building them costs seconds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mtag.inspection.report import Inspection, Inspector
from mtag.library.session import SessionOptions, build_session
from mtag.library.tagging import TagOptions, TagSession
from tests.inspection import signals as s
from tests.library.helpers import isolate_user_folders

#: name -> samples of each recording the diagnostics tests use (see tests/inspection/signals.py).
RECORDINGS = {
    "clean.flac": lambda: s.band_music(24.0),
    "clean.mp3": lambda: s.band_music(24.0, seed=3),
    "silence.flac": lambda: s.silence(8.0),
    "gap.flac": lambda: s.back_to_back(s.band_music(12.0), s.silence(9.0), s.band_music(9.0, seed=4)),
    "clip-2s.flac": lambda: s.band_music(2.0),
    "clip-half-second.flac": lambda: s.band_music(0.5),
    "clipped.flac": lambda: s.hard_clipped(s.band_music(12.0)),
    "telephone.flac": lambda: s.low_passed(s.band_music(12.0)),
    "noise.flac": lambda: s.white_noise(9.0),
    "speech.flac": lambda: s.speech_like(20.0),
    "medley.flac": lambda: s.back_to_back(s.band_music(24.0), s.soft_strings(24.0)),
    "flip-flop.flac": lambda: s.alternating(s.band_music(30.0), s.soft_strings(30.0), every=2.992),
    "cancelling.flac": lambda: s.phase_cancelling(s.band_music(12.0)),
}


@pytest.fixture(scope="session")
def recordings(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("recordings")
    return {name: s.write(folder / name, make()) for name, make in RECORDINGS.items()}


@pytest.fixture(scope="session")
def session(tmp_path_factory) -> TagSession:
    """A dry-run session with mtag tag's defaults (musicnn-msd, mean, 0.25, top 3) and no user genre table."""
    with pytest.MonkeyPatch.context() as patch:
        isolate_user_folders(tmp_path_factory.mktemp("user"), patch)
        return build_session(SessionOptions(model="musicnn-msd", device="cpu", workers=0, tag=TagOptions(dry_run=True)))


@pytest.fixture(scope="session")
def inspector(session) -> Inspector:
    """Inspects as ``mtag inspect --plot`` does: no explanation (7 model passes per window), only the tests of
    the explanation pay for that (:func:`explained`)."""
    return Inspector(session, spectrogram=True)


def _cached(inspector: Inspector, recordings: dict[str, Path]) -> Callable[[str], Inspection]:
    """The inspection of a recording by name, made once per test session."""
    cache: dict[str, Inspection] = {}

    def get(name: str) -> Inspection:
        if name not in cache:
            (found,) = inspector.run([recordings[name]])
            assert isinstance(found, Inspection), found
            cache[name] = found
        return cache[name]

    return get


@pytest.fixture(scope="session")
def inspected(inspector, recordings) -> Callable[[str], Inspection]:
    """A recording's inspection without the explanation, by name."""
    return _cached(inspector, recordings)


@pytest.fixture(scope="session")
def explained(session, recordings) -> Callable[[str], Inspection]:
    """A recording's inspection with ``--explain``'s occlusion explanation, by name."""
    return _cached(Inspector(session, explain=True), recordings)
