"""beets plugin: genres from the audio, decided by mtag's engine and stored through beets' own item API.

Enable it with ``plugins: mtag``.  ``beet mtag [QUERY]`` analyses the
matching items with the same engine, windows, batching and genre table as
``mtag tag``, then sets beets' ``genres`` field by the same keep / replace /
append rules; beets writes the file tags itself, by its ``import.write``
setting, and ``-p`` changes nothing at all.  With ``auto: yes`` an import
stage does the same for every imported item.

Incremental through flexible attributes rather than mtag's index: they
travel with the beets library (a copied ``library.db`` keeps them, ``beet
ls`` queries them) and there is no second database to disagree with it.  An
item is skipped while its file's size and mtime (``mtag_file``), the
analysis (``mtag_analysis``: model and weights' digest, precision, windows,
sampling) and the decision settings (``mtag_decision``: mode, top,
threshold, genre table) are those recorded; ``--force`` analyses it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import confuse
from beets import ui
from beets.plugins import BeetsPlugin
from beets.util import displayable_path

from mtag.catalog import DEFAULT_MODEL
from mtag.decision import DecisionOptions
from mtag.engine.results import ANALYSED, FAILED, SILENT, TOO_SHORT, TrackOutcome
from mtag.errors import MtagError
from mtag.library.policy import MODES, new_names
from mtag.tags import FileState, file_state
from mtag.taxonomy import DEFAULT_SEPARATOR, DEFAULT_THRESHOLD, join_genres

# mtag.library.session and .tagging import torch (a second or more): beets loads this plugin for every
# command, so they are imported where a model is needed, and 'beet ls' stays as fast as without mtag.
if TYPE_CHECKING:
    import optparse

    from beets.importer import ImportSession, ImportTask
    from beets.library import Item, Library

    from mtag.library.session import SessionOptions
    from mtag.library.tagging import TagSession

#: The flexible attributes the plugin sets on an analysed item.
GENRES_ATTR = "mtag_genres"  # the decided genres, "Rock; Jazz" (also when beets' genres were kept)
MODEL_ATTR = "mtag_model"  # name@weights-digest
SCORES_ATTR = "mtag_scores"  # the best labels' scores, "rock 0.81, pop 0.42, ..."
STATUS_ATTR = "mtag_status"  # tagged / kept / unchanged / no-genre / too-short / silent
ANALYSIS_ATTR = "mtag_analysis"  # mtag's analysis key: what the incremental check compares
DECISION_ATTR = "mtag_decision"  # mtag's decision key
FILE_ATTR = "mtag_file"  # "size:mtime_ns" of the file as the analysis left it
#: Labels kept in ``mtag_scores``: enough to see why, short enough to list.
SCORES_SHOWN = 10

#: The ``mtag:`` section of beets' config, with mtag tag's defaults.
DEFAULTS: dict[str, Any] = {
    "auto": False,
    "model": DEFAULT_MODEL,
    "top": 3,
    "threshold": DEFAULT_THRESHOLD,
    "mode": "keep",
    "force": False,
    "sample": None,
    "parents": False,
    "taxonomy": None,
    "device": "auto",
    "precision": "auto",
    "workers": None,
}


@dataclass(frozen=True)
class Settings:
    """One run's settings: the ``mtag:`` config section, overridden by the command line."""

    model: str
    top: int
    threshold: float
    mode: str
    force: bool
    sample: int | None
    parents: bool
    taxonomy: Path | None
    device: str
    precision: str
    workers: int | None

    def check(self) -> None:
        """Refuse, before any model loads, values ``mtag tag`` would refuse too."""
        if self.top < 1:
            raise ui.UserError(f"mtag: top must be 1 or more, not {self.top}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ui.UserError(f"mtag: threshold must be between 0 and 1, not {self.threshold}")
        if self.sample is not None and self.sample < 1:
            raise ui.UserError(f"mtag: sample must be 1 or more windows, not {self.sample}")
        if self.workers is not None and self.workers < 0:
            raise ui.UserError(f"mtag: workers must be 0 or more, not {self.workers}")

    def session_options(self, files: int, largest_file_bytes: int, pretend: bool) -> SessionOptions:
        from mtag.library.session import SessionOptions
        from mtag.library.tagging import TagOptions

        return SessionOptions(
            model=self.model,
            device=self.device,
            precision=self.precision,
            workers=self.workers,
            files=files,
            largest_file_bytes=largest_file_bytes,
            sample=self.sample,
            taxonomy_path=self.taxonomy,
            tag=TagOptions(
                mode=self.mode,
                separator=DEFAULT_SEPARATOR,  # beets joins genres with "; " in templates too
                dry_run=pretend,
                force=self.force,
                decision=DecisionOptions(top=self.top, threshold=self.threshold, parents=self.parents),
            ),
        )


class MtagPlugin(BeetsPlugin):
    """``beet mtag`` and the optional import stage."""

    def __init__(self) -> None:
        super().__init__()
        self.config.add(DEFAULTS)
        self._import_session: TagSession | None = None
        self._import_broken = False  # the import stage's model failed to load: said once, then left alone
        self._imported: set[int] = set()  # items analysed in an import stage, before beets copies and writes them
        if self.config["auto"].get(bool):
            self.import_stages = [self.imported]
            self.register_listener("import_task_files", self.import_task_files)

    # -- the command ---------------------------------------------------------------------------

    def commands(self) -> list[ui.Subcommand]:
        command = ui.Subcommand("mtag", help="tag genres from the audio with mtag's models")
        parser = command.parser
        parser.add_option("--model", dest="model", help=f"model name or folder [default: {DEFAULT_MODEL}]")
        parser.add_option("--top", dest="top", type="int", help="genres per item, best first [default: 3]")
        parser.add_option(
            "--threshold",
            dest="threshold",
            type="float",
            help=f"lowest score a genre needs [default: {DEFAULT_THRESHOLD}]",
        )
        parser.add_option(
            "--mode", dest="mode", choices=MODES, help="keep (fill empty genres only; default), replace or append"
        )
        parser.add_option("--sample", dest="sample", type="int", help="analyse only N windows per item (fast)")
        parser.add_option("-f", "--force", dest="force", action="store_true", help="analyse unchanged items again")
        parser.add_option("-p", "--pretend", dest="pretend", action="store_true", help="show changes; store nothing")
        command.func = self.command
        return [command]

    def command(self, lib: Library, opts: optparse.Values, args: list[str]) -> None:
        settings = self.settings(vars(opts))
        items = list(lib.items(args))
        if not items:
            self._log.info("no items match")
            return
        self.analyse(items, settings, write=ui.should_write(), pretend=bool(opts.pretend))

    def settings(self, overrides: dict[str, Any]) -> Settings:
        """The config section, with every command-line value that was given in its place."""
        c = self.config

        def pick(key: str, template: Any) -> Any:
            given = overrides.get(key)
            return given if given is not None else c[key].get(template)

        taxonomy = c["taxonomy"].get(confuse.Optional(confuse.Filename()))
        settings = Settings(
            model=pick("model", str),
            top=pick("top", int),
            threshold=float(pick("threshold", confuse.Number())),
            mode=overrides.get("mode") or c["mode"].as_choice(MODES),
            force=bool(overrides.get("force")) or c["force"].get(bool),
            sample=pick("sample", confuse.Optional(int)),
            parents=c["parents"].get(bool),
            taxonomy=None if taxonomy is None else Path(taxonomy),
            device=c["device"].get(str),
            precision=c["precision"].get(str),
            workers=c["workers"].get(confuse.Optional(int)),
        )
        settings.check()
        return settings

    # -- the import stage ----------------------------------------------------------------------

    def imported(self, session: ImportSession, task: ImportTask) -> None:
        """Analyse a task's items; beets writes and moves them after this stage, by its own settings."""
        if self._import_broken:
            return
        try:
            settings = self.settings({})
        except (ui.UserError, confuse.ConfigError) as error:
            self._import_broken = True
            self._log.error("{}; imported items get no genre", error)
            return
        items = list(task.imported_items())
        self._imported.update(item.id for item in items if item.id is not None)
        self.analyse(items, settings, write=False, pretend=False, importing=True)

    def import_task_files(self, session: ImportSession, task: ImportTask) -> None:
        """Record each analysed item's file as beets left it (copied, moved, written), so it stays current."""
        for item in task.imported_items():
            if item.id in self._imported and ANALYSIS_ATTR in item:
                self._imported.discard(item.id)
                self._store(item, write=False)

    # -- analysis ------------------------------------------------------------------------------

    def analyse(
        self, items: Sequence[Item], settings: Settings, *, write: bool, pretend: bool, importing: bool = False
    ) -> Counter[str]:
        """Analyse what is not current, decide, and set each item's fields; returns the count per status."""
        counts: Counter[str] = Counter()
        states: dict[int, FileState] = {}
        for position, item in enumerate(items):
            try:
                states[position] = file_state(item.filepath)
            except OSError as error:
                self._log.warning("{}: cannot read the file ({})", displayable_path(item.path), error.strerror)
                counts[FAILED] += 1
        session = self._session(settings, [state.size for state in states.values()], pretend, importing)
        if session is None:
            counts[FAILED] += len(states)
            return self._summary(counts)
        from mtag.library.tagging import SKIPPED

        todo = [i for i, state in states.items() if settings.force or not _current(items[i], state, session)]
        counts[SKIPPED] += len(states) - len(todo)
        for outcome in session.engine.run([items[i].filepath for i in todo]):
            item = items[todo[outcome.key]]
            counts[self._apply(item, outcome, session, write=write, pretend=pretend)] += 1
        return self._summary(counts)

    def _session(self, settings: Settings, sizes: list[int], pretend: bool, importing: bool) -> TagSession | None:
        """The loaded model and genre table (one for all of an import's tasks); None when there is nothing to do.

        A problem with them is the user's to fix: one clear line, which stops
        ``beet mtag`` but never an import.
        """
        if not sizes:
            return None
        if importing and self._import_session is not None:
            return self._import_session
        from mtag.library.session import build_session

        try:
            session = build_session(settings.session_options(len(sizes), max(sizes), pretend))
        except MtagError as error:
            if not importing:
                raise ui.UserError(f"mtag: {error}") from None
            self._import_broken = True
            self._log.error("mtag: {}; imported items get no genre", error)
            return None
        if importing:
            self._import_session = session
        return session

    def _apply(self, item: Item, outcome: TrackOutcome, session: TagSession, *, write: bool, pretend: bool) -> str:
        """Decide one analysed item and set its fields (unless pretending); returns its status."""
        from mtag.library.tagging import KEPT, NO_GENRE, TAGGED, UNCHANGED

        shown = displayable_path(item.path)
        if outcome.status == FAILED:  # unreadable or undecodable: reported, nothing recorded, tried again next time
            self._log.warning("{}", outcome.error or f"{shown}: could not be analysed")
            return FAILED
        if outcome.status != ANALYSED or outcome.result is None:  # too short, silent: recorded, not tried again
            why = {TOO_SHORT: f"too short to analyse ({outcome.duration:.1f} s)", SILENT: "silent"}
            self._log.warning("{}: {}, no genre", shown, why.get(outcome.status, outcome.status))
            if not pretend:
                self._record(item, session, outcome.status, [], "")
                self._store(item, write=False)
            return outcome.status
        decision = session.decider.decide(outcome.result.segments)
        names = [choice.name for choice in decision.genres]
        existing = list(item.genres)
        new = new_names(session.options.mode, existing, names, session.options.separator)
        if not names:
            status = NO_GENRE
        elif new is not None:
            status = TAGGED
            item.genres = new
        else:
            status = KEPT if session.options.mode == "keep" and any(name.strip() for name in existing) else UNCHANGED
        decided = join_genres(names, session.options.separator) if names else "no genre above the threshold"
        self._log.info("{}: {} ({})", shown, status, decided)
        ui.show_model_changes(item, fields=["genres"])
        if pretend:
            return status
        self._record(item, session, status, names, _scores_text(session.labels, decision.scores.tolist()))
        self._store(item, write=write and status == TAGGED)
        return status

    def _record(self, item: Item, session: TagSession, status: str, names: list[str], scores: str) -> None:
        """Set the flexible attributes of an analysis (``_store`` adds the file's state and stores them)."""
        item[GENRES_ATTR] = join_genres(names, session.options.separator)
        item[MODEL_ATTR] = f"{session.tagger.name}@{session.tagger.card.digest}"
        item[SCORES_ATTR] = scores
        item[STATUS_ATTR] = status
        item[ANALYSIS_ATTR] = session.key
        item[DECISION_ATTR] = session.decision_key

    def _store(self, item: Item, *, write: bool) -> None:
        """Write the file's tags (when beets' settings say so), then store the item with the file's new state."""
        if write:
            item.try_write()  # beets logs a file it cannot write
        try:  # the file as this run leaves it: what the next run compares
            item[FILE_ATTR] = _file_key(file_state(item.filepath))
        except OSError as error:
            self._log.warning("{}: cannot read the file ({})", displayable_path(item.path), error.strerror)
        item.store()

    def _summary(self, counts: Counter[str]) -> Counter[str]:
        if +counts:  # + drops the zero counts
            self._log.info("{}", ", ".join(f"{count} {status}" for status, count in (+counts).most_common()))
        return counts


def _file_key(state: FileState) -> str:
    return f"{state.size}:{state.mtime_ns}"


def _scores_text(labels: Sequence[str], scores: Sequence[float]) -> str:
    """The best labels and their scores, best first: "rock 0.81, pop 0.42, ..." (``mtag_scores``)."""
    ranked = sorted(zip(labels, scores), key=lambda pair: -pair[1])
    return ", ".join(f"{label} {score:.2f}" for label, score in ranked[:SCORES_SHOWN])


def _current(item: Item, state: FileState, session: TagSession) -> bool:
    """Analysed before with this model and these settings, and the file unchanged since."""
    return (
        item.get(FILE_ATTR) == _file_key(state)
        and item.get(ANALYSIS_ATTR) == session.key
        and item.get(DECISION_ATTR) == session.decision_key
    )
