"""Fixtures for the index tests: a fresh index file and tracks to record in it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mtag.index import Index, SegmentRow, TrackRecord

SRC = Path(__file__).resolve().parents[2] / "src"
LABELS = ["rock", "jazz", "happy"]


def make_record(path: str | Path, **changes: Any) -> TrackRecord:
    """A tagged three-label track with two segments; ``changes`` override any field."""
    scores = np.array([0.75, 0.125, 0.5], dtype=np.float32)
    fields: dict[str, Any] = {
        "path": path,
        "status": "tagged",
        "size": 1000,
        "mtime_ns": 1_700_000_000_000_000_000,
        "analysis_key": "musicnn-msd/187/187/all/mean/fp32",
        "duration": 6.5,
        "format": "mp3",
        "genres": ["Rock"],
        "labels": LABELS,
        "scores": scores,
        "kinds": {"rock": "genre", "jazz": "genre", "happy": "mood"},
        "label_genres": {"rock": "Rock", "jazz": "Jazz"},
        "segments": [
            SegmentRow(0, 0.0, 3.0, None, np.array([0.9, 0.1, 0.25], dtype=np.float32)),
            SegmentRow(1, 3.0, 6.5, "repeat", np.array([0.6, 0.15, 0.75], dtype=np.float32)),
        ],
    }
    fields.update(changes)
    return TrackRecord(**fields)


def python_env() -> dict[str, str]:
    """Environment for a child ``python -c`` that must import mtag from this checkout."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "index.db"


@pytest.fixture
def index(db_path: Path) -> Iterator[Index]:
    with Index.open(db_path) as opened:
        yield opened


@pytest.fixture
def run_id(index: Index) -> Iterator[int]:
    """A started run, inside the run lock as ``mtag tag`` holds it."""
    with index.lock_for_run():
        yield index.start_run("musicnn-msd", {"threshold": 0.3})
