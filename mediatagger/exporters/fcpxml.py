"""FCPXML 1.10 for Final Cut Pro and DaVinci Resolve: the source as an asset-clip with a marker per span.

Times are rational seconds on the frame grid (``120120/30000s``). A marker's ``start`` is in the
clip's source time, which begins at the file's own timecode (zero when it has none); the
sequence starts at ``edl.start_tc``. ``value`` is the label's name (Music), ``note`` what was said
and the score. Validated against Apple's DTD in the tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.markers import clock, fps_of, markers, media_frames, media_url, record_clock
from mediatagger.exporters.xmldoc import child, document, rational_seconds
from mediatagger.presets import Preset

DEFAULT_SIZE = (1920, 1080)   # the format of an audio-only source's sequence


def resources(analysis: Analysis, root: ET.Element, source_start: int, frames: int) -> None:
    src, fps = analysis.source, fps_of(analysis)
    width, height = (src.width, src.height) if src.width and src.height else DEFAULT_SIZE
    res = child(root, "resources")
    child(res, "format", id="r1", frameDuration=rational_seconds(1, fps), width=str(width), height=str(height))
    audio = {"audioSources": str(len(src.audio_tracks)), "audioChannels": str(src.audio_tracks[0].channels),
             "audioRate": str(src.audio_tracks[0].sample_rate)} if src.audio_tracks else {}
    asset = child(res, "asset", id="r2", name=analysis.stem, start=rational_seconds(source_start, fps),
                  duration=rational_seconds(frames, fps), hasVideo="1" if src.fps else "0",
                  hasAudio="1" if src.audio_tracks else "0", format="r1", **audio)
    child(asset, "media-rep", kind="original-media", src=media_url(analysis))


def to_string(analysis: Analysis, preset: Preset) -> str:
    record, source = record_clock(analysis, preset), clock(analysis, "source")
    fps, frames, tc_format = record.fps, media_frames(analysis), "DF" if record.is_drop else "NDF"
    root = ET.Element("fcpxml", version="1.10")
    resources(analysis, root, source.start, frames)
    event = child(child(root, "library"), "event", name="mediatagger")
    sequence = child(child(event, "project", name=analysis.stem), "sequence", format="r1",
                     duration=rational_seconds(frames, fps), tcStart=rational_seconds(record.start, fps),
                     tcFormat=tc_format)
    clip = child(child(sequence, "spine"), "asset-clip", ref="r2", name=analysis.stem,
                 offset=rational_seconds(record.start, fps), start=rational_seconds(source.start, fps),
                 duration=rational_seconds(frames, fps), tcFormat=tc_format)
    for m in markers(analysis, preset.edl.kinds):
        child(clip, "marker", start=rational_seconds(source.start + m.frame, fps),
              duration=rational_seconds(m.frames, fps), value=m.name, note=m.note)
    return document(root, "fcpxml")


EXPORTER = Exporter("fcpxml", ".fcpxml", "FCPXML 1.10 markers for Final Cut Pro and Resolve", to_string)
