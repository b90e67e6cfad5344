"""Fixtures for the genre table tests."""

from __future__ import annotations

import pytest

from mtag.taxonomy import Taxonomy, load_taxonomy


@pytest.fixture
def no_user_table(tmp_path, monkeypatch):
    """Point XDG_CONFIG_HOME at an empty folder, so a developer's own genres.toml cannot leak in."""
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@pytest.fixture
def shipped(no_user_table) -> Taxonomy:
    """The genre table that ships with mtag."""
    return load_taxonomy()
