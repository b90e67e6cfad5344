"""What ``mtag eval`` draws: a progress bar per stage while it runs, then the side-by-side tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table

from mtag.cli import console
from mtag.cli.progress import StagedProgress
from mtag.evaluate.report import figure_text

if TYPE_CHECKING:
    from mtag.evaluate.runner import Evaluation


class EvalView(StagedProgress):
    """Progress on stderr (on a terminal only), the summary on stdout."""

    def __init__(self, quiet: bool = False) -> None:
        super().__init__()
        self.quiet = quiet

    def stage(self, name: str, total: int) -> None:
        self.begin("decoding" if name == "decode" else f"scoring with {name}", total)

    def note(self, message: str) -> None:
        console.err.print(f"mtag: {message}")

    def analyses(self, evaluation: Evaluation) -> None:
        """The analysis studies' own Markdown, rendered, per model."""
        from rich.markdown import Markdown

        for result in evaluation.models:
            for name, found in result.analyses.items():
                console.out.print(f"[bold]{result.card.name}, {name}[/bold]")
                console.out.print(Markdown(found.markdown()))

    def summary(self, data: dict[str, Any], report: Path | None) -> None:
        """Per model the headline figures with their intervals and coverage, then one table per study."""
        dataset = data["dataset"]
        models = data["models"]
        names = (
            ["pr_auc_macro", "roc_auc_macro", "pr_auc_micro", "roc_auc_micro"]
            if dataset["multi_label"]
            else ["accuracy", "balanced_accuracy", "macro_f1", f"top{data['settings']['top_k']}_accuracy"]
        )
        table = Table(
            title=f"{dataset['name']}, {dataset['part']} part ({dataset['split']} split): "
            f"{dataset['tracks']} tracks, {data['decoded']} decoded",
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        table.add_column("model", no_wrap=True)
        table.add_column("tracks", justify="right")
        for name in names:
            table.add_column(name.replace("_", " "), justify="right")
        for model in models:
            figures = model["figures"]
            cells = [figure_text(figures.get(n), figures["ci95"].get(n)) for n in names]
            table.add_row(model["model"], str(figures["tracks"]), *cells)
        console.out.print(table)
        for model in models:
            coverage = model["coverage"]
            if coverage["uncovered"]:
                console.out.print(
                    f"{model['model']} cannot express {', '.join(coverage['uncovered'])}: "
                    f"{coverage['tracks_not_covered']} track(s) of those genres left out.",
                    soft_wrap=True,
                )
        for study in models[0]["studies"] if models else {}:
            headline = models[0]["headline"]
            points = models[0]["studies"][study]
            grid = Table(title=f"study {study}: {headline} [95 % CI]", title_justify="left", box=box.SIMPLE_HEAD)
            grid.add_column("condition")
            for model in models:
                grid.add_column(model["model"], justify="right")
            for row, point in enumerate(points):
                cells = [
                    figure_text(m["studies"][study][row][headline], m["studies"][study][row]["ci95"]) for m in models
                ]
                grid.add_row(point["condition"], *cells)
            console.out.print(grid)
        left = len(data["unreadable"]) + len(data["too_short"])
        if left:
            console.err.print(
                f"mtag: {len(data['unreadable'])} unreadable and {len(data['too_short'])} too-short track(s) left out"
                + (f"; listed in {report / 'report.md'}" if report else "; --report DIR lists them")
            )
        if report is not None:
            console.out.print(f"Report written to {console.shown(report / 'report.md')}", soft_wrap=True)
