"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reference import REFERENCE


@pytest.fixture(scope="session")
def reference() -> Path:
    """The original musicnn's outputs in ../shared; tests that need them skip without."""
    if not (REFERENCE / "SPEC.md").is_file():
        pytest.skip(f"reference outputs not found at {REFERENCE} (set MTAG_SHARED to the shared/ folder)")
    return REFERENCE


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.gpu`` tests skip on a machine without CUDA (torch is imported only for them)."""
    if item.get_closest_marker("gpu") is not None:
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA GPU")
