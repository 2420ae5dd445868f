"""DaVinci Resolve marker EDL: one 1-frame event per span at its start frame.

    TITLE: talk
    FCM: DROP FRAME

    001  001      V     C        01:00:04;00 01:00:04;01 01:00:04;00 01:00:04;01
     |C:ResolveColorYellow |M:LAUGHTER |D:75

Record timecode counts from the preset's ``edl.start_tc`` (01:00:00:00); ``|D:`` is the span's
length in frames (at least 1). Drop-frame only at 29.97 and 59.94.
"""

from __future__ import annotations

from mediatagger.analysis import Analysis
from mediatagger.exporters import text_exporter
from mediatagger.exporters.markers import AUDIO_ONLY_FPS, Marker, markers
from mediatagger.presets import Preset
from mediatagger.timecode import is_drop_frame
from mediatagger.timeline import Span


def marker_name(span: Span, tracks: int) -> str:
    return span.label if tracks == 1 else f"{span.label} (track {span.track})"


def event(number: int, marker: Marker, color: str, tracks: int) -> str:
    tc_in, tc_out = marker.tc(), marker.tc(1)
    return (f"{number:03d}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}  \n"
            f" |C:ResolveColor{color} |M:{marker_name(marker.span, tracks)} |D:{marker.frames}\n")


def to_string(analysis: Analysis, preset: Preset) -> str:
    fcm = "DROP FRAME" if is_drop_frame(analysis.source.fps or AUDIO_ONLY_FPS) else "NON-DROP FRAME"
    title = " ".join(analysis.stem.split())
    lines = [f"TITLE: {title}\n", f"FCM: {fcm}\n", "\n"]
    for number, marker in enumerate(markers(analysis, preset), 1):
        color = preset.edl.colors.get(marker.span.label, preset.edl.default_color)
        lines.append(event(number, marker, color, len(analysis.tracks)) + "\n")
    return "".join(lines)


EXPORTER = text_exporter("edl", ".edl", "DaVinci Resolve marker EDL", to_string)
