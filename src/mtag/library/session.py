"""Build a :class:`~mtag.library.tagging.TagSession` from command-line style settings.

Kept apart from the CLI so Python callers (and tests, and benchmarks) get the
same defaults and the same checks as ``mtag tag``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mtag.engine.analysis import seconds_plan
from mtag.engine.inference import Engine, default_workers
from mtag.errors import UsageError
from mtag.library.tagging import MOOD, TagOptions, TagSession
from mtag.nets.tagger import load_tagger
from mtag.taxonomy import DEFAULT_SEPARATOR, DEFAULT_THRESHOLD, GENRE, Taxonomy, join_genres, load_taxonomy


def workers_for(files: int, workers: int | None) -> int:
    """As asked, else none for a single file (starting a worker costs more than it saves), else the default."""
    if workers is not None:
        return workers
    return 0 if files <= 1 else min(default_workers(), files)


def genre_candidates(taxonomy: Taxonomy, labels: Sequence[str]) -> np.ndarray:
    """A mask of the genre labels: the only ones that may win a window's vote."""
    return np.array([taxonomy.entry(label).kind == GENRE for label in labels])


def check_separator(separator: str, taxonomy: Taxonomy) -> None:
    """Refuse, before any work, an empty separator or one that would split a genre or mood name apart."""
    if not separator:
        raise UsageError("--separator cannot be empty", hint='use e.g. "; " (the default)')
    written = {entry.name for entry in taxonomy.entries.values() if entry.kind in (GENRE, MOOD)}
    join_genres(sorted(written | set(taxonomy.parents)), separator)  # raises UsageError naming the clash


def build_session(
    *,
    model: str,
    device: str = "auto",
    precision: str = "auto",
    batch_size: int | None = None,
    workers: int | None = None,
    files: int = 2,
    window: float | None = None,
    hop: float | None = None,
    sample: int | None = None,
    aggregation: str = "mean",
    taxonomy_path: Path | None = None,
    mode: str = "keep",
    top: int = 3,
    threshold: float | None = None,
    parents: bool = False,
    moods: bool = False,
    separator: str = DEFAULT_SEPARATOR,
    dry_run: bool = False,
    force: bool = False,
) -> TagSession:
    """Load the model (once per process) and the genre table, and wire up the engine."""
    taxonomy = load_taxonomy(taxonomy_path)
    check_separator(separator, taxonomy)
    tagger = load_tagger(model, device, precision)
    engine = Engine(
        tagger,
        seconds_plan(tagger, window, hop),
        batch_size=batch_size,
        workers=workers_for(files, workers),
        sample=sample,
        aggregation=aggregation,
        candidates=genre_candidates(taxonomy, tagger.labels),
    )
    options = TagOptions(
        mode=mode,
        top=top,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        parents=parents,
        moods=moods,
        separator=separator,
        dry_run=dry_run,
        force=force,
    )
    return TagSession(engine, taxonomy, options)
