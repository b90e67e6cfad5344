"""Every architecture of the zoo through the whole path a user takes: ``mtag train --arch`` -> model -> ``mtag tag``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtag.tags.formats import read_field
from mtag.taxonomy.tagvalues import split_genres
from tests.library.helpers import mtag
from tests.train.helpers import BANDS, tone_folder, tone_track

#: Each architecture at a size a shared 2-core CPU trains in seconds, its structure (and recipe window) kept.
TINY: dict[str, tuple[str, ...]] = {
    "fcn": ("widths=[8,8,8]", "pools=[[2,4],[2,4],[2,4]]"),
    "shortres": ("widths=[8,8,16]",),
    "crnn": ("widths=[8,8]", "pools=[[2,2],[3,3]]", "gru_units=8"),
    "samplecnn": ("stem=8", "widths=[8,8,8,8,8,8,8,8,8]", "top=8"),
    "transformer": ("dim=16", "depth=1", "heads=2"),
    "musicnn": ("timbral_filters=4", "temporal_filters=4", "midend_filters=8", "backend_units=16"),
    "vgg": ("filters=8",),
}


@pytest.mark.slow
@pytest.mark.parametrize("arch", sorted(TINY))
def test_each_architecture_trains_from_scratch_and_tags_a_file(
    arch: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    data = tone_folder(tmp_path / "genres", {"blues": "low", "metal": "high"}, count=6)
    params = [option for value in TINY[arch] for option in ("--param", value)]
    code, out, err = mtag(
        capsys,
        *("train", "--dataset", "folder", "--data-dir", data, "--arch", arch, "--epochs", "1"),
        *("--batch-size", "4", "--workers", "0", "--json", *params),
    )
    assert code == 0, err
    card = json.loads((tmp_path / "data" / "mtag" / "models" / f"folder-{arch}" / "model.json").read_text())
    assert card["architecture"]["name"] == arch and card["labels"] == ["blues", "metal"]
    assert card["profile"]["parameters"] > 0

    song = tone_track(tmp_path / "music" / "song.flac", BANDS["high"], 4.0, seed=999)
    code, out, err = mtag(capsys, "tag", song.parent, "--model", f"folder-{arch}", "--db", tmp_path / "index.db")
    assert code == 0, err
    written = read_field(song, "genre")  # an untrained model may write both: it is scored, that is what counts here
    assert written and set(split_genres(written[0])) <= {"Blues", "Metal"}
