"""Where an analysis's spans land on Blender's sequencer timeline: pure functions, no bpy.

A strip shows its source from record frame ``frame_start`` on, at ``rate`` strip frames per
second of source, after ``skip`` frames of its content (at that rate) that it never shows; its
handles (trims) leave ``[final_start, final_end)`` visible. A span's marker goes on the record
frame that is on screen when the span starts (``timecode.ms_to_frame`` on the strip's own grid),
and only where the source is seen and heard:

- a span that starts inside the visible range gets a marker on its frame;
- a span that started before the range but is still under way at its first frame (a laugh the
  cut comes into) gets a marker on that first frame, when ``running`` (the default): the event is
  on screen there, and an editor looking for laughs wants to know;
- anything else (cut away, before or after the source's content) gets none.

Movie strips in Blender 5.0 are timed one of two ways, told apart by their length (verified with
bpy 5.0.1 on samples/talk.mp4, 599 frames at 30000/1001):

- one movie frame per scene frame (``strips.new_movie`` from Python, or Add > Movie with
  "Adjust Playback Rate" off): 599 frames whatever the scene's rate, so in a 24 fps scene the
  picture runs slow (24.96 s) and drifts from its sound; markers then follow the picture;
- at the movie's own speed (Add > Movie's default "Adjust Playback Rate"): 479 frames at 24 fps,
  499 at 25, and 598 (float rounding) at 30/1.001; frames then count scene time.

Sound strips always play in real time: frames count the scene's rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction

from .shared import Span, UsageError, label_name, ms_to_frame, parse_rate


def timing_error(strip: str, problem: str, hint: str | None = None) -> UsageError:
    """A strip whose timing the add-on cannot map back to its source's times."""
    return UsageError(f"strip {strip!r}: {problem}", hint)


@dataclass(frozen=True)
class StripTiming:
    """A strip's numbers as Blender gives them (all in scene frames, except ``anim_*``: see ``movie``)."""

    name: str
    frame_start: int     # record frame of the strip's content start (``frame_start``)
    final_start: int     # first visible frame (``frame_final_start``)
    final_end: int       # first frame after the visible range (``frame_final_end``)
    duration: int        # content length in scene frames (``frame_duration``)
    anim_start: int = 0  # content hidden at the source's start (``animation_offset_start``)
    anim_end: int = 0    # and at its end (``animation_offset_end``)


@dataclass(frozen=True)
class Placement:
    """How a strip shows its source: record frame = frame_start - skip + source frame at ``rate``."""

    frame_start: int
    final_start: int
    final_end: int
    rate: Fraction                  # strip frames per second of source
    skip: Fraction = Fraction(0)    # content frames (at ``rate``) before the first one shown; < 0: a delay
    content_end: int | None = None  # first record frame after the content, when the handles reach past it

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"a strip's rate must be positive, got {self.rate}")

    @property
    def first(self) -> int:
        """First record frame where the source is seen: handles may reach before the content."""
        return max(self.final_start, self.frame_start)

    @property
    def end(self) -> int:
        """First record frame after the visible source."""
        return self.final_end if self.content_end is None else min(self.final_end, self.content_end)


@dataclass(frozen=True)
class Cue:
    """A marker to add: its record frame and name, the span it stands for."""

    frame: int
    name: str
    span: Span
    running: bool = False   # the span started before the strip's first visible frame


def scene_rate(fps: int, fps_base: float) -> Fraction:
    """A scene's frame rate, exact: ``30, 1.001`` (stored as float32) -> 30000/1001; ``3, 0.1001`` too."""
    if fps <= 0 or fps_base <= 0:
        raise ValueError(f"not a scene frame rate: {fps}/{fps_base}")
    return parse_rate(Fraction(fps) / Fraction(fps_base).limit_denominator(10_000))


def fps_settings(rate: Fraction) -> tuple[int, float]:
    """``(render.fps, render.fps_base)`` for a rate: 30000/1001 -> (30, 1.001), 25 -> (25, 1.0)."""
    if rate.denominator == 1001 and rate.numerator % 1000 == 0:
        return rate.numerator // 1000, 1.001
    return rate.numerator, float(rate.denominator)


def movie(strip: StripTiming, scene: Fraction, source: Fraction, source_frames: int) -> Placement:
    """The placement of a movie strip of a source with ``source_frames`` frames at ``source`` fps in a
    scene at ``scene`` fps: its length says which of the two timings it has (see the module doc).
    ``anim_start``/``anim_end`` count source frames."""
    shown = source_frames - strip.anim_start - strip.anim_end
    own_speed = shown * scene / source
    frame_per_frame, at_own_speed = abs(strip.duration - shown), abs(strip.duration - own_speed)
    rate = source if frame_per_frame <= at_own_speed else scene   # equal rates: the same mapping either way
    if frame_per_frame > 1 and at_own_speed > 1:
        raise timing_error(strip.name, f"is {strip.duration} frames long, but its source ({source_frames} frames "
                                       f"at {float(source):.3f} fps) fits neither {shown} nor {float(own_speed):.1f}",
                           "was the analysis made from another file?")
    skip = strip.anim_start * rate / source
    return Placement(strip.frame_start, strip.final_start, strip.final_end, rate, skip,
                     strip.frame_start + strip.duration)


def sound(strip: StripTiming, scene: Fraction, offset_ms: int = 0) -> Placement:
    """The placement of a sound strip: real time at the scene's rate; ``anim_start`` counts scene
    frames and ``offset_ms`` (Blender's ``sound_offset``) delays the sound when positive."""
    skip = strip.anim_start - Fraction(offset_ms) * scene / 1000
    return Placement(strip.frame_start, strip.final_start, strip.final_end, scene, skip)


def frame_of(ms: int, placement: Placement) -> int:
    """The record frame on screen at source time ``ms`` (on the source's frame grid when the strip
    starts on a whole frame of it, as ``timecode.ms_to_frame``; else counted from exact time)."""
    p = placement
    if p.skip.denominator == 1:
        return p.frame_start - int(p.skip) + ms_to_frame(ms, p.rate)
    return p.frame_start + math.floor(Fraction(ms) * p.rate / 1000 - p.skip)


def marker_name(span: Span) -> str:
    """``Laughter 0.93``: the label's name, as every output names it (``Music``, not ``BGM``), and the score
    (the name alone when there is none)."""
    name = label_name(span.label)
    return name if span.score is None else f"{name} {span.score:.2f}"


def cue(span: Span, placement: Placement, running: bool = True) -> Cue | None:
    """The marker for ``span``, or None where the strip does not show it (see the module doc)."""
    first, end = placement.first, placement.end
    frame = frame_of(span.start_ms, placement)
    if first <= frame < end:
        return Cue(frame, marker_name(span), span)
    if running and frame < first < end and frame_of(span.end_ms - 1, placement) >= first:
        return Cue(first, marker_name(span), span, running=True)
    return None


def cues(spans: Iterable[Span], placement: Placement, running: bool = True) -> list[Cue]:
    """The markers for ``spans`` on this strip, by frame (then by span)."""
    found = (cue(span, placement, running) for span in spans)
    return sorted((c for c in found if c is not None), key=lambda c: (c.frame, c.span))


def free_frame(frame: int, taken: Mapping[int, object], first: int, end: int) -> int | None:
    """``frame`` if free, else the next free one before ``end``, else the last free one from ``first``."""
    later = next((f for f in range(frame, end) if f not in taken), None)
    return later if later is not None else next((f for f in range(frame - 1, first - 1, -1) if f not in taken), None)


def spread(planned: Iterable[Cue], taken: Mapping[int, Iterable[str]], first: int, end: int) -> list[Cue]:
    """``planned`` cues with no two markers on one frame, given the markers already on the timeline
    (``taken``: frame -> names): a cue whose very marker (same name, same frame) is already there is
    left out (a movie strip and its sound strip give the same markers); one whose frame holds another
    marker moves to the next free frame of ``[first, end)`` (else the last free one before it), as the
    marker exporters do; with no free frame left, it is left out."""
    names = {frame: set(n) for frame, n in taken.items()}
    out = []
    for c in planned:
        if c.name in names.get(c.frame, ()):
            continue
        frame = free_frame(c.frame, names, first, end)
        if frame is None:
            continue
        names.setdefault(frame, set()).add(c.name)
        out.append(replace(c, frame=frame))
    return out
