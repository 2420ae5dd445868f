"""FCPXML 1.10 for Final Cut Pro and DaVinci Resolve: the source as an asset-clip with a marker per span.

Times are rational seconds on the frame grid (``120120/30000s``). A marker's ``start`` is in the
clip's source time, which begins at the file's own timecode (zero when it has none); the
sequence starts at ``edl.start_tc``. ``value`` is the label's name (Music), ``note`` what was said
and the score.

For Final Cut's browser, which editors search by keyword: the event holds the source as a clip of its
own, with a keyword range per event span (Laughter, Applause, Music...: a keyword collection each, listed
in the event) and a marker per emotion span; the timeline's clip carries the same keyword ranges. Both
carry a chapter marker at each clip of the highlight reel (``clips:`` of the preset), named by its rank
and labels. Validated against Apple's DTD in the tests; OpenTimelineIO's FCPXML reader reads the keywords.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from mediatagger import highlights, tags
from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.markers import clock, fps_of, markers, media_frames, media_url, record_clock
from mediatagger.exporters.text import one_line
from mediatagger.exporters.xmldoc import child, document, rational_seconds
from mediatagger.presets import Preset
from mediatagger.timecode import ms_to_frame

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
    planned = highlights.plan(analysis, preset.clips)   # the reel's clips, for both clips' chapter markers
    browser_clip(analysis, planned, event, source.start, frames, tc_format)
    sequence = child(child(event, "project", name=analysis.stem), "sequence", format="r1",
                     duration=rational_seconds(frames, fps), tcStart=rational_seconds(record.start, fps),
                     tcFormat=tc_format)
    clip = child(child(sequence, "spine"), "asset-clip", ref="r2", name=analysis.stem,
                 offset=rational_seconds(record.start, fps), start=rational_seconds(source.start, fps),
                 duration=rational_seconds(frames, fps), tcFormat=tc_format)
    for m in markers(analysis, preset.edl.kinds):
        child(clip, "marker", start=rational_seconds(source.start + m.frame, fps),
              duration=rational_seconds(m.frames, fps), value=m.name, note=m.note)
    keywords(analysis, clip, source.start, frames)
    chapters(analysis, planned, clip, source.start, frames)
    return document(root, "fcpxml")


def browser_clip(analysis: Analysis, planned: list[highlights.Clip], event: ET.Element, start: int, frames: int,
                 tc_format: str) -> None:
    """The source as a clip of the event: its keyword collections, keyword ranges, emotion markers and
    reel chapters, for Final Cut's browser."""
    fps = fps_of(analysis)
    for name in dict.fromkeys(keyword_of(s.label) for s in analysis.spans("events")):
        child(event, "keyword-collection", name=name)
    clip = child(event, "asset-clip", ref="r2", name=analysis.stem, start=rational_seconds(start, fps),
                 duration=rational_seconds(frames, fps), tcFormat=tc_format)
    for m in markers(analysis, ("emotions",)):
        child(clip, "marker", start=rational_seconds(start + m.frame, fps), duration=rational_seconds(m.frames, fps),
              value=m.name, note=m.note)
    keywords(analysis, clip, start, frames)
    chapters(analysis, planned, clip, start, frames)


def keyword_of(label: str) -> str:
    """A label's name as a keyword (keywords are a comma list in FCPXML: no comma in one)."""
    return one_line(tags.label_name(label).replace(",", " "))


def keywords(analysis: Analysis, clip: ET.Element, start: int, frames: int) -> None:
    """A keyword range per event span, on the frames it covers (at least one)."""
    fps = fps_of(analysis)
    for span in sorted(analysis.spans("events")):
        first, last = frame_range(span.start_ms, span.end_ms, fps, frames)
        child(clip, "keyword", start=rational_seconds(start + first, fps), duration=rational_seconds(last - first, fps),
              value=keyword_of(span.label), note=f"score {span.score:.2f}" if span.score is not None else "")


def chapters(analysis: Analysis, planned: list[highlights.Clip], clip: ET.Element, start: int, frames: int) -> None:
    """A chapter marker at each clip of the highlight reel (``planned``), in reel order."""
    fps = fps_of(analysis)
    for rank, one in enumerate(planned, 1):
        first, _ = frame_range(one.start_ms, one.end_ms, fps, frames)
        names = ", ".join(dict.fromkeys(keyword_of(s.label) for s in one.spans))
        child(clip, "chapter-marker", start=rational_seconds(start + first, fps),
              duration=rational_seconds(1, fps), value=f"Highlight {rank}: {names}",
              note=f"{one.duration_ms / 1000:.1f} s, rank {one.rank:.2f}")


def frame_range(start_ms: int, end_ms: int, fps: Fraction, frames: int) -> tuple[int, int]:
    """The frames from the one on screen at ``start_ms`` to the one at ``end_ms``, inside the media."""
    first = min(ms_to_frame(start_ms, fps), frames - 1)
    return first, min(frames, max(first + 1, ms_to_frame(end_ms, fps)))


EXPORTER = Exporter("fcpxml", ".fcpxml", "FCPXML 1.10 markers for Final Cut Pro and Resolve", to_string)
