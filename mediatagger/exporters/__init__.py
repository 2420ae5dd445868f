"""Text formats, one module each, all behind ``EXPORTERS``.

An exporter reads only the Analysis document and gives a string (``to_string(analysis, preset)``);
the file it is written to is ``OUT/<stem><suffix>``. Rendering raises the typed error of anything
the format cannot hold (a start timecode that does not fit the rate), so every string can be made
before any file is written. Nothing here runs ffmpeg or knows the media jobs: clips and reels are
``mediatagger.clips``, and ``mediatagger.outputs`` is the one registry over both kinds.
"""

from __future__ import annotations

from mediatagger.errors import UnknownChoiceError
from mediatagger.exporters import (
    ass,
    chapters,
    csv,
    edl,
    edl_loc,
    fcpxml,
    json,
    kdenlive,
    otio,
    shotcut,
    srt,
    vtt,
    xmeml,
)
from mediatagger.exporters.base import Exporter

__all__ = ["EXPORTERS", "Exporter", "get_exporter"]

EXPORTERS: dict[str, Exporter] = {e.name: e for e in (
    json.EXPORTER, ass.EXPORTER, srt.EXPORTER, vtt.EXPORTER, edl.EXPORTER, edl_loc.EXPORTER, fcpxml.EXPORTER,
    xmeml.EXPORTER, otio.EXPORTER, csv.EXPORTER, shotcut.EXPORTER, kdenlive.EXPORTER, chapters.EXPORTER)}


def get_exporter(name: str) -> Exporter:
    """The text format called ``name``; ``UnknownChoiceError`` listing them otherwise."""
    try:
        return EXPORTERS[name]
    except KeyError:
        raise UnknownChoiceError("text format", name, list(EXPORTERS)) from None
