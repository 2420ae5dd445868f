"""A Kdenlive 22.12 project (MLT XML, document version 1.04): the source as a bin clip on the
timeline, a timeline guide per span.

Laid out as Kdenlive 22.12 saves a project: the bin clip (``kdenlive:id``) listed in the
``main_bin`` playlist, which also holds the document properties; the ``black_track``; each
timeline track a tractor of two playlists; the main tractor last, its audio tracks mixed by
``internal_added`` transitions. The source's video sits on V1 and its audio on A1, from frame 0.

Guides are JSON in ``kdenlive:docproperties.guides`` of ``main_bin`` (``MarkerListModel::toJson``)::

    [{"comment": "Laughter — score 0.93", "pos": 119, "type": 5}]

``pos`` is the frame; ``type`` one of Kdenlive's nine guide categories (``GUIDE_COLORS``), the one
whose colour is nearest the preset's Resolve colour. Guides are points in time: a span's length
does not survive, its name and note (what was said and the score) do, in the comment.
"""

from __future__ import annotations

import colorsys
import json
import xml.etree.ElementTree as ET

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.edl_loc import locator_text
from mediatagger.exporters.markers import Marker, markers, resolve_color
from mediatagger.exporters.mlt import (
    Source,
    color_producer,
    document,
    entry,
    hex_color,
    media_producer,
    mlt_root,
    playlist,
    profile,
    prop,
    props,
    source,
    span,
    transition,
)
from mediatagger.exporters.xmldoc import child
from mediatagger.presets import Preset

DOCUMENT_VERSION = "1.04"     # Kdenlive 20.08 to 22.12
CLIP_ID = 2                   # the bin clip's kdenlive:id
INTERNAL = 237                # marks a transition Kdenlive adds itself (``internal_added``)
# Kdenlive's default guide categories 0-8 (KdenliveSettings::guidesCategories)
GUIDE_COLORS = ("#9b59b6", "#3daee9", "#1abc9c", "#1cdc9a", "#c9ce3b", "#fdbc4b", "#f39c1f", "#f47750", "#da4453")


def hue(color: str) -> float:
    """The hue of ``#RRGGBB``, in turns (0 to 1)."""
    red, green, blue = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(red, green, blue)[0]


def hue_distance(a: float, b: float) -> float:
    return min(abs(a - b), 1 - abs(a - b))


def guide_type(resolve_color_name: str) -> int:
    """The guide category whose colour's hue is nearest to a Resolve colour's (Yellow -> 5, Red -> 8)."""
    want = hue(hex_color(resolve_color_name))
    return min(range(len(GUIDE_COLORS)), key=lambda i: hue_distance(hue(GUIDE_COLORS[i]), want))


def guides(found: list[Marker], preset: Preset) -> str:
    return json.dumps([{"comment": locator_text(m), "pos": m.frame,
                        "type": guide_type(resolve_color(preset, m.span.label))} for m in found],
                      ensure_ascii=False, indent=4)


def bin_playlist(root: ET.Element, src: Source, guide_json: str) -> None:
    main_bin = playlist(root, "main_bin", {
        "kdenlive:docproperties.version": DOCUMENT_VERSION,
        "kdenlive:docproperties.activeTrack": 0,
        "kdenlive:docproperties.audioChannels": 2,
        "kdenlive:docproperties.guides": guide_json,
        "kdenlive:documentnotes": "",
        "xml_retain": 1})
    entry(main_bin, "producer0", src)


def track(root: ET.Element, number: int, src: Source, audio: bool, clip: bool) -> str:
    """Timeline track ``number`` (a tractor of two playlists, the first holding the clip when ``clip``)."""
    kind: dict[str, str | int] = {"kdenlive:audio_track": 1} if audio else {}
    first, second = playlist(root, f"playlist{2 * number}", kind), playlist(root, f"playlist{2 * number + 1}", kind)
    if clip:
        prop(entry(first, "producer0", src), "kdenlive:id", CLIP_ID)
    tractor = child(root, "tractor", id=f"tractor{number}", **span(src))
    props(tractor, {**kind, "kdenlive:trackheight": 69, "kdenlive:timeline_active": 1, "kdenlive:collapsed": 0})
    for part in (first, second):
        child(tractor, "track", hide="video" if audio else "audio", producer=part.get("id", ""))
    return f"tractor{number}"


def to_string(analysis: Analysis, preset: Preset) -> str:
    src = source(analysis)
    root = mlt_root(analysis.stem)
    profile(root, src)
    media_producer(root, "producer0", src, {
        "kdenlive:clipname": src.name, "kdenlive:folderid": -1, "kdenlive:id": CLIP_ID,
        "kdenlive:clip_type": 0 if src.has_video and src.has_audio else (2 if src.has_video else 1)})
    bin_playlist(root, src, guides(markers(analysis, preset.edl.kinds), preset))
    color_producer(root, "black_track", src, {"length": 2**31 - 1, "eof": "continue", "resource": "black"})
    audio = track(root, 0, src, audio=True, clip=src.has_audio)
    video = track(root, 1, src, audio=False, clip=src.has_video)
    main = child(root, "tractor", id="tractor2", **span(src))
    for producer in ("black_track", audio, video):
        child(main, "track", producer=producer)
    transition(main, "transition0", 0, 1, {"mlt_service": "mix", "kdenlive_id": "mix", "internal_added": INTERNAL,
                                            "always_active": 1, "accepts_blanks": 1, "sum": 1})
    return document(root)


EXPORTER = Exporter("kdenlive", ".kdenlive", "Kdenlive 22.12 project with a timeline guide per span", to_string)
