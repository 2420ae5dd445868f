"""The window scan: per-class probability curves over a whole track, and spans from them.

SenseVoice tags whatever window it is given. Speech segments are windows already; the scan tiles the
gaps between them with coarse windows (laughter or applause the VAD dropped), then puts finer
windows around every event boundary the coarse pass shows. Each grid point of a class's curve takes
the probability of the shortest window covering it. Curves are stored quantised to 1/255, so spans
can be re-derived from the analysis alone (``mediatagger export``) with other thresholds.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from mediatagger.presets import ScanOptions, SpanOptions
from mediatagger.timeline import Span, drop_short, merge, pad

QUANT = 255


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int
    probs: dict[str, float]
    rank: int = 1  # 0: a speech segment, whose tags win over scan windows inside it; 1: a scan window


@dataclass(frozen=True)
class Curves:
    """Probability per class on a grid: point i stands for [i * grid_ms, (i + 1) * grid_ms)."""

    grid_ms: int
    values: dict[str, np.ndarray]  # label -> uint8 array, probability * 255

    def probability(self, label: str) -> np.ndarray:
        return self.values[label].astype(np.float64) / QUANT

    def to_dict(self) -> dict:
        return {"grid_ms": self.grid_ms, "encoding": "uint8-base64",
                "classes": {k: base64.b64encode(v.tobytes()).decode("ascii") for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> Curves:
        if data.get("encoding") != "uint8-base64":
            raise ValueError(f"unknown curve encoding {data.get('encoding')!r}")
        return cls(int(data["grid_ms"]), {k: np.frombuffer(base64.b64decode(v, validate=True), dtype=np.uint8).copy()
                                          for k, v in data["classes"].items()})


def gaps(duration_ms: int, covered: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The stretches of ``[0, duration_ms)`` no region covers."""
    out: list[tuple[int, int]] = []
    cursor = 0
    for start, end in sorted(covered):
        if start > cursor:
            out.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < duration_ms:
        out.append((cursor, duration_ms))
    return out


def tile(stretches: Iterable[tuple[int, int]], window_ms: int, min_ms: int = 200) -> list[tuple[int, int]]:
    """Windows of ``window_ms`` covering each stretch; a short remainder is folded into the last window."""
    out: list[tuple[int, int]] = []
    for start, end in stretches:
        if end - start < min_ms:
            continue
        bounds = list(range(start, end, window_ms)) + [end]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < window_ms // 2:
            del bounds[-2]
        out.extend(zip(bounds[:-1], bounds[1:]))
    return out


def curves(windows: Sequence[Window], duration_ms: int, grid_ms: int, labels: Iterable[str]) -> Curves:
    """Sample every class at each grid point from the window that covers it: a speech segment if one
    does (the VAD placed it), else the shortest scan window, and of those the one centred nearest."""
    points = max(1, -(-duration_ms // grid_ms))
    centres = (np.arange(points) + 0.5) * grid_ms
    best = np.full((points, 3), np.inf)  # (rank, window length, distance to its centre) per point
    source = np.full(points, -1)
    for k, w in enumerate(windows):  # each window looks only at the points it covers: linear in footage
        lo, hi = max(0, w.start_ms // grid_ms - 1), min(points, -(-w.end_ms // grid_ms) + 1)
        at, here = centres[lo:hi], best[lo:hi]
        key = np.column_stack([np.full(hi - lo, w.rank), np.full(hi - lo, w.end_ms - w.start_ms),
                               np.abs(at - (w.start_ms + w.end_ms) / 2)])
        better = (key[:, 0] < here[:, 0]) | ((key[:, 0] == here[:, 0]) & (
            (key[:, 1] < here[:, 1]) | ((key[:, 1] == here[:, 1]) & (key[:, 2] < here[:, 2]))))
        inside = (at >= w.start_ms) & (at < w.end_ms) & better
        here[inside], source[lo:hi][inside] = key[inside], k
    values = {}
    for label in labels:
        probs = np.array([w.probs.get(label, 0.0) for w in windows] + [0.0])
        values[label] = np.round(probs[source] * QUANT).astype(np.uint8)  # source -1 -> the 0.0 pad
    return Curves(grid_ms, values)


def crossings(curve: Curves, labels: Iterable[str], level: float) -> list[int]:
    """Times (ms) where a class's curve crosses ``level``: the event boundaries to refine."""
    out = set()
    for label in labels:
        above = curve.probability(label) >= level
        for i in np.flatnonzero(above[1:] != above[:-1]) + 1:
            out.add(int(i) * curve.grid_ms)
    return sorted(out)


def fine_windows(boundaries: Iterable[int], duration_ms: int, options: ScanOptions) -> list[tuple[int, int]]:
    """Windows of ``fine_window_ms`` centred every ``fine_hop_ms`` within a coarse window of each boundary."""
    half, reach = options.fine_window_ms // 2, options.window_ms // 2
    centres = sorted({b + k for b in boundaries for k in range(-reach, reach + 1, options.fine_hop_ms)})
    return [(max(0, c - half), min(duration_ms, c + half)) for c in centres if 0 <= c <= duration_ms
            and min(duration_ms, c + half) - max(0, c - half) >= half]


def within(windows: Iterable[tuple[int, int]], stretches: Sequence[tuple[int, int]],
           min_ms: int) -> list[tuple[int, int]]:
    """Windows cut to the stretch their centre lies in (speech segments already speak for themselves),
    dropping what is left shorter than ``min_ms``."""
    out = []
    for start, end in windows:
        centre = (start + end) // 2
        for a, b in stretches:
            if a <= centre < b and min(end, b) - max(start, a) >= min_ms:
                out.append((max(start, a), min(end, b)))
    return sorted(set(out))


def hysteresis(values: np.ndarray, on: float, off: float) -> list[tuple[int, int]]:
    """Runs [i, j) that reach ``on`` and extend while the value stays at or above ``off``."""
    runs, i, n = [], 0, len(values)
    while i < n:
        if values[i] < on:
            i += 1
            continue
        start = i
        while start > 0 and values[start - 1] >= off:
            start -= 1
        end = i
        while end < n and values[end] >= off:
            end += 1
        runs.append((start, end))
        i = end
    return runs


def spans(curve: Curves, labels: Iterable[str], options: SpanOptions, track: int,
          duration_ms: int) -> tuple[Span, ...]:
    """Spans per label: hysteresis, then merge across gaps, drop short ones, pad.

    A span's score is its peak probability, so a span exists exactly when its score reaches the
    label's on-level: raising the level removes the spans scored below it, and only those."""
    out = []
    for label in labels:
        if label not in curve.values:
            continue
        probs = curve.probability(label)
        on, off = options.thresholds(label)
        found = [Span(a * curve.grid_ms, min(duration_ms, b * curve.grid_ms), label, None, track)
                 for a, b in hysteresis(probs, on, off) if a * curve.grid_ms < duration_ms]
        found = drop_short(merge(found, options.merge_gap_ms), options.min_duration_ms)
        found = merge(pad(found, options.pad_ms, options.pad_ms, duration_ms), 0)  # padding never overlaps
        out += [replace(s, score=_peak(probs, s, curve.grid_ms)) for s in found]
    return tuple(sorted(out))


def _peak(probs: np.ndarray, span: Span, grid_ms: int) -> float:
    return round(float(probs[span.start_ms // grid_ms:-(-span.end_ms // grid_ms)].max()), 3)
