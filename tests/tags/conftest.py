"""Fixtures for the tag tests: a fresh copy of a file of any format per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .files import make_originals


@pytest.fixture(scope="session")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One untagged file per case, encoded once for the whole session; never written to."""
    return make_originals(tmp_path_factory.mktemp("originals"))


@pytest.fixture
def fresh(originals: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    """A function giving a writable copy, in this test's own folder, of the file of a case."""

    def copy(case: str) -> Path:
        return Path(shutil.copyfile(originals[case], tmp_path / originals[case].name))

    return copy
