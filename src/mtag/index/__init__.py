"""The SQLite index of ``mtag tag``: runs, per-track analyses and the tag changes ``mtag undo`` reverts.

Import from here; the submodules are an implementation detail.  Nothing in
this package imports torch, so ``mtag runs`` and ``mtag undo`` start fast.
"""

from mtag.index.lock import IndexBusyError
from mtag.index.rows import (
    PredictionRow,
    RunRow,
    SegmentLike,
    SegmentRow,
    TagChangeRow,
    TrackRecord,
    TrackRow,
    decode_scores,
    encode_scores,
)
from mtag.index.schema import SCHEMA_VERSION
from mtag.index.store import Index, default_index_path

__all__ = [
    "SCHEMA_VERSION",
    "Index",
    "IndexBusyError",
    "PredictionRow",
    "RunRow",
    "SegmentLike",
    "SegmentRow",
    "TagChangeRow",
    "TrackRecord",
    "TrackRow",
    "decode_scores",
    "default_index_path",
    "encode_scores",
]
