"""The beets plugin, end to end: a real beets library in tmp_path, ``beet`` run through beets' own entry point.

Each ``beet`` call starts from a fresh beets state (config read from the
test's BEETSDIR, plugins loaded again), as a new ``beet`` process would.
The model is a tiny network (tests/nets/tiny.py): the plugin's logic, not
musicnn's taste, is under test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("beets", reason="the beets plugin needs beets: pip install '.[beets]'")

import beets  # noqa: E402
import beets.plugins  # noqa: E402
import beets.ui  # noqa: E402
from beets.library import Item, Library  # noqa: E402
from beets.util import cached_classproperty  # noqa: E402

from mtag.cards import MusicnnLogMelSpec  # noqa: E402
from mtag.nets import registry  # noqa: E402
from mtag.tags import read_field  # noqa: E402
from tests.audio.synth import tone, write_samples  # noqa: E402
from tests.library.helpers import digest, isolate_user_folders, write_music  # noqa: E402
from tests.nets.tiny import TINY, TINY_TARGET, make_model  # noqa: E402

GENRES = {"Rock", "Jazz"}  # what the tiny model's labels write (its card maps rockish and jazzy)


@dataclass
class Beets:
    """A beets setup in a temporary folder: its config file, library and the tiny model."""

    root: Path
    model: Path
    caplog: pytest.LogCaptureFixture
    capsys: pytest.CaptureFixture[str]

    @property
    def library_path(self) -> Path:
        return self.root / "library.db"

    def configure(self, extra: str = "") -> None:
        """beets' config.yaml: this library, ``plugins: mtag``, the tiny model, in-process decoding."""
        (self.root / "beetsdir" / "config.yaml").write_text(
            f"directory: {self.root / 'music'}\n"
            f"library: {self.library_path}\n"
            "plugins: mtag\n"
            "mtag:\n"
            f"  model: {self.model}\n"
            "  threshold: 0\n"
            "  top: 1\n"
            "  workers: 0\n" + extra,
            encoding="utf-8",
        )

    def add(self, *paths: Path, **fields: object) -> None:
        """Add files to the library as beets would (their tags read by beets)."""
        lib = Library(str(self.library_path), str(self.root / "music"))
        try:
            for path in paths:
                item = Item.from_path(str(path))
                item.update(fields)
                lib.add(item)
        finally:
            lib._close()

    def items(self) -> dict[str, Item]:
        """The library's items by file name, as stored."""
        lib = Library(str(self.library_path), str(self.root / "music"))
        try:
            return {Path(item.filepath).name: item for item in lib.items()}
        finally:
            lib._close()

    def __call__(self, *args: str) -> tuple[str, str]:
        """Run ``beet ARGS``; returns (stdout, the log's text) and fails the test on a non-zero exit."""
        self.capsys.readouterr()
        self.caplog.clear()
        _reset_beets()
        try:
            beets.ui.main(list(args))
        finally:
            logging.getLogger("beets").handlers.clear()  # beets adds one bound to this test's stderr
            _reset_beets()
        return self.capsys.readouterr().out, self.caplog.text


def _reset_beets() -> None:
    """Forget what an earlier ``beet`` loaded: config, plugins, their listeners and the cached field types."""
    beets.config.clear()
    beets.config._materialized = False  # read the files again on first use (clear() alone leaves it empty)
    beets.plugins._instances.clear()
    beets.plugins.BeetsPlugin.listeners.clear()
    beets.plugins.BeetsPlugin._raw_listeners.clear()
    cached_classproperty.cache.clear()


@pytest.fixture
def beet(tmp_path, monkeypatch, caplog, capsys) -> Iterator[Beets]:
    isolate_user_folders(tmp_path, monkeypatch)  # no user genre table
    monkeypatch.setitem(registry.ARCHITECTURES, TINY, TINY_TARGET)
    monkeypatch.setenv("BEETSDIR", str(tmp_path / "beetsdir"))
    (tmp_path / "beetsdir").mkdir()
    caplog.set_level(logging.DEBUG, logger="beets")
    model = make_model(tmp_path / "model", MusicnnLogMelSpec(16000, fmax=8000.0))
    setup = Beets(tmp_path, model.directory or tmp_path / "model", caplog, capsys)
    setup.configure()
    yield setup
    _reset_beets()


def songs(folder: Path, *names: str) -> list[Path]:
    return [write_music(folder / name, seconds=3.0, seed=i) for i, name in enumerate(names)]


def test_genres_are_set_written_and_queryable(beet):
    a, b = songs(beet.root / "in", "a.flac", "b.mp3")
    beet.add(a, b)
    out, log = beet("mtag")
    items = beet.items()
    for path in (a, b):
        item = items[path.name]
        assert len(item.genres) == 1 and set(item.genres) <= GENRES
        assert read_field(path, "genre") == item.genres  # beets wrote the file (import.write is on by default)
        assert item["mtag_genres"] == item.genres[0] and item["mtag_status"] == "tagged"
        assert item["mtag_model"].startswith("tiny@") and "rockish" in item["mtag_scores"]
    assert "genres" in out  # beets' own change display
    assert "2 tagged" in log
    for genre in GENRES:  # the one decided lists both files, the other none
        out, _ = beet("ls", "-p", f"mtag_genres:{genre}")
        expected = {str(item.filepath) for item in items.values() if item["mtag_genres"] == genre}
        assert set(out.splitlines()) == expected


def test_pretend_changes_neither_files_nor_library(beet):
    (song,) = songs(beet.root / "in", "a.flac")
    beet.add(song)
    before, stored = digest(song), beet.items()["a.flac"]
    out, log = beet("mtag", "-p")
    after = beet.items()["a.flac"]
    assert digest(song) == before
    assert after.genres == stored.genres == [] and "mtag_genres" not in after
    assert "genres" in out and "tagged" in log  # shown what would happen


def test_write_no_sets_the_library_only(beet):
    beet.configure("import:\n  write: no\n")
    (song,) = songs(beet.root / "in", "a.flac")
    beet.add(song)
    before = digest(song)
    beet("mtag")
    assert beet.items()["a.flac"].genres and digest(song) == before


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("keep", lambda g: ["Blues"]), ("replace", lambda g: [g]), ("append", lambda g: ["Blues", g])],
)
def test_modes_keep_replace_append(beet, mode, expected):
    (song,) = songs(beet.root / "in", "a.flac")
    beet.add(song, genres=["Blues"])
    beet("mtag", "--mode", mode)
    item = beet.items()["a.flac"]
    decided = item["mtag_genres"]
    assert decided in GENRES
    assert item.genres == expected(decided)
    assert item["mtag_status"] == ("kept" if mode == "keep" else "tagged")


def test_the_second_run_skips_unchanged_items_and_redoes_changed_ones(beet):
    a, b = songs(beet.root / "in", "a.flac", "b.flac")
    beet.add(a, b)
    beet("mtag")
    states = {path: (digest(path), path.stat().st_mtime_ns) for path in (a, b)}
    _, log = beet("mtag")
    assert "2 skipped" in log and "tagged" not in log
    assert {path: (digest(path), path.stat().st_mtime_ns) for path in (a, b)} == states

    write_music(b, seconds=3.0, seed=7)  # the file changed: analysed again (the library keeps its genre); a skipped
    _, log = beet("mtag")
    assert "1 skipped" in log and "1 kept" in log
    _, log = beet("mtag", "--mode", "replace")  # other decision settings: decided again
    assert "skipped" not in log
    _, log = beet("mtag", "--mode", "replace", "--force")
    assert "skipped" not in log


def test_failures_are_logged_per_item_and_the_rest_is_tagged(beet):
    good, broken = songs(beet.root / "in", "good.flac", "broken.flac")
    short = write_music(beet.root / "in" / "short.flac", seconds=0.5)
    silent = write_samples(beet.root / "in" / "silent.flac", tone(3.0, 16000, amplitude=0.0), 16000)
    gone = songs(beet.root / "in", "gone.flac")[0]
    beet.add(good, broken, short, silent, gone)
    broken.write_bytes(b"not audio at all" * 100)
    gone.unlink()
    _, log = beet("mtag")  # no SystemExit: the command goes on
    items = beet.items()
    assert items["good.flac"].genres and items["good.flac"]["mtag_status"] == "tagged"
    warnings = [r.getMessage() for r in beet.caplog.records if r.levelno == logging.WARNING]
    for name in ("broken.flac", "short.flac", "silent.flac", "gone.flac"):
        assert any(name in message for message in warnings), (name, warnings)
        assert items[name].genres == []
    assert items["short.flac"]["mtag_status"] == "too-short" and items["silent.flac"]["mtag_status"] == "silent"
    _, log = beet("mtag")  # too short and silent are recorded: not tried again; the failed ones are
    assert "3 skipped" in log and "2 failed" in log


def test_an_unknown_model_is_one_clear_error(beet):
    (song,) = songs(beet.root / "in", "a.flac")
    beet.add(song)
    with pytest.raises(SystemExit) as exit_info:
        beet("mtag", "--model", "no-such-model")
    assert exit_info.value.code == 1
    assert "no-such-model" in beet.caplog.text and "Traceback" not in beet.caplog.text


def test_the_import_stage_tags_imported_items_when_auto_is_on(beet):
    beet.configure("  auto: yes\nimport:\n  copy: yes\n  write: yes\n")
    inbox = beet.root / "inbox" / "album"
    songs(inbox, "01.flac", "02.flac")
    beet("import", "-A", "-q", str(beet.root / "inbox"))
    items = beet.items()
    assert len(items) == 2
    for item in items.values():
        assert item.genres and item["mtag_genres"] == item.genres[0]
        assert Path(item.filepath).is_relative_to(beet.root / "music")  # copied by beets after the stage
    _, log = beet("mtag")  # the copies were recorded as analysed: nothing to do
    assert "2 skipped" in log


def test_the_import_stage_is_off_by_default(beet):
    songs(beet.root / "inbox" / "album", "01.flac")
    beet("import", "-A", "-q", str(beet.root / "inbox"))
    (item,) = beet.items().values()
    assert item.genres == [] and "mtag_genres" not in item


def test_command_line_options_win_over_the_config_section(beet):
    a, b, c = songs(beet.root / "in", "a.flac", "b.flac", "c.flac")
    beet.add(a, b, c)
    beet("mtag", "--top", "2", "path:" + str(a))  # config says top: 1
    beet("mtag", "--threshold", "1", "path:" + str(b))  # no score reaches 1: nothing decided, nothing set
    beet("mtag", "--sample", "1", "path:" + str(c))
    items = beet.items()
    assert set(items["a.flac"].genres) == GENRES
    assert items["b.flac"].genres == [] and items["b.flac"]["mtag_status"] == "no-genre"
    assert items["c.flac"]["mtag_analysis"].endswith("/sample1") and items["c.flac"].genres


@pytest.mark.parametrize("option", [("--top", "0"), ("--threshold", "1.5"), ("--sample", "0")])
def test_an_impossible_option_is_refused_before_any_work(beet, option):
    (song,) = songs(beet.root / "in", "a.flac")
    beet.add(song)
    with pytest.raises(SystemExit) as exit_info:
        beet("mtag", *option)
    assert exit_info.value.code == 1 and option[0].lstrip("-") in beet.caplog.text
    assert "mtag_status" not in beet.items()["a.flac"]


def test_loading_the_plugin_does_not_import_torch() -> None:
    """beets loads every enabled plugin for every command: 'beet ls' must not pay for torch."""
    import subprocess
    import sys

    code = "import sys, beetsplug.mtag; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
