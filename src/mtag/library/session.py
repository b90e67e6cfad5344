"""Build a :class:`~mtag.library.tagging.TagSession` from command-line style settings.

Kept apart from the CLI so Python callers (and tests, and benchmarks) get the
same defaults and the same checks as ``mtag tag``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mtag.catalog import DEFAULT_MODEL
from mtag.cpu import use_threads
from mtag.decision import MOOD
from mtag.device import resolve_device
from mtag.engine.inference import Engine, default_workers
from mtag.engine.plans import seconds_plan
from mtag.errors import UsageError
from mtag.library.tagging import TagOptions, TagSession
from mtag.nets.tagger import load_tagger
from mtag.taxonomy import GENRE, Taxonomy, join_genres, load_taxonomy

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class SessionOptions:
    """What a session is asked for: the model and how to run it, the genre table, and the run's options."""

    model: str = DEFAULT_MODEL
    device: str = "auto"
    threads: int | None = None  # torch's CPU threads; None: see mtag.cpu.default_threads
    precision: str = "auto"
    batch_size: int | None = None
    workers: int | None = None  # None: chosen from the number of files (see workers_for)
    files: int = 2
    largest_file_bytes: int = 0  # one big file is worth a decode process (see SINGLE_FILE_WORKER_BYTES)
    window: float | None = None  # seconds; None: the model's own
    hop: float | None = None
    sample: int | None = None
    taxonomy_path: Path | None = None
    tag: TagOptions = field(default_factory=TagOptions)


#: A single file this big or bigger gets a decode process beside the model.  With the pruned networks
#: decoding is about half the work, so overlapping it pays once there is enough of it (2-core CPU: a
#: 4-minute FLAC, 12 MB, 4.3 s with one against 4.6 s without; a 3-hour MP3, 173 MB, 44 s against
#: 68 s), while for a 30 s clip (1.3 MB) starting the process costs more than it saves (3.6 s against 3.0 s).
SINGLE_FILE_WORKER_BYTES = 8 * 2**20


def workers_for(files: int, workers: int | None, device: torch.device, largest_bytes: int = 0) -> int:
    """As asked, else none for one small file (starting a worker costs more than it saves), else the default."""
    if workers is not None:
        return workers
    if files <= 1 and largest_bytes < SINGLE_FILE_WORKER_BYTES:
        return 0
    return min(default_workers(device), files)


def check_separator(separator: str, taxonomy: Taxonomy) -> None:
    """Refuse, before any work, an empty separator or one that would split a genre or mood name apart."""
    if not separator:
        raise UsageError("--separator cannot be empty", hint='use e.g. "; " (the default)')
    written = {entry.name for entry in taxonomy.entries.values() if entry.kind in (GENRE, MOOD)}
    join_genres(sorted(written | set(taxonomy.parents)), separator)  # raises UsageError naming the clash


def build_session(options: SessionOptions) -> TagSession:
    """Load the model (once per process) and the genre table, and wire up the engine."""
    taxonomy = load_taxonomy(options.taxonomy_path)
    check_separator(options.tag.separator, taxonomy)
    device = resolve_device(options.device)
    workers = workers_for(options.files, options.workers, device, options.largest_file_bytes)
    use_threads(options.threads, decoders=workers > 0)  # before the model first runs
    tagger = load_tagger(options.model, options.device, options.precision)
    engine = Engine(
        tagger,
        seconds_plan(tagger.card, options.window, options.hop),
        batch_size=options.batch_size,
        workers=workers,
        sample=options.sample,
    )
    # A trained model's card says what its labels mean; the table (the user's edits) wins where it lists them.
    return TagSession(engine, taxonomy.with_model_genres(tagger.card.genres), options.tag)
