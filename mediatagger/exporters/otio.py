"""An OpenTimelineIO timeline: one clip referencing the source, a coloured marker per span.

Markers sit in the clip's source time (from the file's own timecode) and carry
``metadata["mediatagger"] = {label, score, track, text}``; the timeline starts at ``edl.start_tc``.
opentimelineio is imported only when this format is written.
"""

from __future__ import annotations

from typing import Any

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.markers import (
    clock,
    markers,
    media_frames,
    media_url,
    otio_color,
    record_clock,
    resolve_color,
)
from mediatagger.files import as_text
from mediatagger.presets import Preset
from mediatagger.timecode import format_rate


def to_string(analysis: Analysis, preset: Preset) -> str:
    import opentimelineio as otio

    return otio.adapters.write_to_string(timeline(analysis, preset), "otio_json") + "\n"


def timeline(analysis: Analysis, preset: Preset) -> Any:
    """The analysis as an OpenTimelineIO Timeline (what the mediatagger OTIO adapter reads it as)."""
    import opentimelineio as otio

    record, source = record_clock(analysis, preset), clock(analysis, "source")
    rate = float(record.fps)

    def time_range(frame: int, frames: int) -> Any:
        return otio.opentime.TimeRange(otio.opentime.RationalTime(frame, rate),
                                       otio.opentime.RationalTime(frames, rate))

    available = time_range(source.start, media_frames(analysis))
    title = as_text(analysis.stem)  # OpenTimelineIO takes only valid Unicode
    clip = otio.schema.Clip(name=title, source_range=available, media_reference=otio.schema.ExternalReference(
        target_url=media_url(analysis), available_range=available))
    for m in markers(analysis, preset.edl.kinds):
        span = m.span
        clip.markers.append(otio.schema.Marker(
            name=m.name, marked_range=time_range(source.start + m.frame, m.frames), comment=m.note,
            color=otio_color(resolve_color(preset, span.label)),
            metadata={"mediatagger": {"label": span.label, "score": span.score, "track": span.track,
                                      "text": m.text}}))
    kind = otio.schema.TrackKind.Video if analysis.source.fps else otio.schema.TrackKind.Audio
    out = otio.schema.Timeline(name=title, global_start_time=otio.opentime.RationalTime(
        record.start, rate), metadata={"mediatagger": {"fps": format_rate(record.fps)}})
    out.tracks.append(otio.schema.Track(name="V1" if analysis.source.fps else "A1", kind=kind, children=[clip]))
    return out


EXPORTER = Exporter("otio", ".otio", "OpenTimelineIO timeline with coloured markers", to_string)
