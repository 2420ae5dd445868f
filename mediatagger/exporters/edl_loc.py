"""Avid-style locator EDL: one event spanning the source, a ``* LOC:`` line per span.

    TITLE: talk
    FCM: NON-DROP FRAME

    001  AX       V     C        01:00:00:00 01:00:20:00 01:00:00:00 01:00:20:00
    * FROM CLIP NAME: talk.mp4
    * LOC: 01:00:03:29 YELLOW  Laughter — score 0.93

Source and record timecode both count from ``edl.start_tc`` (or the file's own with ``source``), so
a locator means the same frame whichever one a reader takes it in. Timecode is always counted
non-drop-frame, even at 29.97 and 59.94: OpenTimelineIO's cmx3600 reader, like other tools of the
Avid era, reads locators only in ``HH:MM:SS:FF`` form and would drop a ``;`` one without a word.
Colours are Avid's eight; the preset's Resolve colours map to the nearest.
"""

from __future__ import annotations

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.markers import Marker, avid_color, clock, markers, media_frames, media_name, resolve_color
from mediatagger.presets import Preset


def locator_text(marker: Marker) -> str:
    """What a locator says: the name, then the note."""
    return " — ".join(p for p in (marker.name, marker.note) if p)


def to_string(analysis: Analysis, preset: Preset) -> str:
    at = clock(analysis, preset.edl.start_tc, "ndf")
    tc_in, tc_out = at.tc(0), at.tc(media_frames(analysis))
    clip = media_name(analysis)
    lines = [f"TITLE: {' '.join(analysis.stem.split())}", "FCM: NON-DROP FRAME", "",
             f"001  AX       V     C        {tc_in} {tc_out} {tc_in} {tc_out}",
             f"* FROM CLIP NAME: {clip}"]
    for marker in markers(analysis, preset.edl.kinds):
        color = avid_color(resolve_color(preset, marker.span.label))
        lines.append(f"* LOC: {at.tc(marker.frame)} {color:7} {locator_text(marker)}")
    return "\n".join(lines) + "\n"


EXPORTER = Exporter("edl-loc", ".loc.edl", "Avid / OpenTimelineIO locator EDL", to_string)
