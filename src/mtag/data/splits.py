"""Random and k-fold splits drawn over groups, stratified by label, reproducible by seed.

Shared by every adapter: a split never puts one group (an artist, an album, a
GTZAN artist block) on both sides, which is what makes a test score honest.

Stratification works on groups: each group is filed under its *rarest* label
(over the whole data set), so a rare genre's few albums are spread over the
splits first instead of landing wherever the common labels push them.  Within
a stratum the groups are shuffled with the seed, then each goes to the split
(or fold) furthest below its target share of that stratum's tracks.  With
few groups the shares are met only roughly; a stratum of one group goes to
training, where a label is needed most.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from mtag.data.check import MIN_TRAIN_TRACKS
from mtag.data.examples import TEST, TRAIN, VALID, Example
from mtag.data.options import FOLDS, RANDOM, DatasetOptions
from mtag.errors import UsageError


def resplit(examples: Sequence[Example], options: DatasetOptions, kind: str) -> tuple[list[Example], str]:
    """``examples`` with a RANDOM or FOLDS split drawn afresh, and the split's description."""
    if kind == RANDOM:
        targets = {TRAIN: 1 - options.valid_share - options.test_share, VALID: options.valid_share}
        targets[TEST] = options.test_share
        assigned = _deal_splits(_strata(examples, options.seed), _sizes(examples), targets)
        return _with_splits(examples, assigned), f"random (seed {options.seed})"
    if kind == FOLDS:
        return fold_split(examples, options), f"fold {options.fold}/{options.folds} (seed {options.seed})"
    raise ValueError(f"not a drawn split: {kind!r}")


def fold_split(examples: Sequence[Example], options: DatasetOptions) -> list[Example]:
    """Fold ``options.fold`` (1-based) of ``options.folds`` as the test split, the next fold as validation.

    The folds partition the groups: over fold 1..k every group is tested
    exactly once.  Validation is a whole fold (the one after the test fold,
    wrapping round), not a share of the rest, because a fold is stratified
    over every label: on a small data set a 10 % share can be a single group
    of a single genre, and a model chosen by its accuracy on one genre is
    chosen at random.  A validation group whose label would otherwise have too
    few training tracks trains instead.  With two folds there is no third to train
    on, so validation is ``valid_share`` of the training fold instead.
    """
    strata = _strata(examples, options.seed)
    sizes = _sizes(examples)
    folds = assign_folds(strata, sizes, options.folds)
    test = options.fold - 1
    if options.folds >= 3:
        valid = (test + 1) % options.folds
        assigned = {group: TEST if fold == test else VALID if fold == valid else TRAIN for group, fold in folds.items()}
        return _with_splits(examples, _keep_labels_in_training(assigned, examples))
    rest = {stratum: [g for g in groups if folds[g] != test] for stratum, groups in strata.items()}
    assigned = _deal_splits(rest, sizes, {TRAIN: 1 - options.valid_share, VALID: options.valid_share})
    assigned.update({group: TEST for group, fold in folds.items() if fold == test})
    return _with_splits(examples, assigned)


def _keep_labels_in_training(assigned: dict[str, str], examples: Sequence[Example]) -> dict[str, str]:
    """Validation groups go back to training while their label has too few training tracks to learn from.

    A label with few groups can have one in the test fold and one in the
    validation fold; a model cannot learn it from nothing (and ``mtag train``
    refuses a label with fewer than ``MIN_TRAIN_TRACKS``), so validation gives
    the group up and is measured without it.
    """
    labels: dict[str, set[str]] = defaultdict(set)
    for example in examples:
        labels[example.group].update(example.labels)
    sizes = _sizes(examples)
    trained = Counter(label for example in examples if assigned[example.group] == TRAIN for label in example.labels)
    for group in sorted(assigned):
        if assigned[group] == VALID and any(trained[label] < MIN_TRAIN_TRACKS for label in labels[group]):
            assigned[group] = TRAIN
            trained.update({label: sizes[group] for label in labels[group]})
    return assigned


def assign_folds(strata: Mapping[str, list[str]], sizes: Mapping[str, int], folds: int) -> dict[str, int]:
    """Each group's fold (0-based): per stratum to the fold with fewest of its tracks, ties to the smaller fold."""
    totals = [0] * folds
    assigned: dict[str, int] = {}
    for groups in strata.values():
        in_stratum = [0] * folds
        for group in groups:
            fold = min(range(folds), key=lambda f: (in_stratum[f], totals[f], f))
            assigned[group] = fold
            in_stratum[fold] += sizes[group]
            totals[fold] += sizes[group]
    return assigned


def _deal_splits(
    strata: Mapping[str, list[str]], sizes: Mapping[str, int], targets: Mapping[str, float]
) -> dict[str, str]:
    """Each group's split: the one furthest below its target share, in its stratum and overall.

    The stratum term stratifies; the overall term lets a small split (valid)
    still get groups when every stratum is too small to give it one alone.
    """
    assigned: dict[str, str] = {}
    overall: Counter[str] = Counter()
    overall_total = 0
    for groups in strata.values():
        counts: Counter[str] = Counter()
        total = 0
        for group in groups:
            total += sizes[group]
            overall_total += sizes[group]
            deficits = {
                s: (share * total - counts[s]) + (share * overall_total - overall[s]) for s, share in targets.items()
            }
            split = max(deficits, key=deficits.__getitem__)  # the first (TRAIN) wins ties
            assigned[group] = split
            counts[split] += sizes[group]
            overall[split] += sizes[group]
    return assigned


def _strata(examples: Sequence[Example], seed: int) -> dict[str, list[str]]:
    """Groups by stratum (their rarest label), strata and groups in a seeded order independent of input order."""
    totals = Counter(label for example in examples for label in example.labels)
    group_labels: dict[str, set[str]] = defaultdict(set)
    for example in examples:
        group_labels[example.group].update(example.labels)
    strata: dict[str, list[str]] = defaultdict(list)
    for group in sorted(group_labels):
        labels = group_labels[group]
        strata[min(labels, key=lambda label: (totals[label], label)) if labels else ""].append(group)
    rng = random.Random(seed)
    ordered: dict[str, list[str]] = {}
    for stratum in sorted(strata, key=lambda s: (totals[s], s)):  # rarest first: they matter most for balance
        groups = strata[stratum]
        rng.shuffle(groups)
        ordered[stratum] = groups
    return ordered


def _sizes(examples: Sequence[Example]) -> Counter[str]:
    return Counter(example.group for example in examples)


def _with_splits(examples: Sequence[Example], assigned: Mapping[str, str]) -> list[Example]:
    return [replace(example, split=assigned[example.group]) for example in examples]


def choose_kind(dataset: str, options: DatasetOptions, own: str | None) -> str:
    """The split kind to make: the asked one if ``dataset`` can make it, else a usage error.

    ``own`` is the split the data set ships (GTZAN's filtered, MTAT's and FMA's
    official), the default; a data set without one is split at random.
    """
    allowed = ([own] if own else []) + [RANDOM, FOLDS]
    kind = options.split or allowed[0]
    if kind not in allowed:
        raise UsageError(f"{dataset} has no {kind!r} split", hint=f"choose one of {', '.join(allowed)}")
    return kind
