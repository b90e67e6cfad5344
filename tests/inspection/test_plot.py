"""``mtag inspect --plot``: the PNG is written whole, sized sensibly, for any track, or a clear error is raised."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mtag.errors import EXIT_USAGE, UsageError
from mtag.inspection.findings import ERROR, INFO, WARNING, Finding
from mtag.inspection.plot import require_matplotlib, save_plot

SRC = Path(__file__).resolve().parents[2] / "src"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk: a PNG cut short lacks it
LABELS = ["rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "jazz", "beautiful"]
FINDINGS = [
    Finding("clipping", WARNING, "2.1 % of samples at full scale", times=((12.0, 20.0), (95.0, 95.0))),
    Finding("silence", INFO, "31 s of silence", times=((200.0, 231.0),)),
    Finding("narrow-band", ERROR, "nothing above 4 kHz: probably transcoded from a low bitrate"),
]

needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed (pip install 'mtag[plot]')"
)


def segments(count: int, hop: float = 3.0, window: float = 3.0) -> list[tuple[float, float]]:
    return [(i * hop, i * hop + window) for i in range(count)]


def plot(path: Path, *, duration: float = 240.0, seg: list[tuple[float, float]] | None = None, **overrides) -> bytes:
    """Draw a figure from random data like a ``duration``-second track's and return the file's bytes."""
    rng = np.random.default_rng(0)
    seg = segments(int(duration // 3)) if seg is None else seg
    arguments = {
        "title": "song.mp3 -- MTT_musicnn",
        "logmel": (4 * rng.random((2000, 96))).astype(np.float32),
        "logmel_end": duration,
        "mel_edges_hz": np.linspace(0.0, 8000.0, 98),
        "labels": LABELS,
        "taggram": rng.random((len(LABELS), len(seg))),
        "segment_times": seg,
        "findings": FINDINGS,
        "duration": duration,
    }
    save_plot(path, **{**arguments, **overrides})
    return path.read_bytes()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a complete PNG, read from its IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    assert data.endswith(PNG_END)
    return struct.unpack(">II", data[16:24])


@needs_matplotlib
def test_a_four_minute_track_gives_a_png_about_1200_by_700_and_under_1_mb(tmp_path: Path) -> None:
    data = plot(tmp_path / "song.png")
    width, height = png_size(data)
    assert 800 <= width <= 2000
    assert 400 <= height <= 1400
    assert 10_000 < len(data) < 1_000_000
    assert os.listdir(tmp_path) == ["song.png"]  # no temporary file left beside it


@needs_matplotlib
@pytest.mark.parametrize(
    "seg",
    [[], segments(1), segments(159, hop=1.5, window=3.0)],
    ids=["no segments (too short a file)", "one segment", "overlapping segments"],
)
def test_any_number_of_segments_is_drawn(tmp_path: Path, seg: list[tuple[float, float]]) -> None:
    png_size(plot(tmp_path / "song.png", seg=seg))


@needs_matplotlib
@pytest.mark.parametrize("columns", [1, 0], ids=["one column", "no column"])
def test_the_spectrogram_of_a_tiny_file_is_drawn(tmp_path: Path, columns: int) -> None:
    logmel = np.ones((columns, 96), dtype=np.float32)
    png_size(plot(tmp_path / "tiny.png", duration=0.01, seg=[], logmel=logmel, logmel_end=0.01, findings=[]))


@needs_matplotlib
@pytest.mark.parametrize("findings", [[], FINDINGS[:2], FINDINGS[2:]], ids=["none", "with times", "without times"])
def test_findings_with_and_without_times_are_drawn(tmp_path: Path, findings: list[Finding]) -> None:
    png_size(plot(tmp_path / "song.png", findings=findings))


@needs_matplotlib
def test_a_three_hour_track_stays_small(tmp_path: Path) -> None:
    data = plot(tmp_path / "mix.png", duration=3 * 3600.0, seg=segments(7199, hop=1.5, window=3.0))
    width, _ = png_size(data)
    assert 800 <= width <= 2000
    assert len(data) < 1_000_000


@needs_matplotlib
def test_an_existing_plot_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "song.png").write_bytes(b"old")
    png_size(plot(tmp_path / "song.png"))


@needs_matplotlib
def test_a_missing_folder_is_a_usage_error_naming_the_path(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "song.png"
    with pytest.raises(UsageError) as caught:
        plot(target)
    assert caught.value.exit_code == EXIT_USAGE
    assert str(target) in str(caught.value)
    assert caught.value.hint
    assert os.listdir(tmp_path) == []


@needs_matplotlib
def test_a_path_that_cannot_be_written_is_a_usage_error_leaving_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "plots").mkdir()  # a folder where the file should go: the final rename fails
    with pytest.raises(UsageError) as caught:
        plot(tmp_path / "plots")
    assert str(tmp_path / "plots") in str(caught.value)
    assert os.listdir(tmp_path) == ["plots"]
    assert os.listdir(tmp_path / "plots") == []


@needs_matplotlib
def test_a_failed_write_keeps_the_previous_plot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        raise OSError(28, "No space left on device")

    (tmp_path / "song.png").write_bytes(b"old")
    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(UsageError, match="no space left"):
        plot(tmp_path / "song.png")
    assert (tmp_path / "song.png").read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["song.png"]


@needs_matplotlib
def test_a_taggram_that_does_not_match_its_labels_and_segments_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="taggram shape"):
        plot(tmp_path / "song.png", taggram=np.zeros((3, 80)))


def test_without_matplotlib_plotting_is_a_usage_error_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` sees when it is not installed
    with pytest.raises(UsageError) as caught:
        require_matplotlib()
    assert caught.value.exit_code == EXIT_USAGE
    assert "matplotlib" in caught.value.message
    assert caught.value.hint == "pip install 'mtag[plot]'"
    with pytest.raises(UsageError, match="needs matplotlib"):
        plot(tmp_path / "song.png")
    assert os.listdir(tmp_path) == []


def test_importing_the_module_does_not_import_matplotlib() -> None:
    code = "import sys, mtag.inspection.plot; print(sorted({'matplotlib', 'PIL'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
