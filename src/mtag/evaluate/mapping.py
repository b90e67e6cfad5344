"""Data-set labels against a model's labels, through the genre table.

A model and a data set rarely share a vocabulary: the shipped musicnn-msd
says "Hip-Hop" and "heavy metal", GTZAN says "hiphop" and "metal".  Both
sides are named the way ``mtag tag`` names them: a model label through the
genre table (with the model card's own ``label -> genre`` mapping added, as
``tag`` adds it), a data-set label through the data set's declared genres
or :class:`~mtag.data.genres.GenreNames`.  A label that is no genre (an MTAT
tag such as "guitar") keeps its own spelling, so a model trained on the
data set's own vocabulary matches it label for label.

The evaluation covers the names both sides have.  Several model labels may
mean one genre ("electronic", "electronica"): the genre scores as its best
label, as it does when ``tag`` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtag.cards import ModelCard
from mtag.data.examples import Dataset
from mtag.data.genres import GenreNames, genre_key
from mtag.taxonomy import GENRE, Taxonomy, load_taxonomy


@dataclass(frozen=True)
class LabelMapping:
    """Which data-set labels one model can be measured on, and how its scores become theirs.

    ``shared`` are the names both sides have, in the data set's label order;
    ``model_columns[i]`` the model's label indices that score ``shared[i]``;
    ``dataset_columns[i]`` the data set's label index that is ``shared[i]``.
    """

    model: str
    shared: tuple[str, ...]
    model_columns: tuple[tuple[int, ...], ...]
    dataset_columns: tuple[int, ...]
    uncovered: tuple[str, ...]  # data-set labels (as the data set spells them) the model cannot express

    def scores(self, model_scores: np.ndarray) -> np.ndarray:
        """``(..., model labels)`` -> ``(..., shared)``: each shared name's best label."""
        return np.stack([model_scores[..., list(columns)].max(axis=-1) for columns in self.model_columns], axis=-1)

    def candidates(self, n_labels: int) -> np.ndarray:
        """The model labels that stand for a shared name (who may win a window's vote)."""
        mask = np.zeros(n_labels, bool)
        for columns in self.model_columns:
            mask[list(columns)] = True
        return mask

    def targets(self, dataset_targets: np.ndarray) -> np.ndarray:
        """The data set's 0/1 target matrix restricted to the shared names."""
        return dataset_targets[:, list(self.dataset_columns)]

    def to_json(self) -> dict[str, object]:
        return {"shared": list(self.shared), "uncovered": list(self.uncovered)}


def model_names(card: ModelCard, taxonomy: Taxonomy) -> list[str]:
    """The name each of the model's labels stands for: its genre, else the label itself."""
    table = taxonomy.with_model_genres(card.genres)
    names = []
    for label in card.labels:
        entry = table.entry(label)
        names.append(entry.name if entry.kind == GENRE else label)
    return names


def dataset_names(dataset: Dataset, names: GenreNames) -> list[str]:
    """The name each data-set label stands for: its declared genre, the table's spelling, or itself."""
    return [dataset.genres.get(label) or names.known(label) or label for label in dataset.labels]


def map_labels(card: ModelCard, dataset: Dataset, taxonomy: Taxonomy | None = None) -> LabelMapping:
    """How ``card``'s scores measure ``dataset``'s labels (names compared ignoring case and punctuation)."""
    taxonomy = load_taxonomy() if taxonomy is None else taxonomy
    columns: dict[str, list[int]] = {}
    for index, name in enumerate(model_names(card, taxonomy)):
        columns.setdefault(genre_key(name), []).append(index)
    shared, model_columns, dataset_columns, uncovered = [], [], [], []
    for index, (label, name) in enumerate(zip(dataset.labels, dataset_names(dataset, GenreNames(taxonomy)))):
        found = columns.get(genre_key(name))
        if found is None:
            uncovered.append(label)
            continue
        shared.append(name)
        model_columns.append(tuple(found))
        dataset_columns.append(index)
    return LabelMapping(card.name, tuple(shared), tuple(model_columns), tuple(dataset_columns), tuple(uncovered))
