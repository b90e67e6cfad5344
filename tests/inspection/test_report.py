"""An inspection end to end: the existing tag, the explanation, the spectrogram, the JSON shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mtag.inspection.explain import BANDS
from mtag.inspection.report import Inspection
from mtag.tags import write_tags
from tests.inspection.schema import validate

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "inspect.schema.json").read_text())


def tagged_copy(source: Path, folder: Path, genre: str) -> Path:
    target = folder / f"{genre}-{source.name}"
    shutil.copy(source, target)
    write_tags(target, {"genre": [genre]})
    return target


@pytest.mark.parametrize(("genre", "fires"), [("Classical", True), ("Electronic", False), ("electro", False)])
def test_disagreement_with_the_files_genre_tag(inspector, recordings, tmp_path, genre, fires):
    """Classical contradicts what the model hears; Electronic agrees, and so does its child Electro."""
    (found,) = inspector.run([tagged_copy(recordings["clean.flac"], tmp_path, genre)])
    assert isinstance(found, Inspection) and found.existing_genres == [genre]
    disagreement = [f for f in found.findings if f.name == "tag-disagreement"]
    assert bool(disagreement) == fires
    if fires:
        assert "Classical" in disagreement[0].message and "Electronic" in disagreement[0].message
    assert found.decision.status == "kept"  # keep mode: the file's own genre stays


def test_a_genre_the_table_does_not_know_is_not_called_a_disagreement(inspector, recordings, tmp_path):
    (found,) = inspector.run([tagged_copy(recordings["clean.flac"], tmp_path, "Shoegaze")])
    assert "tag-disagreement" not in {f.name for f in found.findings}


@pytest.mark.slow
def test_explanation_names_bands_and_times_inside_the_track(explained):
    inspection = explained("clean.flac")
    explained = inspection.explanation
    assert [e.genre for e in explained] == inspection.decision.genres
    first = explained[0]
    assert [band.name for band in first.bands] == list(BANDS)
    edges = [(band.start, band.end) for band in first.bands]
    assert edges[0][0] == 0.0 and edges[-1][1] == pytest.approx(8000.0) and edges[0][1] == edges[1][0]
    assert first.times and all(0 <= t.start < t.end <= inspection.duration for t in first.times)


@pytest.mark.slow
def test_explanation_never_credits_silence(explained):
    """Flattening a stretch of a silent segment changes nothing, so no stretch of the gap is listed."""
    inspection = explained("gap.flac")
    assert inspection.explanation
    for genre in inspection.explanation:
        assert genre.times
        assert not [t for t in genre.times if t.start >= 12.5 and t.end <= 20.5], genre.times


@pytest.mark.slow
def test_replay_scores_the_same_windows_as_the_decision_pass(inspector, recordings):
    """The explanation's second decode must see exactly the windows the decision was taken on."""
    from mtag.inspection.explain import Occlusion

    (found,) = inspector.run([recordings["clean.mp3"]])
    session = inspector.session
    occlusion = Occlusion(session.tagger, inspector.genres, session.engine.plan, session.decider)
    for windows, features in session.engine.feature_batches(found.path):
        occlusion.add(windows, features, 2)
    assert [w.start for w in occlusion.windows] == [s.start for s in found.segments]
    np.testing.assert_allclose(np.stack(occlusion.base), np.stack([s.scores for s in found.segments]), atol=2e-5)


def test_spectrogram_covers_the_track_in_bounded_columns(inspected):
    image, covered = inspected("medley.flac").spectrogram
    assert image.shape[1] == 96 and 0 < image.shape[0] <= 2000
    assert covered == pytest.approx(inspected("medley.flac").segments[-1].end, abs=0.02)


@pytest.mark.parametrize("name", ["clean.flac", "medley.flac", "clip-2s.flac", "clip-half-second.flac", "silence.flac"])
def test_json_validates_against_the_documented_schema(inspected, name):
    document = json.loads(json.dumps(inspected(name).to_dict()))
    assert document["explanation"] is None
    assert validate(document, SCHEMA) == []


def test_json_with_the_explanation_validates_against_the_documented_schema(explained):
    document = json.loads(json.dumps(explained("clean.flac").to_dict()))
    assert document["explanation"]
    assert validate(document, SCHEMA) == []


def test_the_schema_check_can_fail(inspected):
    document = json.loads(json.dumps(inspected("clean.flac").to_dict()))
    document["diagnostics"] = [{"name": "made-up", "severity": "fatal", "message": "x", "times": []}]
    del document["decision"]["genres"]
    problems = validate(document, SCHEMA)
    assert len(problems) == 3, problems
