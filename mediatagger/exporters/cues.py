"""Timed text cues shared by the SRT and VTT exporters: transcript lines plus SDH event cues."""

from __future__ import annotations

from dataclasses import dataclass

from mediatagger.analysis import Analysis, Segment
from mediatagger.exporters.text import clean_lines
from mediatagger.presets import TextOptions
from mediatagger.tags import LABELS, label_name, rich_text
from mediatagger.timecode import snap_ms


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]   # plain text, one entry per line, never empty
    voice: str = ""          # the track's name where the analysis has several (``Audience``), else ""


def sdh_label(label: str, lang: str) -> str:
    """``[laughter]`` / ``[笑声]``, or the label's own SDH text (music is ``♪``)."""
    known = LABELS.get(label)
    if known is not None and known.sdh:
        return known.sdh
    name = label_name(label, lang)
    return f"[{name.lower() if lang == 'en' else name}]"


def segment_text(segment: Segment, opts: TextOptions) -> str:
    """What a subtitle shows for a segment: its text in the preset's rich-text form."""
    return rich_text(segment.text, segment.emotion, segment.event, opts.rich, opts.label_lang)


def cue_lines(text: str) -> tuple[str, ...]:
    """Text as cue lines: no empty lines (they end a cue), no ``-->`` (it starts a timing line)."""
    return tuple(line.replace("-->", "→") for line in clean_lines(text))


def cues(analysis: Analysis, opts: TextOptions) -> list[Cue]:
    """Transcript cues (in the preset's rich-text form) and event cues, in time order, on frame starts
    when the source has a frame rate."""
    fps = analysis.source.fps

    def snap(ms: int) -> int:
        return snap_ms(ms, fps) if fps else ms

    def voice(track: int) -> str:
        return " ".join(cue_lines(analysis.track_name(track) or ""))

    out = [Cue(snap(s.start_ms), snap(s.end_ms), cue_lines(segment_text(s, opts)), voice(t))
           for t, s in analysis.segments()]
    out += [Cue(snap(e.start_ms), snap(e.end_ms), cue_lines(sdh_label(e.label, opts.label_lang)), voice(e.track))
            for e in analysis.spans("events")]
    return sorted((c for c in out if c.lines and c.end_ms > c.start_ms), key=lambda c: (c.start_ms, c.end_ms))


def clock(ms: int, separator: str) -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (VTT)."""
    seconds, millis = divmod(ms, 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{separator}{millis:03d}"
