"""One event curve per label from the detectors' stored curves: SenseVoice's, AudioSet's, or both fused.

AudioSet's curves (a point every 0.24 s) are first calibrated -- each label's ``audioset_levels`` value,
the probability that meant "as likely as not" on the tuning half of the real-recordings set, is moved to
0.5, linearly on either side -- and each label's dips shorter than its ``audioset_fill_ms`` filled,
never across the silence the detector marked (``tags.QUIET``) -- then resampled onto the span grid by
linear interpolation between point centres. ``fused`` is then, per label,
``a + (1 - w) * max(0, s - a)`` for AudioSet's ``a`` and SenseVoice's ``s``: AudioSet decides whether
an event is there; SenseVoice can lift a borderline
AudioSet detection toward its own confidence (by a quarter of the difference at the default w = 0.75),
never lower one, and alone reaches at most 1 - w = 0.25, under any sensible on level. On the tuning
half of the real set the plain weighted mean (``w * a + (1 - w) * s``) lost 0.09 F1 on applause to the
bundled model's confident misses; this rule's curve is never below AudioSet's. README "Detectors" has the
figures.
A track lacking a detector's curves (an analysis from before AudioSet, or one made with it alone) uses
the curves it has, so every document derives spans whatever the preset asks.
"""

from __future__ import annotations

import numpy as np

from mediatagger import tags
from mediatagger.presets import EventOptions
from mediatagger.scan import QUANT, Curves


def calibrated(values: np.ndarray, level: float) -> np.ndarray:
    """Probabilities with ``level`` moved to 0.5 (0 and 1 stay put)."""
    if level == 0.5:
        return values
    return np.where(values <= level, values * (0.5 / level), 0.5 + (values - level) * (0.5 / (1.0 - level)))


def resampled(values: np.ndarray, grid_ms: int, to_ms: int, points: int) -> np.ndarray:
    """A curve on ``grid_ms`` read at the centres of ``points`` points of ``to_ms``."""
    if grid_ms == to_ms and len(values) == points:
        return values
    centres = (np.arange(len(values)) + 0.5) * grid_ms
    return np.interp((np.arange(points) + 0.5) * to_ms, centres, values)


def filled(values: np.ndarray, points: int, breaks: np.ndarray | None = None) -> np.ndarray:
    """Dips narrower than ``points`` filled: each point rises to the lower of the highest values within
    ``points // 2`` before and after it. Edges stay (nothing lies beyond the track's ends), and so do
    ``breaks`` (silence): a fill never crosses them, so two music cues a pause apart stay two."""
    if points // 2 < 1:
        return values
    if breaks is None or not breaks.any():
        return _filled(values, points // 2)
    out = np.where(breaks, 0.0, values)
    heard = np.flatnonzero(~breaks)
    for run in np.split(heard, np.flatnonzero(np.diff(heard) > 1) + 1):
        if len(run):
            out[run] = _filled(values[run], points // 2)
    return out


def _filled(values: np.ndarray, half: int) -> np.ndarray:
    low = np.full(half, -np.inf)
    before = np.lib.stride_tricks.sliding_window_view(np.concatenate([low, values]), half + 1).max(axis=1)
    after = np.lib.stride_tricks.sliding_window_view(np.concatenate([values, low]), half + 1).max(axis=1)
    return np.maximum(values, np.minimum(before, after))


def audioset_values(curves: Curves, events: EventOptions) -> dict[str, np.ndarray]:
    """AudioSet's curves on their own grid as spans read them: calibrated, each label's short dips filled
    (never across silence)."""
    breaks = curves.values[tags.QUIET] > 0 if tags.QUIET in curves.values else None
    return {label: filled(calibrated(curves.probability(label), events.audioset_levels.get(label, 0.5)),
                          events.audioset_fill_ms.get(label, 0) // curves.grid_ms, breaks)
            for label in curves.values if label != tags.QUIET}


def audioset_curves(curves: Curves, events: EventOptions, grid_ms: int, duration_ms: int) -> dict[str, np.ndarray]:
    """``audioset_values`` on ``grid_ms``."""
    points = max(1, -(-duration_ms // grid_ms))
    return {label: resampled(values, curves.grid_ms, grid_ms, points)
            for label, values in audioset_values(curves, events).items()}


def event_curves(sensevoice: Curves | None, audioset: Curves | None, events: EventOptions,
                 grid_ms: int, duration_ms: int) -> Curves | None:
    """The curves event spans come from, by ``events.detector`` and what the track has."""
    if audioset is None or (events.detector == "sensevoice" and sensevoice is not None):
        return sensevoice
    grid = sensevoice.grid_ms if sensevoice else grid_ms
    heard = audioset_curves(audioset, events, grid, duration_ms)
    if sensevoice is not None and events.detector == "fused":
        weight = events.audioset_weight
        for label, values in heard.items():
            if label in sensevoice.values:
                theirs = sensevoice.probability(label)[:len(values)]
                ours = values[:len(theirs)]
                heard[label] = ours + (1 - weight) * np.maximum(0.0, theirs - ours)
    return Curves(grid, {label: np.round(np.clip(v, 0, 1) * QUANT).astype(np.uint8) for label, v in heard.items()})


def event_labels(curves: Curves | None) -> tuple[str, ...]:
    """Our event labels, then any AudioSet classes the curves hold, in their stored order."""
    extra = tuple(label for label in (curves.values if curves else ()) if label not in tags.LABELS
                  and label not in (tags.SPEECH, tags.QUIET))
    return tags.EVENTS + extra
