"""MLT XML, the project format of Shotcut and Kdenlive: the pieces both exporters build from.

A project holds the source as one producer that starts on the timeline's first frame, so a
marker's frame on the timeline is its frame in the media (``markers.markers``); the timeline
starts at 0 whatever ``edl.start_tc`` says (neither editor keeps a start timecode). Lengths and
positions are written as MLT's clock strings, ``HH:MM:SS.mmm`` at the profile's rate, as both
editors write them; MLT reads them back to the same frame (``clock``). Everything from the media
(paths, transcripts) goes into element text or attributes, escaped by ElementTree.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from mediatagger.analysis import Analysis
from mediatagger.exporters.markers import fps_of, media_frames
from mediatagger.exporters.xmldoc import child
from mediatagger.tags import RGB_COLORS

DEFAULT_SIZE = (1920, 1080)   # the frame of an audio-only source's profile

# Resolve's marker colours as RGB (the web console's palette), for editors that take any colour
HEX_COLORS = {name: rgb.upper() for name, rgb in RGB_COLORS.items()}  # as Shotcut writes them


@dataclass(frozen=True)
class Source:
    """The media file as an MLT producer sees it."""

    resource: str       # absolute path
    name: str           # the file name
    frames: int         # length on the timeline (``markers.media_frames``)
    fps: Fraction       # the profile's rate: the video's, or 25 for audio alone
    width: int
    height: int
    has_video: bool
    has_audio: bool
    channels: int       # of the first audio track, 0 without audio


def source(analysis: Analysis) -> Source:
    src = analysis.source
    width, height = (src.width, src.height) if src.width and src.height else DEFAULT_SIZE
    path = Path(src.path).absolute()
    channels = src.audio_tracks[0].channels if src.audio_tracks else 0
    return Source(str(path), path.name, media_frames(analysis), fps_of(analysis), width, height,
                  bool(src.fps), bool(src.audio_tracks), channels)


def clock(frames: int, fps: Fraction) -> str:
    """``frames`` as MLT writes a clock time, step for step in its floating point (``mlt_property.c``
    ``time_clock_from_frames``, corrections included), so the string is MLT's own and reads back to
    the same frame: 120 frames at 30000/1001 -> ``00:00:04.004``."""
    rate, total = fps.numerator / fps.denominator, frames
    hours = int(frames / (rate * 3600))
    frames -= math.floor(hours * 3600 * rate)
    minutes = int(frames / (rate * 60))
    if minutes == 60:
        hours, minutes = hours + 1, 0
        frames = total - math.floor(hours * 3600 * rate)
    hour_frames = frames
    frames -= math.floor(minutes * 60 * rate)
    if frames / rate >= 60:
        minutes += 1
        frames = hour_frames - math.floor(minutes * 60 * rate)
    return f"{hours:02d}:{minutes:02d}:{frames / rate:06.3f}"


def prop(parent: ET.Element, name: str, value: str | int) -> ET.Element:
    """An MLT ``<property name=...>value</property>``."""
    return child(parent, "property", value, name=name)


def props(parent: ET.Element, values: dict[str, str | int]) -> None:
    for name, value in values.items():
        prop(parent, name, value)


def mlt_root(title: str) -> ET.Element:
    return ET.Element("mlt", {"LC_NUMERIC": "C", "version": "7.12.0", "title": title, "producer": "main_bin"})


def profile(root: ET.Element, src: Source) -> ET.Element:
    """The project's video mode: the source's frame and rate, square pixels, progressive."""
    divisor = math.gcd(src.width, src.height)
    return child(root, "profile", description=f"{src.width}x{src.height} {float(src.fps):.2f} fps",
                 width=str(src.width), height=str(src.height), progressive="1", sample_aspect_num="1",
                 sample_aspect_den="1", display_aspect_num=str(src.width // divisor),
                 display_aspect_den=str(src.height // divisor), frame_rate_num=str(src.fps.numerator),
                 frame_rate_den=str(src.fps.denominator), colorspace="709" if src.height >= 720 else "601")


def span(src: Source) -> dict[str, str]:
    """``in``/``out`` attributes covering the source (``out`` is its last frame)."""
    return {"in": clock(0, src.fps), "out": clock(src.frames - 1, src.fps)}


def media_producer(root: ET.Element, element_id: str, src: Source, extra: dict[str, str | int]) -> ET.Element:
    """The source file through MLT's avformat producer (its first video and audio streams)."""
    producer = child(root, "producer", id=element_id, **span(src))
    props(producer, {"length": clock(src.frames, src.fps), "eof": "pause", "resource": src.resource,
                     "mlt_service": "avformat", "seekable": 1, **extra})
    return producer


def color_producer(root: ET.Element, element_id: str, src: Source, values: dict[str, str | int]) -> ET.Element:
    """A colour producer over the source's length (``values``: its ``resource``, ``length``, ``eof``...),
    the background both editors put under their tracks."""
    producer = child(root, "producer", id=element_id, **span(src))
    props(producer, {**values, "aspect_ratio": 1, "mlt_service": "color", "mlt_image_format": "rgba",
                     "set.test_audio": 0})
    return producer


def playlist(root: ET.Element, element_id: str, values: dict[str, str | int] | None = None) -> ET.Element:
    element = child(root, "playlist", id=element_id)
    props(element, values or {})
    return element


def entry(parent: ET.Element, producer_id: str, src: Source) -> ET.Element:
    """The whole source, from ``producer_id``, as the next thing in a playlist."""
    return child(parent, "entry", producer=producer_id, **span(src))


def transition(tractor: ET.Element, element_id: str, a_track: int, b_track: int,
               values: dict[str, str | int]) -> ET.Element:
    element = child(tractor, "transition", id=element_id)
    props(element, {"a_track": a_track, "b_track": b_track, **values})
    return element


def document(root: ET.Element) -> str:
    ET.indent(root, " ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def hex_color(resolve_color: str) -> str:
    """A Resolve colour name as ``#RRGGBB`` (blue for a name it does not know)."""
    return HEX_COLORS.get(resolve_color, HEX_COLORS["Blue"])
