"""What a caller may choose when loading a data set, in one typed record.

Every adapter takes the same :class:`DatasetOptions`, so ``mtag train`` and
``mtag datasets check`` pass the user's flags through unchanged; an option an
adapter has no use for (``fma_subset`` for GTZAN) is simply ignored, while a
split kind it cannot make is refused in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtag.errors import UsageError

#: Split kinds.  FILTERED and OFFICIAL come with a data set; RANDOM and FOLDS are drawn over groups.
FILTERED = "filtered"
OFFICIAL = "official"
RANDOM = "random"
FOLDS = "folds"
SPLIT_KINDS = (FILTERED, OFFICIAL, RANDOM, FOLDS)

#: FMA's nested subsets, smallest first, and "full" (every track, full-length audio).
FMA_SUBSETS = ("small", "medium", "large", "full")


@dataclass(frozen=True)
class DatasetOptions:
    """How to read and split a data set.

    ``split`` None means the data set's own: GTZAN's fault-filtered split,
    MTAT's and FMA's official ones, a random split for a folder or a library.
    ``fold`` counts from 1 (``fold 2/5``).  The shares apply to groups'
    tracks, per stratum, so they are approximate on small data sets.
    """

    split: str | None = None
    seed: int = 0
    folds: int = 5
    fold: int = 1
    valid_share: float = 0.1
    test_share: float = 0.2
    labels: tuple[str, ...] = ()  # folder, library: keep only these labels (as the data set names them)
    min_tracks: int = 20  # library: labels with fewer tracks are left out (Dataset.rare_labels)
    fma_subset: str | None = None  # default: the smallest fma_<subset> folder present
    fma_all_genres: bool = False  # FMA: every genre of a track (multi-label) instead of genre_top
    use_index: bool = False  # library: the tracks mtag's index knows instead of walking --data-dir
    index_path: Path | None = None  # library with use_index: the index file (default: mtag's)
    gtzan_block: int = 5  # GTZAN random/folds: consecutive indices grouped as one artist block

    def __post_init__(self) -> None:
        """Refuse impossible values here, once, rather than in every adapter."""
        if self.split is not None and self.split not in SPLIT_KINDS:
            raise UsageError(f"unknown split {self.split!r}", hint=f"choose one of {', '.join(SPLIT_KINDS)}")
        if self.folds < 2:
            raise UsageError(f"--folds must be 2 or more, not {self.folds}", hint="5 is usual")
        if not 1 <= self.fold <= self.folds:
            raise UsageError(f"--fold must be between 1 and {self.folds}, not {self.fold}", hint="folds count from 1")
        if not (0 <= self.valid_share < 1 and 0 <= self.test_share < 1 and self.valid_share + self.test_share < 1):
            raise UsageError(
                "the valid and test shares must each lie in [0, 1) and leave some tracks for training",
                hint="e.g. 0.1 and 0.2",
            )
        if self.fma_subset is not None and self.fma_subset not in FMA_SUBSETS:
            raise UsageError(f"unknown FMA subset {self.fma_subset!r}", hint=f"choose one of {', '.join(FMA_SUBSETS)}")
        if self.min_tracks < 1 or self.gtzan_block < 1:
            raise UsageError("--min-tracks and the GTZAN block size must be 1 or more")
