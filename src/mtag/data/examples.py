"""What every data set becomes: labelled examples with a split and a group.

Training and evaluation never look at a data set's layout; an adapter (one
module per data set in this package) reads the layout once and hands over a
:class:`Dataset`.  ``group`` is what must never sit on both sides of a split
(an artist, an album, one of GTZAN's artist blocks), so a random or k-fold
split is drawn over groups, not examples.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TRAIN = "train"
VALID = "valid"
TEST = "test"
SPLITS = (TRAIN, VALID, TEST)


@dataclass(frozen=True)
class Example:
    """One audio file with its labels, the split it belongs to and its group."""

    path: Path
    labels: tuple[str, ...]
    split: str
    group: str


@dataclass(frozen=True)
class Skipped:
    """A file the adapter found but will not use, and why (unreadable, known-bad, no label)."""

    path: Path
    reason: str


@dataclass
class Dataset:
    """A data set read from disk, ready to train on or measure.

    ``labels`` is the label vocabulary in the order a model's outputs take;
    ``genres`` maps a label to the canonical genre it means (empty for tag
    sets such as MagnaTagATune's, whose labels are not all genres).
    """

    name: str
    root: Path
    labels: tuple[str, ...]
    multi_label: bool
    examples: list[Example]
    split: str  # how the examples were split: "filtered", "official", "random", "fold 2/5", ...
    license: str = "unknown"
    genres: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # listed by the split, not found on disk
    skipped: list[Skipped] = field(default_factory=list)
    rare_labels: dict[str, int] = field(default_factory=dict)  # left out: label -> tracks it had

    def part(self, split: str) -> list[Example]:
        """The examples of one split, in the data set's order."""
        return [example for example in self.examples if example.split == split]

    def counts(self) -> dict[str, Counter[str]]:
        """Tracks per label in each split."""
        return {split: Counter(label for e in self.part(split) for label in e.labels) for split in SPLITS}
