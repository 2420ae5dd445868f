"""Choosing highlight clips from scored spans: the plan a reel is cut from (no ffmpeg here).

From the chosen labels' spans (at or above ``min_score``): pad each (pre-roll before a laugh, a
little after), join clips that overlap or lie within ``merge_gap_ms``, hold each between
``min_clip_ms`` and ``max_clip_ms``, rank by score x duration, keep the best up to ``target_ms``
of footage (0: all), and order them by time or by rank. In and out points sit on frame starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from mediatagger.analysis import Analysis
from mediatagger.presets import ClipOptions
from mediatagger.timecode import frame_to_ms, ms_to_frame
from mediatagger.timeline import Span, join_close


@dataclass(frozen=True)
class Clip:
    start_ms: int                 # in point on the source timeline (a frame start when there is video)
    end_ms: int                   # out point
    spans: tuple[Span, ...]       # the spans it was cut for
    first_frame: int | None = None
    frames: int | None = None     # exact video frames (None without video)
    seek: Fraction = Fraction(0)  # exact in point in seconds
    length: Fraction = Fraction(0)

    @property
    def rank(self) -> float:
        """Score x duration of what it holds (seconds): a long sure laugh beats a short doubtful one."""
        return sum((s.score if s.score is not None else 0.5) * s.duration_ms / 1000 for s in self.spans)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def chosen_spans(analysis: Analysis, opts: ClipOptions) -> list[Span]:
    return [s for s in analysis.spans("events", opts.labels) if s.score is None or s.score >= opts.min_score]


def windows(spans: list[Span], opts: ClipOptions, duration_ms: int) -> list[Clip]:
    """Padded, joined windows, each with the spans it covers, held within min/max length."""
    padded = [(max(0, s.start_ms - opts.pad_before_ms), min(duration_ms, s.end_ms + opts.pad_after_ms))
              for s in spans]
    out = []
    for start, end in join_close(padded, opts.merge_gap_ms):
        inside = tuple(s for s in spans if s.start_ms < end and s.end_ms > start)
        out.append(fit(Clip(start, end, inside), opts, duration_ms))
    return out


def fit(clip: Clip, opts: ClipOptions, duration_ms: int) -> Clip:
    """Stretch a short clip evenly to ``min_clip_ms``; cut a long one to ``max_clip_ms`` from the
    pre-roll of its best span."""
    start, end = clip.start_ms, clip.end_ms
    if opts.max_clip_ms and end - start > opts.max_clip_ms:
        best = max(clip.spans, key=lambda s: (s.score or 0, s.duration_ms))
        start = max(start, min(best.start_ms - opts.pad_before_ms, end - opts.max_clip_ms))
        end = start + opts.max_clip_ms
    if end - start < opts.min_clip_ms:
        grow = opts.min_clip_ms - (end - start)
        start = max(0, start - grow // 2)
        end = min(duration_ms, start + opts.min_clip_ms)
        start = max(0, end - opts.min_clip_ms)
    spans = tuple(s for s in clip.spans if s.start_ms < end and s.end_ms > start)
    return Clip(start, end, spans)


def select(clips: list[Clip], opts: ClipOptions) -> list[Clip]:
    """The best clips up to ``target_ms`` (at least one), in time or rank order."""
    ranked = sorted(clips, key=lambda c: (-c.rank, c.start_ms))
    if opts.target_ms:
        kept: list[Clip] = []
        total = 0
        for clip in ranked:
            if not kept or total + clip.duration_ms <= opts.target_ms:
                kept.append(clip)
                total += clip.duration_ms
        ranked = kept
    return ranked if opts.order == "score" else sorted(ranked, key=lambda c: c.start_ms)


def framed(clip: Clip, first: int, last: int, fps: Fraction) -> Clip:
    """The clip from frame ``first`` up to (not including) frame ``last``, every form of its in and out set."""
    return replace(clip, start_ms=frame_to_ms(first, fps), end_ms=frame_to_ms(last, fps), first_frame=first,
                   frames=last - first, seek=first / fps, length=(last - first) / fps)


def on_frames(clip: Clip, fps: Fraction | None) -> Clip:
    """In and out moved to frame starts (the out point to the frame its time lies in), exact seconds kept."""
    if not fps:
        return replace(clip, seek=Fraction(clip.start_ms, 1000), length=Fraction(clip.duration_ms, 1000))
    first = ms_to_frame(clip.start_ms, fps)
    return framed(clip, first, max(ms_to_frame(clip.end_ms, fps), first + 1), fps)


def plan(analysis: Analysis, opts: ClipOptions) -> list[Clip]:
    """The clips to cut, in reel order."""
    duration = analysis.source.duration_ms
    clips = select(windows(chosen_spans(analysis, opts), opts, duration), opts)
    return [on_frames(c, analysis.source.fps) for c in clips]
