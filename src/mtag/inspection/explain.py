"""Occlusion saliency: silence a part of the input and see how a genre's score moves.

For each decided genre, inspect asks two questions of the model:

- *when*: each window is cut into stretches of about :data:`TIME_STEP`
  seconds; one stretch at a time is replaced by the window's average
  spectrum (every frame of it set to the window's mean log-mel), which keeps
  the sound's overall colour but removes what happens in that second.  The
  change of the genre's score in that window is the stretch's effect.
  Silence would be the simpler replacement, but the models hear a gap of
  digital silence as an event of its own (musicnn-msd scores "electronic"
  up to 0.35 higher for it), so it measured the gap, not the music.
- *where in frequency*: the mel bands are cut into :data:`BANDS`; one band
  at a time is silenced in every window, and the change of the genre's
  track score (aggregated as the decision aggregates) is the band's effect.

A positive effect means the part raises the genre's score (taking it away
lowers the score).  The cost is ``parts + bands`` extra forward passes per
window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mtag.audio.windows import Window, WindowPlan
from mtag.cards import MelSpec
from mtag.decision import Decider
from mtag.inspection.findings import span
from mtag.inspection.genres import GenreView
from mtag.nets.melspec import mel_edges
from mtag.nets.tagger import Tagger
from mtag.taxonomy import Choice

#: Length of the time stretches occluded in turn (seconds): three per 3 s musicnn window, fine
#: enough to find a drum break, coarse enough to keep the cost at a few passes per window.
TIME_STEP = 1.0
#: The mel bands, cut into equal thirds of the mel scale: for the musicnn models (96 bands up to
#: 8 kHz) low is under ~1 kHz (bass, kick, fundamentals), mid 1-2.9 kHz (voice, guitars), high above.
BANDS = ("low", "mid", "high")
#: Stretches listed per genre, strongest first: the ones that raise its score and the ones that lower it.
SHOWN_STRETCHES = 3
#: Effects smaller than this are float noise and batch-order jitter, not a finding.
MIN_EFFECT = 0.005


@dataclass(frozen=True)
class Effect:
    """How much silencing one part of the input lowers a genre's score (negative: raises it)."""

    what: str  # "time" or "band"
    name: str  # "1:02.0-1:03.0" style span, or the band's name
    start: float  # seconds, or Hz for a band
    end: float
    delta: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "name": self.name,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "delta": round(self.delta, 4),
        }


@dataclass(frozen=True)
class Explanation:
    """What raises and lowers one decided genre's score."""

    genre: str
    score: float
    times: list[Effect]  # per time stretch: the change of its window's score, strongest first
    bands: list[Effect]  # per band: the change of the track score

    def to_dict(self) -> dict[str, Any]:
        return {
            "genre": self.genre,
            "score": round(self.score, 4),
            "times": [effect.to_dict() for effect in self.times],
            "bands": [effect.to_dict() for effect in self.bands],
        }


class Occlusion:
    """Accumulates occlusion scores batch by batch, then explains the chosen genres."""

    def __init__(self, tagger: Tagger, genres: GenreView, plan: WindowPlan, decider: Decider) -> None:
        frontend = tagger.card.frontend
        if not isinstance(frontend, MelSpec) or frontend.mel_bands is None:  # the Inspector refuses it first
            raise ValueError(f"occlusion silences mel bands; {tagger.name} hears {frontend.kind}")
        self.tagger = tagger
        self.genres = genres
        self.decider = decider
        self.frame_seconds = plan.seconds(1)
        window_frames = plan.window_frames
        parts = max(1, round(plan.seconds(window_frames) / TIME_STEP))
        self.part_edges = np.linspace(0, window_frames, parts + 1).round().astype(int)
        self.band_edges = np.linspace(0, frontend.mel_bands, len(BANDS) + 1).round().astype(int)
        # What the front end gives for digital silence, band by band (0 for musicnn's log10(1 + 10000 x)).
        self.silence = tagger.features(np.zeros((1, plan.chunk_samples), np.float32)).mean(dim=(0, 1))
        hz = mel_edges(frontend)
        # Bands meet at the centre of the first filter of the upper one; the outer ends are the mel axis's.
        cuts = [float(hz[0]), *(float(hz[a + 1]) for a in self.band_edges[1:-1]), float(hz[-1])]
        self.band_hz = list(zip(cuts, cuts[1:]))
        self.base: list[np.ndarray] = []  # (labels,) per window
        self.by_part: list[np.ndarray] = []  # (parts, labels) per window
        self.by_band: list[np.ndarray] = []  # (bands, labels) per window
        self.windows: list[Window] = []

    @property
    def variants(self) -> int:
        return len(self.part_edges) - 1 + len(BANDS)

    def add(self, windows: Sequence[Window], logmel: torch.Tensor, batch_size: int) -> None:
        """Score ``windows`` (their network input ``logmel``, ``(B, frames, mels)``) with each part occluded."""
        occluded = []
        average = logmel.mean(dim=1, keepdim=True)  # (B, 1, mels): each window's mean spectrum
        for a, b in zip(self.part_edges, self.part_edges[1:]):
            copy = logmel.clone()
            copy[:, a:b, :] = average
            occluded.append(copy)
        for a, b in zip(self.band_edges, self.band_edges[1:]):
            copy = logmel.clone()
            copy[:, :, a:b] = self.silence[a:b]
            occluded.append(copy)
        stacked = torch.stack([logmel, *occluded], dim=1).flatten(0, 1)  # window-major: base, parts..., bands...
        scores = np.concatenate(
            [
                self.tagger.predict_features(stacked[i : i + batch_size]).cpu().numpy()
                for i in range(0, stacked.shape[0], batch_size)
            ]
        ).reshape(len(windows), 1 + self.variants, -1)
        parts = len(self.part_edges) - 1
        for window, rows in zip(windows, scores):
            self.windows.append(window)
            self.base.append(rows[0])
            self.by_part.append(rows[1 : 1 + parts])
            self.by_band.append(rows[1 + parts :])

    def explain(self, chosen: Iterable[Choice]) -> list[Explanation]:
        """One :class:`Explanation` per decided genre (implied parents are explained by their child)."""
        if not self.windows:
            return []
        base = np.stack(self.base)
        track = self.genres.scores(self.decider.track_scores(base))
        banded = np.stack(self.by_band)  # (windows, bands, labels)
        band_tracks = [self.genres.scores(self.decider.track_scores(banded[:, i])) for i in range(len(BANDS))]
        window_genres = self.genres.scores(base)  # (windows, genres)
        part_genres = self.genres.scores(np.stack(self.by_part))  # (windows, parts, genres)
        explanations = []
        for choice in chosen:
            if choice.implied or choice.name not in self.genres.names:
                continue
            g = self.genres.names.index(choice.name)
            bands = [
                Effect("band", name, low, high, float(track[g] - band_tracks[i][g]))
                for i, (name, (low, high)) in enumerate(zip(BANDS, self.band_hz))
            ]
            explanations.append(
                Explanation(
                    choice.name, float(track[g]), self._stretches(window_genres[:, g], part_genres[:, :, g]), bands
                )
            )
        return explanations

    def _stretches(self, base: np.ndarray, parts: np.ndarray) -> list[Effect]:
        """The stretches that move the genre most, each way; repeat-padded windows have no real time axis."""
        seconds = self.frame_seconds
        effects = []
        for w, window in enumerate(self.windows):
            if window.padding:
                continue
            for p, (a, b) in enumerate(zip(self.part_edges, self.part_edges[1:])):
                start, end = window.start + a * seconds, window.start + b * seconds
                effects.append(Effect("time", span(start, end), start, end, float(base[w] - parts[w, p])))
        raising = sorted((e for e in effects if e.delta >= MIN_EFFECT), key=lambda e: -e.delta)[:SHOWN_STRETCHES]
        lowering = sorted((e for e in effects if e.delta <= -MIN_EFFECT), key=lambda e: e.delta)[:SHOWN_STRETCHES]
        return raising + lowering
