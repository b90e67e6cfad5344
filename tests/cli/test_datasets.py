"""``mtag datasets``: the known data sets, listed without reading anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.data.layouts import SECONDS, clip, filtered_clips, gtzan_kaggle
from tests.data.test_gtzan import GTZAN_MINI
from tests.library.helpers import mtag


def test_datasets_lists_every_adapter_with_layout_and_licence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = mtag(capsys, "datasets", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert set(rows) == {"gtzan", "mtat", "fma", "folder", "library"}
    assert "genres/<genre>" in rows["gtzan"]["layout"]
    assert rows["mtat"]["labels"] == "multi-label"
    assert "CC BY-NC-SA" in rows["mtat"]["license"]


# mtag datasets check ---------------------------------------------------------------------------------------


def _folder(root: Path, labels: tuple[str, ...] = ("jazz", "rock"), albums: int = 10) -> Path:
    for label in labels:
        for album in range(albums):
            clip(root / label / f"album{album}" / "01.flac")
    return root


def test_check_reports_tracks_per_label_and_split_and_durations_as_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _folder(tmp_path / "set")
    code, out, _ = mtag(capsys, "datasets", "check", "folder", "--data-dir", root, "--seed", "2", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["dataset"] == "folder" and report["split"] == "random (seed 2)"
    assert report["tracks"]["total"] == 20 and sum(report["tracks"][s] for s in ("train", "valid", "test")) == 20
    assert set(report["per_label"]) == {"jazz", "rock"}
    assert report["duration"]["median"] == pytest.approx(SECONDS, abs=0.01)
    assert report["problems"] == [] and report["unreadable"] == [] and report["missing"]["count"] == 0


def test_check_on_a_terminal_shows_the_table_and_the_duration_spread(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = mtag(capsys, "datasets", "check", "folder", "--data-dir", _folder(tmp_path / "set"))
    assert code == 0 and err == ""
    assert "20 tracks, 2 labels" in out and "jazz" in out
    assert "duration: 0.00 h in all; per track min 0.2 s, median 0.2 s, max 0.2 s" in out


def test_unreadable_files_are_listed_and_exit_1_when_the_rest_is_usable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _folder(tmp_path / "set")
    (root / "rock" / "album0" / "02.flac").write_bytes(b"not flac")
    code, out, err = mtag(capsys, "datasets", "check", "folder", "--data-dir", root, "--json")
    assert code == 1
    (bad,) = json.loads(out)["unreadable"]
    assert bad["path"].endswith("album0/02.flac")
    code, _, err = mtag(capsys, "datasets", "check", "folder", "--data-dir", root)
    assert code == 1 and "02.flac: unreadable, skipped" in err


def test_a_data_set_that_cannot_be_trained_on_exits_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _folder(tmp_path / "set", labels=("rock",))
    code, out, err = mtag(capsys, "datasets", "check", "folder", "--data-dir", root)
    assert code == 2
    assert "rock" in out  # the report is still shown
    assert "cannot be trained on: it has one label (rock)" in err
    code, out, _ = mtag(capsys, "datasets", "check", "folder", "--data-dir", root, "--json")
    assert code == 2 and json.loads(out)["problems"][0].startswith("it has one label")


def test_a_wrong_data_dir_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = mtag(capsys, "datasets", "check", "gtzan", "--data-dir", tmp_path)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 or "expected genres/<genre>" in err.replace("\n", "")
    assert "not a gtzan folder" in err


def test_an_unknown_data_set_or_split_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = mtag(capsys, "datasets", "check", "nosuch", "--data-dir", tmp_path)
    assert code == 2 and "unknown data set 'nosuch'" in err
    code, _, err = mtag(capsys, "datasets", "check", "folder", "--data-dir", tmp_path, "--split", "shuffle")
    assert code == 2 and "unknown split 'shuffle'" in err


def test_gtzan_kaggle_copy_reports_the_skipped_clip_and_the_missing_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gtzan_kaggle(tmp_path, [key for keys in filtered_clips().values() for key in keys])
    code, out, _ = mtag(capsys, "datasets", "check", "gtzan", "--data-dir", tmp_path, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["split"] == "filtered" and report["tracks"]["total"] == 50
    assert report["missing"]["count"] == 879  # 930 listed, 50 there, jazz.00054 there but skipped
    assert report["skipped"] == {"known unreadable in the Kaggle copy of GTZAN (skipped)": 1}
    assert report["genres"]["hiphop"] == "Hip-Hop"


@pytest.mark.skipif(not GTZAN_MINI.is_dir(), reason=f"gtzan-mini not found at {GTZAN_MINI}")
def test_gtzan_mini_with_the_filtered_split_says_what_is_missing_and_why_it_cannot_train(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = mtag(capsys, "datasets", "check", "gtzan", "--data-dir", GTZAN_MINI)
    assert code == 2
    assert "missing 844 of the files the filtered split lists" in out.replace("\n", " ")
    assert "too few training tracks" in err and "--split random or --split folds" in err.replace("\n", " ")
