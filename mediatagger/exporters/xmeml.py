"""FCP7 XML (xmeml), Premiere Pro's file route for markers: a sequence holding the source and its markers.

Sequence markers carry ``name`` (the label's name: Music), ``comment`` (what was said and the
score) and ``in``/``out`` in frames from the sequence start, which is ``edl.start_tc``. One video
clip (when the source has video) and one audio clip per audio track reference the same file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.markers import (
    Clock,
    clock,
    fps_of,
    markers,
    media_frames,
    media_name,
    media_url,
    record_clock,
)
from mediatagger.exporters.xmldoc import child, document
from mediatagger.presets import Preset
from mediatagger.timecode import nominal


def rate(parent: ET.Element, fps: Fraction) -> None:
    element = child(parent, "rate")
    child(element, "timebase", nominal(fps))
    child(element, "ntsc", "TRUE" if fps.denominator == 1001 else "FALSE")


def timecode(parent: ET.Element, at: Clock) -> None:
    element = child(parent, "timecode")
    rate(element, at.fps)
    child(element, "string", at.tc(0))
    child(element, "frame", at.start)
    child(element, "displayformat", "DF" if at.is_drop else "NDF")


def file_element(parent: ET.Element, analysis: Analysis, source: Clock, frames: int) -> None:
    src = analysis.source
    element = child(parent, "file", id="file-1")
    child(element, "name", media_name(analysis))
    child(element, "pathurl", media_url(analysis, host="localhost"))
    rate(element, source.fps)
    child(element, "duration", frames)
    timecode(element, source)
    media = child(element, "media")
    if src.fps:
        video = child(child(media, "video"), "samplecharacteristics")
        child(video, "width", src.width or 1920)
        child(video, "height", src.height or 1080)
    for track in src.audio_tracks:
        audio = child(media, "audio")
        child(audio, "channelcount", track.channels)


def clipitem(track: ET.Element, analysis: Analysis, number: int, frames: int, audio_track: int | None) -> None:
    item = child(track, "clipitem", id=f"clipitem-{number}")
    child(item, "name", analysis.stem)
    child(item, "duration", frames)
    rate(item, fps_of(analysis))
    for tag, value in (("start", 0), ("end", frames), ("in", 0), ("out", frames)):
        child(item, tag, value)
    if number == 1:
        file_element(item, analysis, clock(analysis, "source"), frames)
    else:
        child(item, "file", id="file-1")
    if audio_track is not None:
        source = child(item, "sourcetrack")
        child(source, "mediatype", "audio")
        child(source, "trackindex", audio_track + 1)


def to_string(analysis: Analysis, preset: Preset) -> str:
    at, frames = record_clock(analysis, preset), media_frames(analysis)
    root = ET.Element("xmeml", version="4")
    sequence = child(root, "sequence", id="sequence-1")
    child(sequence, "name", analysis.stem)
    child(sequence, "duration", frames)
    rate(sequence, at.fps)
    timecode(sequence, at)
    media = child(sequence, "media")
    number = 1
    if analysis.source.fps:
        clipitem(child(child(media, "video"), "track"), analysis, number, frames, None)
        number += 1
    audio = child(media, "audio")
    for index in range(len(analysis.source.audio_tracks)):
        clipitem(child(audio, "track"), analysis, number, frames, index)
        number += 1
    for m in markers(analysis, preset.edl.kinds):
        marker = child(sequence, "marker")
        child(marker, "name", m.name)
        child(marker, "comment", m.note)
        child(marker, "in", m.frame)
        child(marker, "out", m.frame + m.frames)
    return document(root, "xmeml")


EXPORTER = Exporter("xmeml", ".xml", "FCP7 XML sequence markers for Premiere Pro", to_string)
