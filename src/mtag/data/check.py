"""Is a data set usable?  The refusals made before any decoding, and the audit of its files.

:func:`check_trainable` is what ``mtag train`` calls right after loading:
an empty split, a single label or a label with too few training tracks is
refused with the reason, before minutes of decoding are spent.
:func:`audit` opens every file's headers (no decoding) in a few threads to
find the unreadable ones and the durations; ``mtag datasets check`` shows it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from mtag.data.examples import SPLITS, TRAIN, Dataset, Example, Skipped
from mtag.errors import MtagError, UsageError

#: Fewer training tracks than this for a label and it is refused: a classifier learns next to nothing from fewer.
MIN_TRAIN_TRACKS = 3
DEFAULT_PROBE_WORKERS = 4
_NAMED = 5  # labels or files named in one line before "..."


def problems(dataset: Dataset, min_train: int = MIN_TRAIN_TRACKS) -> list[str]:
    """Why ``dataset`` cannot be trained on, one reason a line; [] when it can."""
    found: list[str] = []
    if len(dataset.labels) < 2:
        which = f"one label ({dataset.labels[0]})" if dataset.labels else "no labels"
        found.append(f"it has {which}; a classifier needs two or more")
    empty = [split for split in SPLITS if not dataset.part(split)]
    if empty:
        found.append(f"the {' and '.join(empty)} split{'s are' if len(empty) > 1 else ' is'} empty")
    counts = dataset.counts()[TRAIN]
    rare = {label: counts[label] for label in dataset.labels if counts[label] < min_train}
    if rare and TRAIN not in empty:
        found.append(f"too few training tracks (fewer than {min_train}) for {_named(rare)}")
    return found


def check_trainable(dataset: Dataset, min_train: int = MIN_TRAIN_TRACKS) -> None:
    """Refuse, with the reason, a data set that cannot be trained on (a :class:`UsageError`, exit 2)."""
    found = problems(dataset, min_train)
    if found:
        raise UsageError(
            f"{dataset.name} ({dataset.split}) cannot be trained on: {'; '.join(found)}", hint=_hint(dataset, found)
        )


def missing_line(dataset: Dataset) -> str | None:
    """The one line on files the split lists but the folder lacks (None when none are missing)."""
    if not dataset.missing:
        return None
    return (
        f"missing {len(dataset.missing)} of the files the {dataset.split} split lists"
        f" (e.g. {dataset.missing[0]}); the {len(dataset.examples)} found are used"
    )


@dataclass
class Audit:
    """What opening every file found: durations in seconds and the files that would not open."""

    durations: dict[Path, float] = field(default_factory=dict)
    unknown_duration: int = 0
    unreadable: list[Skipped] = field(default_factory=list)

    def spread(self) -> dict[str, float] | None:
        """Total, min, median and max duration (None when no duration is known)."""
        values = sorted(self.durations.values())
        if not values:
            return None
        return {"total": sum(values), "min": values[0], "median": statistics.median(values), "max": values[-1]}


def audit(
    examples: Sequence[Example],
    workers: int = DEFAULT_PROBE_WORKERS,
    on_file: Callable[[], None] | None = None,
) -> Audit:
    """Open each file's headers in ``workers`` threads (FFmpeg releases the GIL while it reads)."""
    result = Audit()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for example, (duration, error) in zip(examples, pool.map(_probe, [e.path for e in examples])):
            if error is not None:
                result.unreadable.append(Skipped(example.path, error))
            elif duration is None:
                result.unknown_duration += 1
            else:
                result.durations[example.path] = duration
            if on_file is not None:
                on_file()
    return result


def without_unreadable(dataset: Dataset, found: Audit) -> Dataset:
    """``dataset`` less the files that would not open, which join its skipped files."""
    bad = {skipped.path for skipped in found.unreadable}
    if not bad:
        return dataset
    kept = [example for example in dataset.examples if example.path not in bad]
    return replace(dataset, examples=kept, skipped=[*dataset.skipped, *found.unreadable])


def skipped_reasons(dataset: Dataset) -> Counter[str]:
    """How many files were skipped for each reason."""
    return Counter(skipped.reason for skipped in dataset.skipped)


def _probe(path: Path) -> tuple[float | None, str | None]:
    from mtag.audio.decode import probe  # PyAV: imported when files are opened, so `mtag --help` stays instant

    try:
        return probe(path).duration, None
    except MtagError as error:
        return None, error.message


def _named(counts: dict[str, int]) -> str:
    shown = ", ".join(f"{label} ({n})" for label, n in list(counts.items())[:_NAMED])
    return shown + (f", ... ({len(counts)} labels)" if len(counts) > _NAMED else "")


def _hint(dataset: Dataset, found: list[str]) -> str:
    """A partial copy or an empty split wants another split; a label short of tracks, more tracks or fewer labels."""
    if dataset.missing or any("split" in reason for reason in found):
        return "choose --split random or --split folds, or point --data-dir at the whole data set"
    return "add tracks, or leave labels out (--labels; a library's --min-tracks)"
