"""A tiny registered architecture on the raw waveform, with a recipe: what front-end options must refuse."""

from __future__ import annotations

import pytest

from mtag.nets import registry
from mtag.nets.recipes import Recipe
from tests.nets.tiny import TinyNet

WAVE, WAVE_TARGET = "tinywave", "tests.train.scratch_nets:TinyWave"


class TinyWave(TinyNet):
    """:class:`TinyNet` on the samples themselves (one feature per sample)."""

    RECIPE = Recipe(frontend={"kind": "waveform", "sample_rate": 16000}, window_seconds=1.0, params={"n_features": 1})


def register_tinywave(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.ARCHITECTURES, WAVE, WAVE_TARGET)
