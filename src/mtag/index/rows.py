"""What goes into the index (:class:`TrackRecord`) and what comes out of it (the ``*Row`` classes).

The rows are plain dataclasses rather than sqlite-utils dicts so that callers
(``mtag undo``, ``mtag runs``, re-deciding from stored scores) get decoded
values -- JSON lists, numpy arrays -- and never depend on column spellings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote_from_bytes, unquote_to_bytes

import numpy as np

#: Segment scores are stored as little-endian float32: half the size of the
#: float64 numpy would pick, and exactly what the model produced.
SCORE_DTYPE = np.dtype("<f4")

# Track statuses the index itself interprets.
TRACK_FAILED = "failed"
#: A track whose tag write was begun (see ``Index.begin_tag_change``) but
#: whose analysis was never recorded: the process died in between.
TRACK_PENDING = "pending"

# Run statuses.
RUN_RUNNING = "running"
RUN_FINISHED = "finished"
RUN_INTERRUPTED = "interrupted"

# Tag change states: pending -> applied | failed; applied -> undone | conflict.
CHANGE_PENDING = "pending"
CHANGE_APPLIED = "applied"
CHANGE_FAILED = "failed"


def encode_scores(scores: np.ndarray) -> bytes:
    """Scores in label order as a compact blob (float32, little-endian)."""
    return np.ascontiguousarray(scores, dtype=SCORE_DTYPE).tobytes()


def decode_scores(blob: bytes) -> np.ndarray:
    """The inverse of :func:`encode_scores`: a writable float32 array in label order."""
    return np.frombuffer(blob, dtype=SCORE_DTYPE).astype(np.float32)


def normalise_path(path: str | os.PathLike[str]) -> str:
    """The key a file is stored under: absolute but symlinks kept.

    Resolving symlinks would give a library reached through a link a second
    identity in the index; ``abspath`` keeps the path the user scanned.
    """
    return os.path.abspath(os.fspath(path))


#: Marks a stored path that is not valid UTF-8 (see :func:`path_to_db`).  Stored paths are absolute,
#: so none that is stored as it is can start with it.
BYTES_PREFIX = "fsbytes:"
#: Printable ASCII stays as it is in an escaped path; "%" and every other byte become %XX.
_KEPT_AS_IS = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def path_to_db(path: str | os.PathLike[str]) -> str:
    """The text a file is stored under: :func:`normalise_path`, and lossless for any file name.

    SQLite text must be valid UTF-8, and a file name need not be (a Latin-1
    ``caf\\xe9.flac`` arrives as ``caf\\udce9.flac``).  A name that is valid
    UTF-8 -- nearly all -- is stored as it is, so the index stays readable
    and queryable; any other is stored as ``fsbytes:`` and its bytes
    percent-encoded (``fsbytes:/music/caf%E9.flac``), which
    :func:`path_from_db` turns back into the very same name.
    """
    normalised = normalise_path(path)
    try:
        normalised.encode("utf-8")
    except UnicodeEncodeError:
        return BYTES_PREFIX + quote_from_bytes(os.fsencode(normalised), safe=_KEPT_AS_IS)
    return normalised


def path_from_db(text: str) -> str:
    """The inverse of :func:`path_to_db`: the file's path as Python names it (surrogate-escaped)."""
    if text.startswith(BYTES_PREFIX):
        return os.fsdecode(unquote_to_bytes(text[len(BYTES_PREFIX) :]))
    return text


class SegmentLike(Protocol):
    """Anything with a window's time span and scores, e.g. the engine's ``Segment``."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def padding(self) -> str | None: ...

    @property
    def scores(self) -> np.ndarray: ...


@dataclass(frozen=True)
class TrackRecord:
    """Everything one run learned about one file, recorded in one transaction.

    ``size`` and ``mtime_ns`` must be the values *after* mtag's own tag write,
    so that the next run sees the file as unchanged.  ``scores`` and every
    segment's scores are in ``labels`` order.  ``kinds`` and ``label_genres``
    map a label to its kind ("genre", "mood", ...) and canonical genre name;
    labels missing from them are stored with NULL.  A failed track carries its
    ``error`` and no labels.
    """

    path: str | os.PathLike[str]
    status: str
    size: int | None = None
    mtime_ns: int | None = None
    analysis_key: str | None = None
    duration: float | None = None
    format: str | None = None
    error: str | None = None
    genres: Sequence[str] = ()
    labels: Sequence[str] = ()
    scores: np.ndarray | None = None
    kinds: Mapping[str, str] = field(default_factory=dict)
    label_genres: Mapping[str, str | None] = field(default_factory=dict)
    segments: Sequence[SegmentLike] = ()

    def __post_init__(self) -> None:
        """Reject scores that do not line up with the labels: they would be stored misattributed."""
        expected = len(self.labels)
        if (0 if self.scores is None else len(self.scores)) != expected:
            raise ValueError(f"track scores must have one value per label ({expected})")
        if any(len(segment.scores) != expected for segment in self.segments):
            raise ValueError(f"segment scores must have one value per label ({expected})")


@dataclass(frozen=True)
class RunRow:
    """One ``mtag tag`` run; ``finished`` stays None if its process died."""

    id: int
    started: str
    finished: str | None
    status: str
    model: str
    options: dict[str, Any]
    mtag_version: str
    summary: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunRow:
        return cls(
            id=row["id"],
            started=row["started"],
            finished=row["finished"],
            status=row["status"],
            model=row["model"],
            options=json.loads(row["options"]),
            mtag_version=row["mtag_version"],
            summary=None if row["summary"] is None else json.loads(row["summary"]),
        )


@dataclass(frozen=True)
class PredictionRow:
    """A label's track-level score."""

    label: str
    genre: str | None
    kind: str | None
    score: float


@dataclass(frozen=True)
class SegmentRow:
    """One analysis window as stored; satisfies :class:`SegmentLike`."""

    idx: int
    start: float
    end: float
    padding: str | None
    scores: np.ndarray


@dataclass(frozen=True)
class TrackRow:
    """A file's latest analysis, with its predictions and segments decoded."""

    id: int
    path: str
    size: int | None
    mtime_ns: int | None
    duration: float | None
    format: str | None
    status: str
    error: str | None
    run_id: int
    analysis_key: str | None
    genres: list[str]
    analysed_at: str | None
    predictions: list[PredictionRow]
    segments: list[SegmentRow]

    @property
    def labels(self) -> list[str]:
        return [prediction.label for prediction in self.predictions]

    @property
    def scores(self) -> np.ndarray:
        """Track-level scores in label order, as the engine produced them."""
        return np.array([prediction.score for prediction in self.predictions], dtype=np.float32)


@dataclass(frozen=True)
class TagChangeRow:
    """One field of one file rewritten by a run; values are lists, ``[]`` meaning absent."""

    id: int
    track_id: int
    run_id: int
    path: str
    field: str
    old_value: list[str]
    new_value: list[str]
    state: str
    error: str | None
    changed_at: str | None
    size_after: int | None
    mtime_ns_after: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TagChangeRow:
        values = dict(row)
        values["path"] = path_from_db(row["path"])
        values["old_value"] = json.loads(row["old_value"])
        values["new_value"] = json.loads(row["new_value"])
        return cls(**values)
