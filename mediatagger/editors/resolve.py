"""DaVinci Resolve: markers on the current timeline through Resolve's scripting API.

Resolve cannot run here, so its glue is kept thin (``add_markers``: read the timeline's clips, call
``Timeline.AddMarker``) and everything it computes goes through the tested cut code: the clips
become ``cut.Piece``s and the markers are those of the cut's record time (``cut.on_record``), the
very ones ``mediatagger timeline CUT --to edl`` writes. Install: copy ``resolve_script.py`` (see
``script_path``) into Resolve's ``Fusion/Scripts/Edit`` folder; run it from Workspace > Scripts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from mediatagger import cut, files
from mediatagger.analysis import Analysis
from mediatagger.exporters import markers
from mediatagger.presets import Preset
from mediatagger.timecode import parse_rate


@dataclass(frozen=True)
class Item:
    """A timeline clip as Resolve's API gives it (frames at the timeline's rate)."""

    name: str
    path: Path          # GetMediaPoolItem().GetClipProperty("File Path")
    track: str          # "V1", "A2"
    start: int          # GetStart(): record frame, on the timeline's own count (from its start timecode)
    left_offset: int    # GetLeftOffset(): first source frame used
    duration: int       # GetDuration()


@dataclass(frozen=True)
class ResolveMarker:
    """The arguments of ``Timeline.AddMarker(frameId, color, name, note, duration, customData)``."""

    frame: int          # from the timeline's first frame
    color: str
    name: str
    note: str
    duration: int
    custom: str         # the label, to find our markers again


def pieces(items: Iterable[Item], fps: Fraction, start: int) -> list[cut.Piece]:
    out = [cut.Piece(i.name, i.track, i.track.upper().startswith("V"), i.path, fps, i.left_offset, i.duration,
                     i.start - start, n) for n, i in enumerate(items)]
    return cut.unlinked(out)


def timeline_markers(items: Iterable[Item], analyses: dict[Path, Analysis], fps: Fraction, start: int,
                     preset: Preset) -> list[ResolveMarker]:
    """Every span on screen in the timeline, on its record frame, with the marker EDL's colours and notes."""
    placed = pieces(items, fps, start)
    infos = {p.media: analyses[p.media].source for p in placed}
    whole = cut.Cut(Path("resolve-timeline"), "resolve", fps, start, False, tuple(placed), infos, None)
    record = cut.on_record(whole, analyses)
    return [ResolveMarker(m.frame, markers.resolve_color(preset, m.span.label), m.name, m.note, m.frames,
                          f"mediatagger:{m.span.label}") for m in markers.markers(record, preset.edl.kinds)]


def script_path() -> Path:
    """The script to copy into Resolve's Scripts/Edit folder."""
    return Path(__file__).with_name("resolve_script.py")


def add_markers(resolve: Any, out_dir: Path | str, preset: str = "default", model: str | None = None) -> int:
    """Tag the current timeline's media and add a marker per span; returns the markers added. The
    thin part: only Resolve API calls and the mediatagger API."""
    from mediatagger import api

    timeline = resolve.GetProjectManager().GetCurrentProject().GetCurrentTimeline()
    fps = parse_rate(timeline.GetSetting("timelineFrameRate"))
    items = []
    for kind in ("video", "audio"):
        for index in range(1, int(timeline.GetTrackCount(kind)) + 1):
            for item in timeline.GetItemListInTrack(kind, index) or []:
                pool = item.GetMediaPoolItem()
                path = pool.GetClipProperty("File Path") if pool else ""
                if path:
                    items.append(Item(item.GetName(), Path(path), f"{kind[0].upper()}{index}", int(item.GetStart()),
                                      int(item.GetLeftOffset()), int(item.GetDuration())))
    tagger = api.Tagger(preset, model=model)
    out = Path(out_dir)
    paths = list(dict.fromkeys(i.path for i in items))
    analyses = {}
    for path, written in tagger.run_all(paths, out, ["json"]):
        if isinstance(written, Exception):
            raise written
        analyses[path] = api.load(out / f"{files.output_stem(path)}.analysis.json")
    added = 0
    for m in timeline_markers(items, analyses, fps, int(timeline.GetStartFrame()), tagger.preset):
        added += bool(timeline.AddMarker(m.frame, m.color, m.name, m.note, m.duration, m.custom))
    return added



