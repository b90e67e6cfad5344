"""One entry point for every data set: ``load_dataset(name, data_dir, options)``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mtag.data import fma, folder, gtzan, library, mtat
from mtag.data.catalog import dataset_info
from mtag.data.examples import Dataset
from mtag.data.options import DatasetOptions

Adapter = Callable[[Path | None, DatasetOptions], Dataset]
ADAPTERS: dict[str, Adapter] = {
    "gtzan": gtzan.load,
    "mtat": mtat.load,
    "fma": fma.load,
    "folder": folder.load,
    "library": library.load,
}


def load_dataset(name: str, data_dir: str | os.PathLike[str] | None, options: DatasetOptions | None = None) -> Dataset:
    """The data set ``name`` read from ``data_dir``; nothing is decoded.

    A wrong name or folder is a :class:`~mtag.errors.UsageError` saying what
    was expected; files listed by a split but absent are in ``missing``.
    """
    dataset_info(name)  # an unknown name: the usage error listing the known ones
    return ADAPTERS[name](None if data_dir is None else Path(data_dir), options or DatasetOptions())
