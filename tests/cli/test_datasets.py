"""``mtag datasets``: the known data sets, listed without reading anything."""

from __future__ import annotations

import json

import pytest

from tests.library.helpers import mtag


def test_datasets_lists_every_adapter_with_layout_and_licence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = mtag(capsys, "datasets", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert set(rows) == {"gtzan", "mtat", "fma", "folder", "library"}
    assert "genres/<genre>" in rows["gtzan"]["layout"]
    assert rows["mtat"]["labels"] == "multi-label"
    assert "CC BY-NC-SA" in rows["mtat"]["license"]
