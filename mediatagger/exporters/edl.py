"""DaVinci Resolve marker EDL: one 1-frame event per span at its start frame.

    TITLE: talk
    FCM: DROP FRAME

    001  001      V     C        01:00:03;29 01:00:04;00 01:00:03;29 01:00:04;00
    score 0.93 |C:ResolveColorYellow |M:Laughter |D:75

Record timecode counts from the preset's ``edl.start_tc`` (01:00:00:00, or ``source`` for the
file's own timecode); ``|M:`` is the label's name (Laughter, Music); ``|D:`` is the span's length in
frames (at least 1); the note before ``|C:`` holds what was said and the score. Drop-frame only at
29.97 and 59.94. Resolve reads ``|`` as a field separator, so names and notes carry ``¦`` instead.
"""

from __future__ import annotations

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.markers import Clock, Marker, markers, record_clock, resolve_color
from mediatagger.presets import Preset


def field(text: str) -> str:
    return text.replace("|", "¦")


def event(number: int, marker: Marker, color: str, at: Clock) -> str:
    tc_in, tc_out = at.tc(marker.frame), at.tc(marker.frame + 1)
    return (f"{number:03d}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}  \n"
            f"{field(marker.note)} |C:ResolveColor{color} |M:{field(marker.name)} |D:{marker.frames}\n")


def to_string(analysis: Analysis, preset: Preset) -> str:
    at = record_clock(analysis, preset)
    title = " ".join(analysis.stem.split())
    lines = [f"TITLE: {title}\n", f"FCM: {'DROP FRAME' if at.is_drop else 'NON-DROP FRAME'}\n", "\n"]
    for number, marker in enumerate(markers(analysis, preset.edl.kinds), 1):
        lines.append(event(number, marker, resolve_color(preset, marker.span.label), at) + "\n")
    return "".join(lines)


EXPORTER = Exporter("edl", ".edl", "DaVinci Resolve marker EDL", to_string)
