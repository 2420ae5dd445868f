"""DaVinci Resolve marker EDL: one 1-frame event per span at its start frame.

    TITLE: talk
    FCM: DROP FRAME

    001  001      V     C        01:00:04;00 01:00:04;01 01:00:04;00 01:00:04;01
     |C:ResolveColorYellow |M:LAUGHTER |D:75

Record timecode counts from the preset's ``edl.start_tc`` (01:00:00:00); ``|D:`` is the span's
length in frames (at least 1). Drop-frame only at 29.97 and 59.94.
"""

from __future__ import annotations

from fractions import Fraction

from mediatagger.analysis import Analysis
from mediatagger.exporters import text_exporter
from mediatagger.presets import Preset
from mediatagger.timecode import frames_to_tc, is_drop_frame, ms_to_frame, tc_to_frames
from mediatagger.timeline import Span

AUDIO_ONLY_FPS = Fraction(25)


def marker_name(span: Span, tracks: int) -> str:
    return span.label if tracks == 1 else f"{span.label} (track {span.track})"


def event(number: int, span: Span, fps: Fraction, start_frame: int, color: str, tracks: int) -> str:
    first = ms_to_frame(span.start_ms, fps)
    frames = max(1, ms_to_frame(span.end_ms, fps) - first)
    tc_in, tc_out = frames_to_tc(start_frame + first, fps), frames_to_tc(start_frame + first + 1, fps)
    return (f"{number:03d}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}  \n"
            f" |C:ResolveColor{color} |M:{marker_name(span, tracks)} |D:{frames}\n")


def to_string(analysis: Analysis, preset: Preset) -> str:
    fps = analysis.source.fps or AUDIO_ONLY_FPS
    start = tc_to_frames(preset.edl.start_tc, fps)
    spans = sorted(analysis.spans("events") + analysis.spans("emotions"))
    fcm = "DROP FRAME" if is_drop_frame(fps) else "NON-DROP FRAME"
    title = " ".join(analysis.stem.split())
    lines = [f"TITLE: {title}\n", f"FCM: {fcm}\n", "\n"]
    tracks = len(analysis.tracks)
    for number, span in enumerate(spans, 1):
        color = preset.edl.colors.get(span.label, preset.edl.default_color)
        lines.append(event(number, span, fps, start, color, tracks) + "\n")
    return "".join(lines)


EXPORTER = text_exporter("edl", ".edl", "DaVinci Resolve marker EDL", to_string)
