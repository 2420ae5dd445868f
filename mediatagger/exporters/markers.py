"""Spans as markers: what every NLE marker exporter (EDL, locator EDL, FCPXML, xmeml, OTIO, CSV) shares.

A marker sits on the frame its span starts on (``timecode.ms_to_frame``: the frame on screen at
that instant) and lasts at least one frame. No two markers share a frame: importers keep one
marker per frame (Resolve) or reject the file (OpenTimelineIO's EDL reader, "Overlapping
record"), so a marker whose frame is taken moves to the next free one and its note says where
its span really starts. Names and notes are single lines of printable text; each format then
escapes what it must.

A marker is named as every output names its label (``tags.label_name``: ``Music``, not ``BGM``);
the label itself stays in the analysis and in metadata. ``label_of`` reads a name back to its
label, and reads the bare labels that versions before wrote (``BGM``) too.

Timecode is counted drop-frame or not by ``edl.timecode``: ``auto`` follows the source's own
timecode (``;`` is drop-frame) and is non-drop-frame when it has none, as a new Resolve project is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote

from mediatagger import tags
from mediatagger.analysis import Analysis, Segment
from mediatagger.errors import UsageError
from mediatagger.exporters.text import one_line, shows_anything
from mediatagger.presets import Preset
from mediatagger.timecode import (
    AUDIO_ONLY_FPS,
    TIMECODE_MODES,
    counts_drop_frame,
    frames_to_tc,
    ms_to_frame,
    tc_to_frames,
)
from mediatagger.timeline import Span

NOTE_CHARS = 200                 # notes longer than this end in "…"

# Resolve's marker colours -> OpenTimelineIO's MarkerColor names, and those -> Avid's eight locator colours
OTIO_COLORS = {"Blue": "BLUE", "Cyan": "CYAN", "Green": "GREEN", "Yellow": "YELLOW", "Red": "RED",
               "Pink": "PINK", "Purple": "PURPLE", "Fuchsia": "MAGENTA", "Rose": "PINK", "Lavender": "PURPLE",
               "Sky": "CYAN", "Mint": "GREEN", "Lemon": "YELLOW", "Sand": "ORANGE", "Cocoa": "ORANGE",
               "Cream": "WHITE"}
AVID_COLORS = {"PINK": "MAGENTA", "PURPLE": "MAGENTA", "ORANGE": "YELLOW"}

# what a marker of ours may be named -> its label: the names in every label language, and the labels
# themselves (the names of earlier versions' markers)
NAMED = {name: label for names in tags.LABEL_NAMES.values() for label, name in names.items()} \
    | {label: label for label in tags.LABELS}
TRACK_SUFFIX = re.compile(r"(.+?) \([^()]*\)")   # "Music (Audience)": the label's name, then its track's


@dataclass(frozen=True)
class Marker:
    span: Span
    frame: int      # frame of the span's start, counted from the media's first frame
    frames: int     # length in frames, at least 1
    name: str       # the label's name (``tags.label_name``), then its track's name in brackets when the
                    # analysis has several (``Laughter (Audience)``, ``Music (track 1)``); one line
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


def counts_drop(analysis: Analysis, mode: str) -> bool:
    """Whether timecode is drop-frame in ``mode`` (``auto``: as the source's own timecode, else not)."""
    if mode not in TIMECODE_MODES:
        raise UsageError(f"timecode: {mode!r} is not one of {', '.join(TIMECODE_MODES)}")
    if mode == "auto":
        return ";" in (analysis.source.start_timecode or "")
    return mode == "df"


def clock(analysis: Analysis, start_tc: str, mode: str = "auto") -> Clock:
    """A clock starting at ``start_tc``, or at the file's own timecode when it is ``source``; counted
    drop-frame as ``mode`` says (``counts_drop``)."""
    fps, drop = fps_of(analysis), counts_drop(analysis, mode)
    tc = source_tc(analysis) if start_tc == "source" else start_tc
    try:
        return Clock(fps, tc_to_frames(tc, fps, drop), drop)
    except UsageError as exc:
        raise UsageError(f"start timecode: {exc}") from None


def record_clock(analysis: Analysis, preset: Preset) -> Clock:
    """The clock of the record side (the timeline), from the preset's ``edl.start_tc`` and ``edl.timecode``."""
    return clock(analysis, preset.edl.start_tc, preset.edl.timecode)


def _note(score: float | None, text: str, moved_from_ms: int | None = None) -> str:
    said = one_line(text) if shows_anything(text) else ""  # text of format characters alone says nothing
    moved = "" if moved_from_ms is None else f"starts {moved_from_ms / 1000:.3f} s"
    parts = [p for p in (said, "" if score is None else f"score {score:.2f}", moved) if p]
    note = " — ".join(parts)
    return note if len(note) <= NOTE_CHARS else note[:NOTE_CHARS - 1] + "…"


def said_during(segments: list[tuple[int, Segment]], span: Span) -> str:
    """The transcript of the span's track while the span lasts (``segments``: ``Analysis.segments()``)."""
    return " ".join(seg.text for track, seg in segments
                    if track == span.track and seg.start_ms < span.end_ms and seg.end_ms > span.start_ms)


def media_frames(analysis: Analysis) -> int:
    """Frames in the source: its video stream's own count when it has one at a constant rate (the
    audio may run on past the last frame), else those that start before its end (at least one)."""
    src = analysis.source
    if src.video_frames and src.fps and not src.variable_fps:
        return src.video_frames
    return ms_to_frame(max(0, src.duration_ms - 1), fps_of(analysis)) + 1


def free_frame(frame: int, taken: set[int], total: int, first: int = 0) -> int | None:
    """``frame``, or the next one not ``taken`` before ``total``, or else the last free one before it
    (not before ``first``)."""
    later = next((f for f in range(frame, total) if f not in taken), None)
    return later if later is not None else next((f for f in range(frame - 1, first - 1, -1) if f not in taken), None)


def markers(analysis: Analysis, kinds: Sequence[str] = ("events", "emotions")) -> list[Marker]:
    """Every span of ``kinds``, in time order, on the source's frames (kept inside the media), each on
    a frame of its own (see the module doc)."""
    fps, total = fps_of(analysis), media_frames(analysis)
    segments = analysis.segments()
    out: list[Marker] = []
    taken: set[int] = set()
    for span in sorted(s for kind in kinds for s in analysis.spans(kind)):
        start = min(ms_to_frame(span.start_ms, fps), total - 1)
        first = free_frame(start, taken, total)
        if first is None:   # more markers than frames: nowhere left to put it
            continue
        taken.add(first)
        end = min(ms_to_frame(span.end_ms, fps), total)
        shown = tags.label_name(span.label)
        track = analysis.track_name(span.track)
        name = one_line(f"{shown} ({track})" if track else shown) or "marker"
        text = said_during(segments, span)
        note = _note(span.score, text, None if first == start else span.start_ms)
        out.append(Marker(span, first, max(1, end - first), name, note, text))
    return sorted(out, key=lambda m: m.frame)


def label_of(name: str) -> str | None:
    """The label a marker's name stands for (``Music``, ``Music (Audience)``, ``Music (track 1)``, ``音乐``
    and the old ``BGM`` -> ``BGM``; an AudioSet class's name, which may hold brackets of its own, -> its
    label), or None for a name that is not one of ours."""
    shown = TRACK_SUFFIX.fullmatch(name)
    names = (name, shown[1]) if shown else (name,)
    return next((label for n in names if (label := NAMED.get(n) or tags.audioset_label(n))), None)


def media_name(analysis: Analysis) -> str:
    """The source's file name, on one line."""
    return one_line(Path(analysis.source.path).name)


def media_url(analysis: Analysis, host: str = "") -> str:
    """``file:///abs/path`` (``file://localhost/abs/path`` with ``host="localhost"``), percent-encoded."""
    path = Path(analysis.source.path).absolute().as_posix()
    return f"file://{host}{quote(os.fsencode(path))}"  # a name's own bytes, UTF-8 or not


def otio_color(resolve_color: str) -> str:
    return OTIO_COLORS.get(resolve_color, "RED")


def avid_color(resolve_color: str) -> str:
    color = otio_color(resolve_color)
    return AVID_COLORS.get(color, color)


def resolve_color(preset: Preset, label: str) -> str:
    """The preset's Resolve colour name for a label: the preset's own for it, else an AudioSet class's
    (picked by its name), else the preset's default colour."""
    return preset.edl.colors.get(label) or (tags.color_of(label) if label not in tags.LABELS else None) \
        or preset.edl.default_color
