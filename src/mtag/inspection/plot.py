"""The figure behind ``mtag inspect --plot``: what the model heard, what it said, and where the rules fired.

Two panels share the time axis: the log-mel spectrogram the model was fed (top) and the taggram, the
score of each leading label in each segment (bottom).  Findings are shaded across both, so a dip in a
label's score can be read against the clipping or silence that explains it.

matplotlib is an optional extra (``mtag[plot]``) and slow to import, so it is imported only inside
the functions: ``mtag`` starts at once and works without it.  The figure is drawn with the Agg
canvas directly, never through pyplot, so no display is needed and no global state is touched.
"""

from __future__ import annotations

import io
import os
import secrets
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mtag.errors import UsageError
from mtag.inspection.findings import ERROR, INFO, WARNING, Finding

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: About 1200 x 700 pixels: wide enough to resolve a few seconds in a 4-minute track, small on disk.
FIGURE_INCHES = (12.0, 7.0)
DPI = 100

#: Shade of a finding's stretches, by severity: the colour says at a glance how much it matters.
SEVERITY_COLOURS = {INFO: "tab:blue", WARNING: "tab:orange", ERROR: "tab:red"}
SPAN_ALPHA = 0.25

#: A finding's stretch is drawn at least this fraction of the time axis wide, so a stretch of a
#: few milliseconds (a single clipped burst) still shows as a visible line.
MIN_SPAN_FRACTION = 0.002

#: Time-axis tick spacings (seconds) to choose from; a track of any length gets about a dozen ticks.
TICK_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)
MAX_TICKS = 12

#: Hz values worth a tick on the mel axis, besides its two edges.
MEL_TICKS_HZ = (100, 250, 500, 1000, 2000, 4000, 8000, 16000)

#: Time resolution of the drawn taggram, in columns: finer than the ~1000 pixels of the time axis.
TAGGRAM_COLUMNS = 2000

#: Footer lines are cut to this many characters so that a long message cannot run off the figure.
FOOTER_CHARS = 150


def require_matplotlib() -> None:
    """Fail with a usage error when matplotlib is missing.

    The CLI calls this before any analysis, so that a user who asks for ``--plot`` without the extra
    learns it at once rather than after minutes of decoding.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib, which is not installed", hint="pip install 'mtag[plot]'") from None


def save_plot(
    path: Path,
    *,
    title: str,
    logmel: np.ndarray,
    logmel_end: float,
    mel_edges_hz: np.ndarray,
    labels: list[str],
    taggram: np.ndarray,
    segment_times: list[tuple[float, float]],
    findings: list[Finding],
    duration: float,
) -> None:
    """Draw the inspection figure and write it to ``path`` as a PNG.

    ``logmel`` is ``(columns, n_mels)``, its columns spanning ``[0, logmel_end]`` seconds evenly (the
    caller pools long tracks to a couple of thousand columns, so the cost of drawing does not grow
    with the track).  ``taggram`` is ``(len(labels), len(segment_times))``, labels best first and
    segments in time order; segments may overlap.  The file is replaced in one rename: a failed
    write leaves the previous file, if any, as it was and no partial PNG.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if taggram.shape != (len(labels), len(segment_times)):
        raise ValueError(f"taggram shape {taggram.shape} != ({len(labels)} labels, {len(segment_times)} segments)")
    if not path.parent.is_dir():
        raise UsageError(
            "cannot write the plot: the folder does not exist",
            path=path,
            hint="create the folder or choose another path",
        )

    end = _time_axis_end(duration, logmel_end, segment_times)
    timeless = [finding for finding in findings if not finding.times]
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title)
    rows = [3, 2] + ([0.35 + 0.25 * len(timeless)] if timeless else [])
    grid = figure.add_gridspec(len(rows), 1, height_ratios=rows)
    spectrogram = figure.add_subplot(grid[0])
    tags = figure.add_subplot(grid[1], sharex=spectrogram)

    _draw_spectrogram(figure, spectrogram, logmel, logmel_end, mel_edges_hz)
    _draw_taggram(figure, tags, labels, taggram, segment_times)
    _mark_findings(spectrogram, tags, findings, end)
    _format_time_axis(spectrogram, tags, end)
    if timeless:
        _draw_footer(figure.add_subplot(grid[2]), timeless)
    _write_atomically(_render_png(figure), path)


def _time_axis_end(duration: float, logmel_end: float, segment_times: Sequence[tuple[float, float]]) -> float:
    """The right end of the shared time axis: everything drawn fits, and a zero-length file still gets an axis."""
    end = max([duration, logmel_end, *(stop for _, stop in segment_times)])
    return end if end > 0 else 1.0


def _draw_spectrogram(
    figure: Figure, ax: Axes, logmel: np.ndarray, logmel_end: float, mel_edges_hz: np.ndarray
) -> None:
    """The log-mel spectrogram, low frequencies at the bottom, the mel axis labelled in Hz."""
    ax.set_ylabel("frequency")
    if logmel.size == 0:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no audio", transform=ax.transAxes, ha="center", va="center")
        return
    n_mels = logmel.shape[1]
    image = ax.imshow(
        logmel.T,
        origin="lower",
        aspect="auto",
        interpolation="antialiased",
        cmap="magma",
        vmin=0.0,
        extent=(0.0, max(logmel_end, 1e-3), 0.0, n_mels),
    )
    figure.colorbar(image, ax=ax, label="log-mel", pad=0.01)
    ticks, names = _mel_ticks(mel_edges_hz, n_mels)
    ax.set_yticks(ticks, names)
    ax.set_ylim(0, n_mels)


def _mel_ticks(mel_edges_hz: np.ndarray, n_mels: int) -> tuple[list[float], list[str]]:
    """Tick positions (in mel bins) and Hz labels: both edges of the axis and the round values between.

    ``mel_edges_hz`` are the filters' edge frequencies (:func:`mtag.nets.melspec.mel_edges`, ``n_mels + 2``
    of them): a round frequency is placed by interpolating between the filters' centres, so it sits
    where the model's mel scale puts it, not at a linear fraction of the axis.
    """
    low, high = float(mel_edges_hz[0]), float(mel_edges_hz[-1])
    positions = np.arange(-1, n_mels + 1) + 0.5  # bin i's centre (edge i + 1) is drawn at height i + 0.5
    hz_values = [low, *(hz for hz in MEL_TICKS_HZ if low < hz < high), high]
    ticks = [float(np.interp(hz, mel_edges_hz, positions)) for hz in hz_values]
    ticks[0], ticks[-1] = 0.0, float(n_mels)
    # An inner tick crowding an edge's label (closer than 4 % of the axis) is dropped; the edges stay.
    keep = [
        0,
        *(i for i in range(1, len(ticks) - 1) if min(ticks[i], n_mels - ticks[i]) > 0.04 * n_mels),
        len(ticks) - 1,
    ]
    return [ticks[i] for i in keep], [_hz_label(hz_values[i]) for i in keep]


def _hz_label(hz: float) -> str:
    """``"500 Hz"``, ``"8 kHz"``, ``"11.025 kHz"``: the unit a reader expects at that height."""
    return f"{hz:g} Hz" if hz < 1000 else f"{hz / 1000:g} kHz"


def _draw_taggram(
    figure: Figure, ax: Axes, labels: list[str], taggram: np.ndarray, segment_times: Sequence[tuple[float, float]]
) -> None:
    """The score of each label in each segment, best label at the top, on a fixed 0..1 colour scale.

    Overlapping segments are drawn as cells that meet halfway between their centres, so each stretch
    of time shows the segment centred nearest to it; without overlap the cells are the segments.  The
    cells are sampled on a fixed grid of :data:`TAGGRAM_COLUMNS`, finer than the figure's pixels, so
    that a 3-hour track with thousands of segments costs no more to draw than a song.
    """
    if taggram.size == 0:
        ax.set_yticks([])
        message = "no segments" if not segment_times else "no labels"
        ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center")
        return
    centres = np.array([(start + stop) / 2 for start, stop in segment_times])
    edges = np.concatenate([[segment_times[0][0]], (centres[:-1] + centres[1:]) / 2, [segment_times[-1][1]]])
    grid = np.linspace(edges[0], edges[-1], TAGGRAM_COLUMNS, endpoint=False) + (edges[-1] - edges[0]) / (
        2 * TAGGRAM_COLUMNS
    )
    cells = np.clip(np.searchsorted(edges, grid, side="right") - 1, 0, len(segment_times) - 1)
    image = ax.imshow(
        taggram[:, cells],
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        extent=(edges[0], max(edges[-1], edges[0] + 1e-3), len(labels), 0),
    )
    figure.colorbar(image, ax=ax, label="score", pad=0.01)
    ax.set_yticks(np.arange(len(labels)) + 0.5, labels)


def _mark_findings(spectrogram: Axes, tags: Axes, findings: Sequence[Finding], end: float) -> None:
    """Shade each finding's stretches across both panels in its severity's colour, named once above the plot."""
    min_width = MIN_SPAN_FRACTION * end
    for finding in findings:
        colour = SEVERITY_COLOURS.get(finding.severity, "tab:gray")
        for start, stop in finding.times:
            stop = max(stop, start + min_width)
            for ax in (spectrogram, tags):
                ax.axvspan(start, stop, color=colour, alpha=SPAN_ALPHA, linewidth=0)
        if finding.times:
            spectrogram.annotate(
                finding.name,
                xy=(finding.times[0][0], 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2),
                textcoords="offset points",
                fontsize=8,
                color=colour,
                rotation=20,
                ha="left",
                va="bottom",
                annotation_clip=False,
            )


def _format_time_axis(spectrogram: Axes, tags: Axes, end: float) -> None:
    """Ticks at round intervals, shown as seconds for short files and m:ss or h:mm:ss for longer ones."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    step = next((step for step in TICK_STEPS if end / step <= MAX_TICKS), TICK_STEPS[-1])
    tags.set_xlim(0, end)
    tags.xaxis.set_major_locator(MultipleLocator(step))
    tags.xaxis.set_major_formatter(FuncFormatter(lambda seconds, _: _clock(seconds, end)))
    spectrogram.tick_params(labelbottom=False)
    unit = "s" if end < 60 else "m:ss" if end < 3600 else "h:mm:ss"
    tags.set_xlabel(f"time ({unit})")


def _clock(seconds: float, end: float) -> str:
    """One time-axis label, in the unit :func:`_format_time_axis` names for a track ending at ``end``."""
    if end < 60:
        return f"{seconds:g}"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{minutes}:{secs:02d}" if end < 3600 else f"{hours}:{minutes:02d}:{secs:02d}"


def _draw_footer(ax: Axes, timeless: Sequence[Finding]) -> None:
    """The findings that concern the whole file rather than a stretch of it, one line each."""
    ax.set_axis_off()
    lines = [
        textwrap.shorten(f"{finding.severity}: {finding.name} -- {finding.message}", FOOTER_CHARS, placeholder="...")
        for finding in timeless
    ]
    ax.text(0.0, 1.0, "\n".join(lines), transform=ax.transAxes, ha="left", va="top", fontsize=9)


def _render_png(figure: Figure) -> bytes:
    """The figure as PNG bytes, drawn in memory so that a drawing failure never touches the disk.

    Full colour, so that a score reads the same as its colour bar, but without matplotlib's alpha
    channel (the figure is opaque): a real 4-minute track gives about 300 kB, and spectrogram-sized
    white noise, the incompressible worst case, stays well under 1 MB.  Pillow is a dependency of
    matplotlib, so this needs nothing beyond the ``plot`` extra.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)  # save_plot attaches one
    canvas.draw()
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB").save(buffer, format="png")
    return buffer.getvalue()


def _write_atomically(png: bytes, path: Path) -> None:
    """Write ``png`` beside ``path`` under a private name, then rename it over ``path``.

    The rename is atomic, so a reader (or a crash) sees the old file or the whole new one; on any
    failure the temporary file is removed.  It is created with mode 0o666 less the umask, as
    ``open()`` would create ``path`` itself.
    """
    temp = path.with_name(f".{path.name[:50]}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(png)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(
            f"cannot write the plot: {reason.lower()}", path=path, hint="choose a path you can write to"
        ) from None
