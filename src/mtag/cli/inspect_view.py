"""How ``mtag inspect`` prints one inspection in a terminal: header, timeline, heat strip, decision, findings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mtag.cli import console
from mtag.inspection.decision import Decision, leading_labels
from mtag.inspection.explain import Explanation
from mtag.inspection.findings import ERROR, WARNING, span
from mtag.inspection.report import Inspection

#: Heat strip cells, by score: a blank under 1/9, a full block at 1.
SHADES = " ▁▂▃▄▅▆▇█"
SEVERITY_STYLES = {ERROR: "bold red", WARNING: "yellow"}

#: What each decision status means to the user.
ACTIONS = {
    "would-tag": "mtag tag would write it",
    "tagged": "mtag tag wrote it",
    "kept": "mtag tag would keep the file's own genre (--mode keep)",
    "unchanged": "the file already holds exactly this",
    "no-genre": "no genre reaches the threshold: mtag tag writes nothing",
    "silent": "silent: mtag tag writes nothing",
    "too-short": "too short: mtag tag writes nothing",
    "failed": "mtag tag would fail on this file",
}


def print_inspection(inspection: Inspection, labels: int, plotted: Path | None = None) -> None:
    """The whole report for one file, top to bottom."""
    _header(inspection)
    if inspection.segments:
        _timeline(inspection, labels)
        _heat_strip(inspection, max(labels, 3))
    _decision(inspection.decision)
    _findings(inspection)
    if inspection.explanation is not None:
        _explanation(inspection.explanation)
    if plotted is not None:
        console.out.print(f"plot: {console.shown(plotted)}", soft_wrap=True)
    console.out.print()


def _header(i: Inspection) -> None:
    console.out.print(f"[bold]{console.shown(i.path)}[/]", soft_wrap=True)
    if i.info is not None:
        info = i.info
        rate = f"{info.sample_rate / 1000:g} kHz"
        bit_rate = f", {info.bit_rate / 1000:.0f} kbit/s" if info.bit_rate else ""
        channels = {1: "mono", 2: "stereo"}.get(info.channels, f"{info.channels} channels")
        console.out.print(
            f"{escape(info.container)} / {escape(info.codec)}, {rate}, {channels}, {i.duration:.2f} s{bit_rate}",
            soft_wrap=True,
        )
    elif i.source.get("kind") == "index":
        console.out.print("the file cannot be read now; shown from the index only", soft_wrap=True)
    if i.tags is not None:
        genre = "; ".join(i.existing_genres) or "(none)"
        mood = "; ".join(i.tags.fields.get("mood", [])) or "(none)"
        console.out.print(f"tags ({i.tags.format}): genre {escape(genre)}, mood {escape(mood)}", soft_wrap=True)
    count = len(i.segments)
    source = ""
    if i.source.get("kind") == "index":
        source = f"; stored by run {i.source['run']} at {i.source['analysed_at']}"
    console.out.print(
        f"model {escape(i.model)}, {i.window_seconds:.2f} s windows every {i.hop_seconds:.2f} s, "
        f"{count} segment{'s' if count != 1 else ''}{escape(source)}",
        soft_wrap=True,
    )


def _top(labels: list[str], scores: np.ndarray, count: int) -> str:
    return "  ".join(f"{label} {scores[labels.index(label)]:.2f}" for label in leading_labels(scores, labels, count))


def _timeline(i: Inspection, labels: int) -> None:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("start", justify="right")
    table.add_column("end", justify="right")
    table.add_column(f"top {labels} labels")
    for n, segment in enumerate(i.segments):
        note = f"  ({segment.padding} padding)" if segment.padding else ""
        table.add_row(
            str(n), f"{segment.start:.2f}", f"{segment.end:.2f}", _top(i.labels, segment.scores, labels) + note
        )
    console.out.print(table)
    mean = i.mean
    assert mean is not None
    console.out.print(f"track (mean of segments): {escape(_top(i.labels, mean, labels))}", soft_wrap=True)


def _heat_strip(i: Inspection, rows: int) -> None:
    """One row per leading label, one cell per segment (segments pooled by max to fit the terminal)."""
    mean = i.mean
    assert mean is not None
    names = leading_labels(mean, i.labels, rows)
    scores = np.stack([s.scores for s in i.segments])
    width = max(len(name) for name in names)
    cells = max(10, console.out.width - width - 3)
    groups = np.array_split(np.arange(len(i.segments)), min(cells, len(i.segments)))
    for name in names:
        column = scores[:, i.labels.index(name)]
        strip = "".join(SHADES[int(round(float(column[g].max()) * (len(SHADES) - 1)))] for g in groups)
        console.out.print(Text.assemble((name.rjust(width), "bold"), " |", (strip, "cyan"), "|"), soft_wrap=True)
    per_cell = "" if len(groups) == len(i.segments) else f", {len(i.segments) / len(groups):.1f} segments a cell"
    console.out.print(
        f"{' ' * width}  {span(i.segments[0].start, i.segments[-1].end)}{per_cell}", style="dim", soft_wrap=True
    )


def _decision(d: Decision) -> None:
    console.out.print(
        f"[bold]decision[/] ({d.aggregation}, threshold {d.threshold:g}, top {d.top}, mode {d.mode}): "
        f"{escape(ACTIONS.get(d.status, d.status))}",
        soft_wrap=True,
    )
    if d.error:
        console.out.print(f"  {escape(d.error)}", soft_wrap=True)
    for p in d.chosen:
        if p.implied_by:
            console.out.print(f"  {escape(p.name)} (parent of {escape(p.implied_by)})", soft_wrap=True)
            continue
        carried = ", ".join(f"{label} {score:.2f}" for label, score in p.labels)
        where = ", ".join(span(a, b) for a, b in p.times[:4]) + (" ..." if len(p.times) > 4 else "")
        peak = f"; strongest {span(p.peak[0], p.peak[1])} ({p.peak[2]:.2f})" if p.peak else ""
        console.out.print(
            f"  [bold]{escape(p.name)}[/] {p.score:.2f} {p.kind}: from {escape(carried)}; "
            f"at or above {d.threshold:g} in {p.segments} of {p.of_segments} segments"
            f"{(': ' + where) if where else ''}{peak}",
            soft_wrap=True,
        )
    for name, (old, new) in d.changes.items():
        before = "; ".join(old) if old else "(none)"
        console.out.print(f"  {name}: {escape(before)} -> {escape('; '.join(new))}", soft_wrap=True)


def _findings(i: Inspection) -> None:
    if not i.findings:
        console.out.print("diagnostics: nothing to report", soft_wrap=True)
    else:
        console.out.print("[bold]diagnostics[/]", soft_wrap=True)
        for finding in i.findings:
            style = SEVERITY_STYLES.get(finding.severity, "")
            console.out.print(
                Text.assemble("  ", (f"{finding.severity:<7}", style), f" {finding.name}: {finding.message}"),
                soft_wrap=True,
            )
    if i.unchecked:
        console.out.print(f"not checked (they need the audio): {', '.join(i.unchecked)}", style="dim", soft_wrap=True)


def _explanation(explanations: list[Explanation]) -> None:
    if not explanations:
        console.out.print("explanation: no genre was decided, nothing to explain", soft_wrap=True)
        return
    console.out.print("[bold]explanation[/] (occlusion): what raises (+) or lowers (-) each genre's score")
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("genre")
    table.add_column("part")
    table.add_column("where")
    table.add_column("delta", justify="right")
    for e in explanations:
        for effect in e.bands:
            where = f"{effect.start / 1000:.1f}-{effect.end / 1000:.1f} kHz"
            table.add_row(e.genre, f"{effect.name} band", where, f"{effect.delta:+.3f}")
        for effect in e.times:
            table.add_row(e.genre, "time", effect.name, f"{effect.delta:+.3f}")
    console.out.print(table)
    console.out.print(
        "band: the track score falls by delta without it; time: that segment's score falls by delta when "
        "its second is flattened to the segment's average sound",
        style="dim",
        soft_wrap=True,
    )
