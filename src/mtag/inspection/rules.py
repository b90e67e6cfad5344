"""Diagnostic rules: each names one way a decision can go wrong, and fires only where it applies.

Every rule is a function of the :class:`Evidence` gathered about one file
(the engine's outcome, the decision, the signal measurements, the existing
tag) that returns a :class:`~mtag.inspection.findings.Finding` or None.  The
thresholds are named constants with the reason for their value; measured
figures quoted come from the synthetic signals of ``tests/inspection`` and the
reference tracks of ``shared/reference/musicnn`` (musicnn-msd).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mtag.engine.decoding import MIN_SECONDS, SILENCE_DBFS
from mtag.engine.results import SILENT, TOO_SHORT, Segment
from mtag.inspection.findings import ERROR, INFO, WARNING, Finding, merge_times, span
from mtag.inspection.genres import GenreView
from mtag.inspection.signal import CLIP_LEVEL, SignalStats
from mtag.taxonomy import Choice

#: A segment this quiet (RMS, dBFS) is "near silence": a fade, a hidden-track gap, a very quiet intro.
#: 15 dB above the silence line, still 10-20 dB under the quietest passages of real recordings.
NEAR_SILENCE_DBFS = -45.0

#: Share of samples at full scale from which a file counts as clipped: 0.1 % is 44 samples a second
#: per channel at 44.1 kHz.  A mastered track touches full scale in a handful of isolated samples;
#: the test's signal driven 4x into the rails has 7 %.
CLIP_SHARE = 0.001

#: The model hears 16 kHz audio, so up to 8 kHz; a file sampled below 16 kHz holds less than that.
MODEL_RATE = 16000

#: Sound that stops below this frequency is narrow-band: telephone lines stop at 3.4 kHz, AM radio at
#: about 4.5 kHz, while a 128 kbit/s MP3 keeps 16 kHz and a solo piano's overtones pass 5 kHz.
NARROW_BAND_HZ = 5000.0

#: Mono mix this much quieter than the channels (dB) means they cancel.  For two channels of equal
#: power with correlation r the mix keeps (1 + r) / 2 of it: unrelated channels lose 3 dB, and -6 dB
#: is r = -0.5, more anti-phase than any normal stereo mix (an inverted channel gives -40 dB).
MONO_LOSS_DB = -6.0

#: Spectral flatness from which a file is noise: white noise gives e^-0.577 = 0.56 per frame (the
#: geometric/arithmetic mean ratio of a periodogram); the synthetic band and the reference tracks
#: give 0.001-0.03.  Pink or brown noise is flatter in octaves than in hertz and is not caught.
NOISE_FLATNESS = 0.3

#: Speech pauses between words and phrases; music rarely stops.  The synthetic speech pauses 45 %
#: of the time, the reference tracks and synthetic band 0 %.
SPEECH_PAUSE_SHARE = 0.25
#: ...and its loudness opens and closes at syllable rate (a beat does too, so this alone says
#: little: the techno reference gives 0.92 -- hence both conditions).
SPEECH_SYLLABLE_MODULATION = 0.5

#: Two genres whose track scores differ by less than this are a toss-up for the lead.  Shifting the
#: window grid by half a window moves a 30 s track's genre scores by up to 0.028 (the reference rock
#: track; 0.011-0.019 on the others): about half of this margin, so an order within it says nothing.
AMBIGUITY_MARGIN = 0.05

#: Judging stability needs a few segments: with 2 or 3, one odd window is already "a change".
MIN_SEGMENTS_FOR_STABILITY = 4
#: Segments disagree when the leading genre changes between this share of neighbouring segments or
#: more.  A steady track changes at most at a bridge or two (the synthetic band: 0 of 9 neighbours);
#: a track with two parts changes once.
UNSTABLE_CHANGE_SHARE = 0.4

#: A part of a track is at least this long: shorter stretches are a bridge or a break, not a
#: different piece (a medley's or DJ mix's parts last minutes).
PART_MIN_SECONDS = 12.0
#: ...and two neighbouring parts differ when some genre's mean score differs by this much between
#: them and their leading genres differ.  Segment-to-segment noise of one steady texture moves a
#: genre's mean over 4+ segments by well under 0.1.
PART_SCORE_GAP = 0.15
#: Parts found at most (a DJ mix of an hour has more tracks, but a longer list helps no one).
MAX_PARTS = 12


@dataclass(frozen=True)
class Evidence:
    """Everything the rules may look at for one file.  Missing pieces are None (e.g. from the index)."""

    status: str  # the engine's: analysed, silent, too-short
    duration: float
    window_seconds: float
    threshold: float
    genres: GenreView
    segments: Sequence[Segment] = ()
    track_scores: np.ndarray | None = None  # aggregated label scores
    chosen: Sequence[Choice] = ()  # the decided genres
    signal: SignalStats | None = None
    existing_genres: Sequence[str] | None = None  # the file's genre tag, as a player names them


Rule = Callable[[Evidence], "Finding | None"]


def _spans(times: Sequence[tuple[float, float]], limit: int = 4) -> str:
    shown = ", ".join(span(*t) for t in times[:limit])
    return shown + (f" and {len(times) - limit} more" if len(times) > limit else "")


# -- length --------------------------------------------------------------------------------------


def too_short(e: Evidence) -> Finding | None:
    if e.status != TOO_SHORT:
        return None
    return Finding(
        "too-short",
        ERROR,
        f"{e.duration:.2f} s of audio is under the {MIN_SECONDS:g} s mtag needs: no decision, mtag tag leaves it as is",
    )


def padded(e: Evidence) -> Finding | None:
    short = [s for s in e.segments if s.padding]
    if not short:
        return None
    return Finding(
        "padded",
        INFO,
        f"{e.duration:.2f} s is shorter than one {e.window_seconds:.2f} s window: its frames were repeated "
        "to fill it, so the decision rests on one short excerpt",
        ((0.0, e.duration),),
    )


# -- signal --------------------------------------------------------------------------------------


def silence(e: Evidence) -> Finding | None:
    if e.status == SILENT:
        level = e.signal.level_dbfs if e.signal else -math.inf
        said = "digital silence" if level == -math.inf else f"{level:.0f} dBFS"
        return Finding(
            "silence",
            ERROR,
            f"the whole track is silent ({said}, under {SILENCE_DBFS:.0f} dBFS): no genre is decided",
            ((0.0, e.duration),),
        )
    if e.signal is None or not e.segments:
        return None
    levels = [e.signal.level_between(s.start, min(s.end, e.duration)) for s in e.segments]
    silent = [(s.start, s.end) for s, level in zip(e.segments, levels) if level < SILENCE_DBFS]
    quiet = [(s.start, s.end) for s, level in zip(e.segments, levels) if level < NEAR_SILENCE_DBFS]
    if not quiet:
        return None
    times = merge_times(quiet)
    count = len(e.segments)
    if silent:
        text = f"{len(silent)} of {count} segments are silent (under {SILENCE_DBFS:.0f} dBFS)"
        if len(quiet) > len(silent):
            text += f", {len(quiet) - len(silent)} more near-silent"
        text += f": {_spans(times)}; their scores are noise and pull the track's towards it"
        return Finding("silence", WARNING, text, times)
    return Finding(
        "silence",
        INFO,
        f"{len(quiet)} of {count} segments are near-silent (under {NEAR_SILENCE_DBFS:.0f} dBFS): {_spans(times)}",
        times,
    )


def clipping(e: Evidence) -> Finding | None:
    if e.signal is None or e.signal.clipped_share < CLIP_SHARE:
        return None
    return Finding(
        "clipping",
        WARNING,
        f"{100 * e.signal.clipped_share:.1f} % of samples are at full scale (|x| >= {CLIP_LEVEL}): hard clipping adds "
        "distortion the model may hear as a rougher genre",
    )


def narrow_band(e: Evidence) -> Finding | None:
    signal = e.signal
    if signal is None or signal.bandwidth_hz is None:
        return None
    if signal.sample_rate < MODEL_RATE:
        said = f"sampled at {signal.sample_rate / 1000:g} kHz, it holds nothing above {signal.sample_rate / 2000:g} kHz"
    elif signal.bandwidth_hz < NARROW_BAND_HZ:
        said = f"its sound stops at {signal.bandwidth_hz / 1000:.1f} kHz (telephone or AM-radio band)"
    else:
        return None
    return Finding(
        "narrow-band", WARNING, f"{said}; the model learnt genres from full-band music up to {MODEL_RATE // 2000} kHz"
    )


def stereo_cancellation(e: Evidence) -> Finding | None:
    loss = None if e.signal is None else e.signal.mono_loss_db
    if loss is None or loss > MONO_LOSS_DB:
        return None
    said = "cancels completely" if loss == -math.inf else f"is {-loss:.0f} dB quieter than the channels"
    return Finding(
        "stereo-cancellation",
        WARNING,
        f"the channels are out of phase: the mono mix the model hears {said}, so it judges what is left over",
    )


def not_music(e: Evidence) -> Finding | None:
    signal = e.signal
    if signal is None or e.status == SILENT:
        return None
    if signal.flatness is not None and signal.flatness >= NOISE_FLATNESS:
        said = f"noise: its spectrum is flat (flatness {signal.flatness:.2f}; music stays under {NOISE_FLATNESS})"
    elif signal.pause_share >= SPEECH_PAUSE_SHARE and signal.syllable_modulation >= SPEECH_SYLLABLE_MODULATION:
        said = (
            f"speech: it pauses {100 * signal.pause_share:.0f} % of the time and its loudness changes at syllable rate"
        )
    else:
        return None
    return Finding("not-music", WARNING, f"probably not music but {said}; any genre for it is a guess")


# -- decision ------------------------------------------------------------------------------------


def low_confidence(e: Evidence) -> Finding | None:
    if e.track_scores is None or e.status != "analysed" or e.chosen:
        return None
    ranked = e.genres.ranked(e.track_scores)
    if not ranked:
        return Finding("low-confidence", WARNING, "the genre table gives this model no genre labels at all")
    name, score = ranked[0]
    return Finding(
        "low-confidence",
        WARNING,
        f"the best genre, {name}, scores {score:.2f}, under the threshold {e.threshold:g}: mtag tag writes no genre",
    )


def ambiguity(e: Evidence) -> Finding | None:
    if e.track_scores is None or e.status != "analysed":
        return None
    ranked = e.genres.ranked(e.track_scores)
    if len(ranked) < 2 or ranked[0][1] < e.threshold or ranked[0][1] - ranked[1][1] >= AMBIGUITY_MARGIN:
        return None
    (first, a), (second, b) = ranked[:2]
    return Finding(
        "ambiguous",
        INFO,
        f"{first} {a:.2f} and {second} {b:.2f} are within {AMBIGUITY_MARGIN}: which leads is a toss-up",
    )


def instability(e: Evidence) -> Finding | None:
    if len(e.segments) < MIN_SEGMENTS_FOR_STABILITY:
        return None
    winners = e.genres.winners(np.stack([s.scores for s in e.segments]))
    if not winners:
        return None
    changes = [i for i in range(1, len(winners)) if winners[i] != winners[i - 1]]
    if len(changes) < UNSTABLE_CHANGE_SHARE * (len(winners) - 1):
        return None
    counts = Counter(winners)
    shares = np.array(list(counts.values())) / len(winners)
    entropy = float(-(shares * np.log2(shares)).sum())
    leaders = ", ".join(f"{name} {count}" for name, count in counts.most_common(3))
    return Finding(
        "unstable",
        WARNING,
        f"the segments disagree: the leading genre changes {len(changes)} times in {len(winners)} segments "
        f"({leaders}; entropy {entropy:.1f} bits)",
        tuple((e.segments[i].start, e.segments[i].end) for i in changes),
    )


def parts(e: Evidence) -> Finding | None:
    found = find_parts(e.segments, e.genres)
    if len(found) < 2:
        return None
    listed = ", ".join(f"{span(start, end)} {name}" for start, end, name in found)
    return Finding(
        "parts",
        WARNING,
        f"{len(found)} parts that sound like different genres (a medley or mix?): {listed}; "
        "one set of genres for the file mixes them",
        tuple((start, end) for start, end, _ in found),
    )


def find_parts(segments: Sequence[Segment], genres: GenreView) -> list[tuple[float, float, str]]:
    """Stretches of the track with clearly different leading genres: (start, end, genre) in order.

    Binary segmentation: a stretch is split where the mean genre scores of
    the two sides differ most, if both sides last PART_MIN_SECONDS, some genre
    differs by PART_SCORE_GAP and the sides' leading genres differ.
    """
    if not segments or not genres.names:
        return []
    matrix = genres.scores(np.stack([s.scores for s in segments]))
    starts = [s.start for s in segments]
    ends = [s.end for s in segments]
    bounds = [0, *part_cuts(matrix, starts, ends), len(segments)]
    found = []
    for first, last in zip(bounds, bounds[1:]):
        name = genres.names[int(matrix[first:last].mean(axis=0).argmax())]
        found.append((starts[first], ends[last - 1], name))
    return found if len(found) <= MAX_PARTS else []


def part_cuts(matrix: np.ndarray, starts: Sequence[float], ends: Sequence[float]) -> list[int]:
    """Indices of the rows (segments) where a new part begins, by :func:`find_parts`' rule.

    ``matrix`` is one row of scores per segment (genres, or any labels whose
    leading one names what the segment sounds like); ``starts``/``ends`` the
    segments' times in seconds.  ``mtag eval`` counts parts from window scores with it.
    """
    return _split(matrix, list(starts), list(ends), 0, len(matrix))


def _split(matrix: np.ndarray, starts: list[float], ends: list[float], first: int, last: int) -> list[int]:
    """Cuts of ``matrix[first:last]``: the best by the CUSUM statistic (which does not favour small sides), recursed."""
    best: tuple[float, int] | None = None
    for cut in range(first + 1, last):
        if starts[cut] - starts[first] < PART_MIN_SECONDS or ends[last - 1] - starts[cut] < PART_MIN_SECONDS:
            continue
        left, right = matrix[first:cut].mean(axis=0), matrix[cut:last].mean(axis=0)
        if np.abs(left - right).max() < PART_SCORE_GAP or left.argmax() == right.argmax():
            continue
        weight = (cut - first) * (last - cut) / (last - first)
        strength = float(np.linalg.norm(left - right)) * weight**0.5
        if best is None or strength > best[0]:
            best = (strength, cut)
    if best is None:
        return []
    cut = best[1]
    return [*_split(matrix, starts, ends, first, cut), cut, *_split(matrix, starts, ends, cut, last)]


def tag_disagreement(e: Evidence) -> Finding | None:
    if not e.existing_genres or e.track_scores is None or e.status != "analysed":
        return None
    known = [name for name in (e.genres.recognise(text) for text in e.existing_genres) if name]
    if not known:  # a genre the table does not know ("Shoegaze"): nothing to compare
        return None
    decided = [choice.name for choice in e.chosen]
    if any(e.genres.related(old, new) for old in known for new in decided):
        return None
    scores = dict(e.genres.ranked(e.track_scores))
    theirs = ", ".join(f"{name} {scores[name]:.2f}" if name in scores else name for name in known)
    hears = ", ".join(f"{c.name} {c.score:.2f}" for c in e.chosen) or "no genre above the threshold"
    return Finding(
        "tag-disagreement",
        WARNING,
        f"the file's genre tag says {'; '.join(e.existing_genres)} ({theirs}), the model hears {hears}",
    )


#: Every rule, in the order findings are listed.
RULES: tuple[Rule, ...] = (
    too_short,
    padded,
    silence,
    clipping,
    narrow_band,
    stereo_cancellation,
    not_music,
    low_confidence,
    ambiguity,
    instability,
    parts,
    tag_disagreement,
)

#: Rules that need the audio itself (not evaluated on a stored analysis).
SIGNAL_RULES: tuple[Rule, ...] = (clipping, narrow_band, stereo_cancellation, not_music)


def diagnose(evidence: Evidence, rules: Sequence[Rule] = RULES) -> list[Finding]:
    """The findings of ``rules`` that fire on ``evidence``, in rule order."""
    return [finding for rule in rules if (finding := rule(evidence)) is not None]
