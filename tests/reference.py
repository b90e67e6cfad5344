"""Where the original musicnn's reference outputs are, and what they contain."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MTAG_SHARED", REPO.parent / "shared"))
REFERENCE = SHARED / "reference" / "musicnn"

#: Reference stems (see the reference README) and the models' names there and here.
SYNTHETIC_STEMS = ("synth_10s", "silence_5s")
REAL_STEMS = ("rock.00000", "techno")
MODELS = {"musicnn-msd": "MSD_musicnn", "musicnn-mtt": "MTT_musicnn", "vgg-msd": "MSD_vgg", "vgg-mtt": "MTT_vgg"}


def reference_audio(reference: Path, stem: str) -> Path:
    """The audio file a reference stem was computed from."""
    (path,) = (reference / "audio").glob(f"{stem}.*")
    return path
