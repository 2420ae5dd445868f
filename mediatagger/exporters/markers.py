"""Spans as markers: what every NLE marker exporter (EDL, locator EDL, FCPXML, xmeml, OTIO, CSV) shares.

A marker sits on the frame its span starts on (``timecode.ms_to_frame``: the frame on screen at
that instant) and lasts at least one frame. Names and notes are single lines of printable text;
each format then escapes what it must.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote

from mediatagger.analysis import Analysis, Segment
from mediatagger.errors import UsageError
from mediatagger.exporters.text import one_line, shows_anything
from mediatagger.presets import Preset
from mediatagger.timecode import AUDIO_ONLY_FPS, counts_drop_frame, frames_to_tc, ms_to_frame, tc_to_frames
from mediatagger.timeline import Span

NOTE_CHARS = 200                 # notes longer than this end in "…"

# Resolve's marker colours -> OpenTimelineIO's MarkerColor names, and those -> Avid's eight locator colours
OTIO_COLORS = {"Blue": "BLUE", "Cyan": "CYAN", "Green": "GREEN", "Yellow": "YELLOW", "Red": "RED",
               "Pink": "PINK", "Purple": "PURPLE", "Fuchsia": "MAGENTA", "Rose": "PINK", "Lavender": "PURPLE",
               "Sky": "CYAN", "Mint": "GREEN", "Lemon": "YELLOW", "Sand": "ORANGE", "Cocoa": "ORANGE",
               "Cream": "WHITE"}
AVID_COLORS = {"PINK": "MAGENTA", "PURPLE": "MAGENTA", "ORANGE": "YELLOW"}


@dataclass(frozen=True)
class Marker:
    span: Span
    frame: int      # frame of the span's start, counted from the media's first frame
    frames: int     # length in frames, at least 1
    name: str       # the label (with the track when the analysis has several); one line
    note: str       # what was said during the span, and the score; one line, maybe empty
    text: str       # what was said during the span, in full


@dataclass(frozen=True)
class Clock:
    """Where the media's frames sit on a timecode track."""

    fps: Fraction
    start: int                  # frame number (timecode) the media's first frame gets
    drop: bool | None = None    # None: drop-frame exactly at 29.97/59.94

    @property
    def is_drop(self) -> bool:
        return counts_drop_frame(self.fps, self.drop)

    def tc(self, frame: int) -> str:
        return frames_to_tc(self.start + frame, self.fps, self.drop)


def fps_of(analysis: Analysis) -> Fraction:
    return analysis.source.fps or AUDIO_ONLY_FPS


def source_tc(analysis: Analysis) -> str:
    """The file's own start timecode, 00:00:00:00 when it has none."""
    return analysis.source.start_timecode or "00:00:00:00"


def clock(analysis: Analysis, start_tc: str, drop: bool | None = None) -> Clock:
    """A clock starting at ``start_tc``, or at the file's own timecode when it is ``source``."""
    fps = fps_of(analysis)
    tc = source_tc(analysis) if start_tc == "source" else start_tc
    try:
        return Clock(fps, tc_to_frames(tc, fps, drop), drop)
    except UsageError as exc:
        raise UsageError(f"start timecode: {exc}") from None


def _note(score: float | None, text: str) -> str:
    said = one_line(text) if shows_anything(text) else ""  # text of format characters alone says nothing
    parts = [p for p in (said, "" if score is None else f"score {score:.2f}") if p]
    note = " — ".join(parts)
    return note if len(note) <= NOTE_CHARS else note[:NOTE_CHARS - 1] + "…"


def said_during(segments: list[tuple[int, Segment]], span: Span) -> str:
    """The transcript of the span's track while the span lasts (``segments``: ``Analysis.segments()``)."""
    return " ".join(seg.text for track, seg in segments
                    if track == span.track and seg.start_ms < span.end_ms and seg.end_ms > span.start_ms)


def media_frames(analysis: Analysis) -> int:
    """Frames in the source: those that start before its end (at least one)."""
    return ms_to_frame(max(0, analysis.source.duration_ms - 1), fps_of(analysis)) + 1


def markers(analysis: Analysis, kinds: Sequence[str] = ("events", "emotions")) -> list[Marker]:
    """Every span of ``kinds``, in time order, on the source's frames (kept inside the media)."""
    fps, several, total = fps_of(analysis), len(analysis.tracks) > 1, media_frames(analysis)
    segments = analysis.segments()
    out = []
    for span in sorted(s for kind in kinds for s in analysis.spans(kind)):
        first = min(ms_to_frame(span.start_ms, fps), total - 1)
        end = min(ms_to_frame(span.end_ms, fps), total)
        name = one_line(f"{span.label} (track {span.track})" if several else span.label) or "marker"
        text = said_during(segments, span)
        out.append(Marker(span, first, max(1, end - first), name, _note(span.score, text), text))
    return out


def media_name(analysis: Analysis) -> str:
    """The source's file name, on one line."""
    return one_line(Path(analysis.source.path).name)


def media_url(analysis: Analysis, host: str = "") -> str:
    """``file:///abs/path`` (``file://localhost/abs/path`` with ``host="localhost"``), percent-encoded."""
    path = Path(analysis.source.path).absolute().as_posix()
    return f"file://{host}{quote(path)}"


def otio_color(resolve_color: str) -> str:
    return OTIO_COLORS.get(resolve_color, "RED")


def avid_color(resolve_color: str) -> str:
    color = otio_color(resolve_color)
    return AVID_COLORS.get(color, color)


def resolve_color(preset: Preset, label: str) -> str:
    """The preset's Resolve colour name for a label."""
    return preset.edl.colors.get(label, preset.edl.default_color)
