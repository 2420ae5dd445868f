"""WebVTT subtitles: transcript cues plus SDH event cues; text escaped as WebVTT requires."""

from __future__ import annotations

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.cues import Cue, clock, cues
from mediatagger.presets import Preset


def escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text(cue: Cue) -> str:
    """The cue's lines, escaped; each in a voice span (``<v Audience>``) when the cue names its track."""
    if not cue.voice:
        return "\n".join(map(escape, cue.lines))
    return "\n".join(f"<v {escape(cue.voice)}>{escape(line)}</v>" for line in cue.lines)


def to_string(analysis: Analysis, preset: Preset) -> str:
    blocks = [f"{clock(c.start_ms, '.')} --> {clock(c.end_ms, '.')}\n" + text(c) + "\n"
              for c in cues(analysis, preset.text)]
    return "WEBVTT\n\n" + "\n".join(blocks)


EXPORTER = Exporter("vtt", ".vtt", "WebVTT transcript with SDH event cues", to_string)
