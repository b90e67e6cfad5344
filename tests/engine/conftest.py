"""Fixtures for the engine tests."""

from __future__ import annotations

import pytest

from mtag.nets.tagger import Tagger, load_tagger


@pytest.fixture(scope="session")
def msd() -> Tagger:
    """musicnn-msd on the CPU, loaded once (shared: wrap it, never patch it)."""
    return load_tagger("musicnn-msd", "cpu")
