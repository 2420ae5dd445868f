"""Reading our marker exports back the way their consumers do, into one comparable shape.

Each reader returns ``[ReadMarker]`` in file order. Where a real consumer library exists it is the
reader (OpenTimelineIO and its cmx3600 and fcp_xml adapters, lxml with Apple's DTD); for Resolve's
marker EDL, which no library reads, a strict parser of Resolve's line format stands in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from lxml import etree

FCPXML_DTD = Path(__file__).resolve().parents[2] / "shared" / "data" / "fcpxml" / "fcpxml-1.10.dtd"

RESOLVE_EVENT = re.compile(r"^(\d{3})  001      V     C        (\S+) (\S+) (\S+) (\S+)  $")
RESOLVE_MARKER = re.compile(r"^(.*) \|C:ResolveColor(\w+) \|M:([^|\n]*) \|D:(\d+)$")
RESOLVE_TC = re.compile(r"^\d\d:\d\d:\d\d[:;]\d\d$")


@dataclass(frozen=True)
class ReadMarker:
    name: str
    note: str
    frame: int      # start frame, counted from the first frame of the media
    frames: int     # length in frames (0 where the format has no length)
    color: str = ""


@dataclass(frozen=True)
class ResolveEvent:
    number: str
    tc_in: str
    tc_out: str
    rec_in: str
    rec_out: str
    note: str
    color: str
    name: str
    frames: int


def resolve_edl(text: str) -> tuple[dict[str, str], list[ResolveEvent]]:
    """Header fields and events of a Resolve marker EDL; fails on any line out of place."""
    lines = text.split("\n")
    assert lines[0].startswith("TITLE: ") and lines[1].startswith("FCM: ") and lines[2] == "", lines[:3]
    header = {"TITLE": lines[0][7:], "FCM": lines[1][5:]}
    events, body = [], lines[3:]
    assert body[-1] == "", "the file ends with a newline"
    body = body[:-1]
    assert len(body) % 3 == 0, "each event is three lines: event, marker, blank"
    for event_line, marker_line, blank in zip(body[0::3], body[1::3], body[2::3]):
        event, marker = RESOLVE_EVENT.match(event_line), RESOLVE_MARKER.match(marker_line)
        assert event and marker and blank == "", (event_line, marker_line, blank)
        assert all(RESOLVE_TC.match(tc) for tc in event.groups()[1:])
        note, color, name, frames = marker.groups()
        events.append(ResolveEvent(*event.groups(), note, color, name, int(frames)))
    return header, events


def resolve_markers(text: str, fps: Fraction, start_frame: int) -> list[ReadMarker]:
    _, events = resolve_edl(text)
    return [ReadMarker(e.name, e.note, otio.opentime.from_timecode(e.rec_in, float(fps)).to_frames() - start_frame,
                       e.frames, e.color) for e in events]


def locator_edl(text: str, fps: Fraction) -> list[ReadMarker]:
    """Through OpenTimelineIO's cmx3600 adapter: markers relative to the clip's source start."""
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(fps))
    (clip,) = timeline.find_clips()
    start = clip.source_range.start_time.to_frames()
    return [ReadMarker(m.name, "", m.marked_range.start_time.to_frames() - start, 0, m.color) for m in clip.markers]


def fcpxml(text: str) -> list[ReadMarker]:
    """Validated against Apple's FCPXML 1.10 DTD; marker times checked to lie on the frame grid."""
    if not FCPXML_DTD.is_file():
        pytest.skip(f"{FCPXML_DTD} is absent")
    root = etree.fromstring(text.encode("utf-8"))
    dtd = etree.DTD(str(FCPXML_DTD))
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    frame = seconds(root.find("resources/format").get("frameDuration"))
    clip = root.find(".//spine/asset-clip")
    clip_start = seconds(clip.get("start"))
    out = []
    for m in clip.findall("marker"):
        start, length = (seconds(m.get("start")) - clip_start) / frame, seconds(m.get("duration")) / frame
        assert start.denominator == 1 and length.denominator == 1, "marker off the frame grid"
        out.append(ReadMarker(m.get("value"), m.get("note", ""), int(start), int(length)))
    return out


def seconds(value: str) -> Fraction:
    """FCPXML time (``1001/30000s``, ``3600s``) -> seconds."""
    assert value.endswith("s"), value
    return Fraction(value[:-1])


def xmeml(text: str) -> list[ReadMarker]:
    """Through OpenTimelineIO's fcp_xml adapter: the sequence's markers."""
    timeline = otio.adapters.read_from_string(text, "fcp_xml")
    return [ReadMarker(m.name, m.metadata["fcp_xml"].get("comment") or "", m.marked_range.start_time.to_frames(),
                       m.marked_range.duration.to_frames()) for m in timeline.tracks.markers]


def otio_json(text: str) -> list[ReadMarker]:
    timeline = otio.adapters.read_from_string(text, "otio_json")
    (clip,) = timeline.find_clips()
    start = clip.source_range.start_time.to_frames()
    return [ReadMarker(m.name, m.comment, m.marked_range.start_time.to_frames() - start,
                       m.marked_range.duration.to_frames(), m.color) for m in clip.markers]
