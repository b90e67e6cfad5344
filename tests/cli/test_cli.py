"""The command line as a user meets it: output shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mtag.cli.completion import SCRIPT_NAMES, completion_script
from tests.audio.synth import chirp, write_samples, write_tone
from tests.library.helpers import mtag

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    """Ten seconds of a stereo sweep in FLAC at 44.1 kHz: three full windows."""
    path = tmp_path_factory.mktemp("audio") / "sweep.flac"
    return write_samples(path, chirp(10.0, 44100, gains=(1.0, 0.8)), 44100)


def test_help_version_and_models_list_do_not_import_torch():
    code = (
        "import sys\n"
        "from mtag.cli.main import run\n"
        "for args in (['--help'], ['--version'], ['models'], ['models', 'show', 'vgg-mtt', '--json'], ['datasets'],\n"
        "             ['train', '--help'], ['eval', '--help']):\n"
        "    try:\n"
        "        run(args)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, (args, e.code)\n"
        "print('torch' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_the_command_line_loads_no_decoder_database_or_metrics_library_before_a_command_needs_one():
    """`mtag --help` stays instant: PyAV, sqlite-utils, scikit-learn and torch load when a command uses them."""
    code = "import sys, mtag.cli.main\nprint(sorted({'av', 'sqlite_utils', 'sklearn', 'torch'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("command", "default"),
    [("tag", "[default: 0.25]"), ("tag", "[default: $XDG_DATA_HOME/mtag/index.db]"), ("inspect", "[default: 2 on CPU")],
)
def test_help_shows_defaults_written_in_the_help_text(capsys, monkeypatch, command, default):
    """Help texts are Rich markup, where an unescaped "[default: ...]" vanishes as an unknown tag."""
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = mtag(capsys, command, "--help")
    assert code == 0 and default in out


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ([], "mtag [OPTIONS] COMMAND [ARGS]..."),
        (["tag"], "mtag tag [OPTIONS] PATHS..."),
        (["inspect"], "mtag inspect [OPTIONS] FILES..."),
        (["undo"], "mtag undo [OPTIONS] [RUN]"),
        (["runs"], "mtag runs [OPTIONS]"),
        (["models"], "mtag models [OPTIONS] COMMAND [ARGS]..."),
        (["models", "show"], "mtag models show [OPTIONS] NAME"),
    ],
)
def test_help_shows_flags_bare_and_arguments_in_capitals(capsys, monkeypatch, command, usage):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = mtag(capsys, *command, "--help")
    assert code == 0 and f"Usage: {usage}" in out
    assert "<bool>" not in out and "{" not in out
    flags = [line for line in out.splitlines() if "--help" in line]
    assert flags and "Show this message and exit." in flags[0]


def test_version(capsys):
    from mtag import __version__

    assert mtag(capsys, "--version") == (0, f"mtag {__version__}\n", "")


def test_models_json_lists_the_shipped_models(capsys):
    code, out, _ = mtag(capsys, "models", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0
    assert set(rows) >= {"musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt"}
    assert rows["musicnn-msd"]["labels"] == 50 and rows["musicnn-msd"]["license"] == "ISC"
    assert rows["vgg-mtt"]["architecture"] == "vgg" and rows["vgg-mtt"]["size_bytes"] > 1_000_000


def test_models_table_names_every_model(capsys):
    code, out, _ = mtag(capsys, "models")
    assert code == 0
    for name in ("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt"):
        assert name in out


def test_models_show(capsys):
    code, out, _ = mtag(capsys, "models", "show", "musicnn-mtt", "--json")
    meta = json.loads(out)
    assert code == 0
    assert meta["labels"][:3] == ["guitar", "classical", "slow"] and len(meta["labels"]) == 50
    assert meta["input"]["window_samples"] == 187 * 256  # 2.992 s at 16 kHz
    code, out, _ = mtag(capsys, "models", "show", "musicnn-mtt")
    assert code == 0 and "harpsichord" in out and "ISC" in out


def test_unknown_model_is_a_usage_error_in_one_line(capsys):
    code, out, err = mtag(capsys, "models", "show", "no-such-model")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "unknown model 'no-such-model'" in err and "musicnn-msd" in err


def test_inspect_json_contract(capsys, song):
    code, out, err = mtag(capsys, "inspect", str(song), "--json", "--device", "cpu")
    assert code == 0, err
    (line,) = out.splitlines()
    result = json.loads(line)
    assert set(result) >= {"file", "model", "labels", "segments", "mean"}
    assert result["file"] == str(song) and result["model"] == "musicnn-msd" and len(result["labels"]) == 50
    assert [(s["start"], s["end"]) for s in result["segments"]] == [(0.0, 2.992), (2.992, 5.984), (5.984, 8.976)]
    scores = np.array([s["scores"] for s in result["segments"]])
    assert scores.shape == (3, 50) and ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_allclose(result["mean"], scores.mean(axis=0), atol=1e-6)
    assert all(s["padding"] is None for s in result["segments"])


@pytest.mark.parametrize(("options", "threads"), [(["--threads", "3"], 3), ([], 4)])
@pytest.mark.parametrize("command", [["inspect"], ["tag", "--dry-run"]])
def test_threads_option_reaches_torch_before_the_model_runs(capsys, monkeypatch, song, command, options, threads):
    """--threads N sizes torch's pool; without it, with one file (no decode process), every core (made 4 here)."""
    import torch

    from mtag import cpu
    from mtag.nets.tagger import Tagger

    before, set_threads, predict = torch.get_num_threads(), torch.set_num_threads, Tagger.predict
    events: list[object] = []  # thread counts set, and "predict" for each forward pass, in order

    def recording_predict(self, *args, **kwargs):
        events.append("predict")
        return predict(self, *args, **kwargs)

    monkeypatch.setattr(cpu, "available_cores", lambda: 4)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (events.append(n), set_threads(n))[1])
    monkeypatch.setattr(torch, "get_num_threads", lambda: 0)  # a count that never matches: the call always happens
    monkeypatch.setattr(Tagger, "predict", recording_predict)
    try:
        code, _, err = mtag(capsys, *command, song, "--json", *options)
    finally:
        set_threads(before)
    assert code == 0, err
    assert events[0] == threads and "predict" in events and threads not in events[events.index("predict") :]


def test_inspect_short_file_gets_one_repeat_padded_segment(capsys, tmp_path):
    clip = write_tone(tmp_path / "clip.wav", 2.0, 16000)
    code, out, _ = mtag(capsys, "inspect", str(clip), "--json", "--model", "vgg-msd")
    (segment,) = json.loads(out)["segments"]
    assert code == 0 and segment["padding"] == "repeat"
    assert (segment["start"], segment["end"]) == (0.0, 2.0)
    code, out, _ = mtag(capsys, "inspect", str(clip))
    assert code == 0 and "repeat" in out


def test_inspect_table(capsys, song):
    code, out, _ = mtag(capsys, "inspect", str(song), "--top", "2")
    assert code == 0
    assert "sweep.flac" in out and "3 segments" in out and "8.98" in out and "track" in out


def test_inspect_bad_inputs_fail_one_line_each_and_the_rest_still_runs(capsys, tmp_path, song):
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio at all" * 100)
    missing = tmp_path / "missing.flac"
    code, out, err = mtag(capsys, "inspect", str(missing), str(tmp_path), str(junk), str(song), "--json")
    assert code == 1
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(song)]
    lines = err.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in err
    for path, line in zip((missing, tmp_path, junk), lines):
        assert line.startswith(f"mtag: error: {path}:")


def test_a_decoder_warning_is_shown_once_with_the_mtag_prefix(capsys, tmp_path, song):
    truncated = tmp_path / "truncated.flac"
    whole = song.read_bytes()
    truncated.write_bytes(whole[: len(whole) * 6 // 10])  # its last packet is cut short
    code, _, err = mtag(capsys, "inspect", str(truncated))  # decodes it twice: for the model and for the diagnostics
    assert code == 0
    (line,) = err.strip().splitlines()
    assert line.startswith(f"mtag: warning: {truncated}: skipped 1 undecodable packet(s), the first at ")


def test_verbose_shows_the_traceback(capsys, tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"\0" * 10)
    code, _, err = mtag(capsys, "inspect", str(junk), "-v")
    assert code == 1 and "Traceback" in err


@pytest.mark.parametrize("shell", SCRIPT_NAMES)
def test_committed_completions_are_current(shell):
    committed = (REPO / "completions" / SCRIPT_NAMES[shell]).read_text(encoding="utf-8")
    assert committed == completion_script(shell), "run: python -m mtag.cli.completion completions"


def test_completion_offers_model_names(monkeypatch, capsys):
    monkeypatch.setenv("_MTAG_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "mtag inspect --model musicnn")
    monkeypatch.setenv("COMP_CWORD", "3")
    code, out, _ = mtag(capsys)
    assert code == 0 and out.split() == ["musicnn-msd", "musicnn-mtt"]
