"""Span, the one currency between stages, and small pure functions over lists of spans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True, order=True)
class Span:
    """A labelled stretch of one audio track, in integer milliseconds on the source's timeline."""

    start_ms: int
    end_ms: int
    label: str
    score: float | None = None
    track: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.start_ms, int) and isinstance(self.end_ms, int)):
            raise TypeError(f"span times must be integer ms, got {self.start_ms!r}, {self.end_ms!r}")
        if not 0 <= self.start_ms < self.end_ms:
            raise ValueError(f"span needs 0 <= start < end, got {self.start_ms}..{self.end_ms}")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"span score must lie in [0, 1], got {self.score}")

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def _merged_score(a: Span, b: Span) -> float | None:
    if a.score is None or b.score is None:
        return a.score if b.score is None else b.score
    total = a.duration_ms + b.duration_ms
    return (a.score * a.duration_ms + b.score * b.duration_ms) / total


def merge(spans: Iterable[Span], gap_ms: int = 0) -> list[Span]:
    """Join spans of one label on one track that overlap or lie within ``gap_ms`` of each other."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.track, s.label, s.start_ms)):
        last = out[-1] if out else None
        if last and (last.track, last.label) == (span.track, span.label) \
                and span.start_ms - last.end_ms <= gap_ms:
            out[-1] = replace(last, end_ms=max(last.end_ms, span.end_ms),
                              score=_merged_score(last, span))
        else:
            out.append(span)
    return sorted(out)


def pad(spans: Iterable[Span], before_ms: int, after_ms: int, limit_ms: int) -> list[Span]:
    """Widen each span, clamped to ``[0, limit_ms]``."""
    return [replace(s, start_ms=max(0, s.start_ms - before_ms),
                    end_ms=min(limit_ms, s.end_ms + after_ms)) for s in spans]


def drop_short(spans: Iterable[Span], min_ms: int) -> list[Span]:
    return [s for s in spans if s.duration_ms >= min_ms]


def split_long(regions: Iterable[tuple[int, int]], max_ms: int) -> list[tuple[int, int]]:
    """Cut regions longer than ``max_ms`` into equal pieces no longer than it."""
    out: list[tuple[int, int]] = []
    for start, end in regions:
        pieces = max(1, -(-(end - start) // max_ms))
        bounds = [start + (end - start) * k // pieces for k in range(pieces + 1)]
        out.extend(zip(bounds[:-1], bounds[1:]))
    return out


def join_close(regions: Iterable[tuple[int, int]], gap_ms: int) -> list[tuple[int, int]]:
    """Join regions whose gap is at most ``gap_ms``."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(regions):
        if out and start - out[-1][1] <= gap_ms:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
