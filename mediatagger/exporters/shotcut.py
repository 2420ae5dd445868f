"""A Shotcut project (MLT XML): the source on a timeline track, a Shotcut marker per span.

Laid out as Shotcut 22.12 saves a project: the ``main_bin`` playlist, the ``background`` track,
the source on V1 (A1 for audio alone) from frame 0, and the main tractor marked ``shotcut`` with
``shotcut:projectAudioChannels``. Markers are nested properties of that tractor, as Shotcut's
``MarkersModel`` stores them (MLT's nested ``<properties>``, not flat ``shotcut:markers.0.text``
names)::

    <properties name="shotcut:markers">
      <properties name="1">
        <property name="text">Laughter — score 0.93</property>
        <property name="start">00:00:03.971</property>   clock time of the first frame (119)
        <property name="end">00:00:06.440</property>     and of the last (193): inclusive
        <property name="color">#EAB308</property>
      </properties>
    </properties>

The text is the name, then the note (what was said and the score); the colour is the preset's
Resolve colour as ``#RRGGBB`` (``mlt.HEX_COLORS``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.edl_loc import locator_text
from mediatagger.exporters.markers import Marker, markers, resolve_color
from mediatagger.exporters.mlt import (
    Source,
    clock,
    color_producer,
    document,
    entry,
    hex_color,
    media_producer,
    mlt_root,
    playlist,
    profile,
    props,
    source,
    span,
    transition,
)
from mediatagger.exporters.xmldoc import child
from mediatagger.presets import Preset

CHANNEL_LAYOUTS = (1, 2, 4, 6)   # Shotcut's project audio channels: mono, stereo, 4.0, 5.1


def marker_properties(parent: ET.Element, number: int, marker: Marker, color: str, src: Source) -> None:
    element = child(parent, "properties", name=str(number))
    props(element, {"text": locator_text(marker), "start": clock(marker.frame, src.fps),
                    "end": clock(marker.frame + marker.frames - 1, src.fps), "color": color})


def tracks(root: ET.Element, src: Source) -> str:
    """The background track and the source's track; the id of the source's track."""
    color_producer(root, "black", src, {"length": clock(src.frames, src.fps), "eof": "pause", "resource": "0"})
    entry(playlist(root, "background"), "black", src)
    media_producer(root, "producer0", src, {"shotcut:caption": src.name})
    kind, name = ("shotcut:video", "V1") if src.has_video else ("shotcut:audio", "A1")
    track = playlist(root, "playlist0", {kind: 1, "shotcut:name": name})
    entry(track, "producer0", src)
    return "playlist0"


def to_string(analysis: Analysis, preset: Preset) -> str:
    src = source(analysis)
    root = mlt_root(analysis.stem)
    profile(root, src)
    playlist(root, "main_bin", {"xml_retain": 1})
    track = tracks(root, src)
    tractor = child(root, "tractor", id="tractor0", title=analysis.stem, **span(src))
    channels = src.channels if src.channels in CHANNEL_LAYOUTS else 2
    props(tractor, {"shotcut": 1, "shotcut:projectAudioChannels": channels})
    listed = child(tractor, "properties", name="shotcut:markers")
    for number, marker in enumerate(markers(analysis, preset.edl.kinds)):
        marker_properties(listed, number, marker, hex_color(resolve_color(preset, marker.span.label)), src)
    child(tractor, "track", producer="background")
    child(tractor, "track", producer=track, **({} if src.has_video else {"hide": "video"}))
    transition(tractor, "transition0", 0, 1, {"mlt_service": "mix", "always_active": 1, "sum": 1})
    return document(root)


EXPORTER = Exporter("shotcut", ".mlt", "Shotcut project with a marker per span", to_string)
