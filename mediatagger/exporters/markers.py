"""Spans as markers on a record timeline: what the EDL and CSV marker exporters share."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from mediatagger.analysis import Analysis
from mediatagger.presets import Preset
from mediatagger.timecode import frames_to_tc, ms_to_frame, tc_to_frames
from mediatagger.timeline import Span

AUDIO_ONLY_FPS = Fraction(25)  # a timeline rate for sources without video


@dataclass(frozen=True)
class Marker:
    span: Span
    frame: int      # record frame of the span's start (the preset's start timecode included)
    frames: int     # length in frames, at least 1
    fps: Fraction

    def tc(self, offset: int = 0) -> str:
        return frames_to_tc(self.frame + offset, self.fps)


def markers(analysis: Analysis, preset: Preset) -> list[Marker]:
    """Every event and emotion span, in time order, placed on frames from ``edl.start_tc``."""
    fps = analysis.source.fps or AUDIO_ONLY_FPS
    start = tc_to_frames(preset.edl.start_tc, fps)
    out = []
    for span in sorted(analysis.spans("events") + analysis.spans("emotions")):
        first = ms_to_frame(span.start_ms, fps)
        out.append(Marker(span, start + first, max(1, ms_to_frame(span.end_ms, fps) - first), fps))
    return out
