"""FCPXML timelines in and out (1.8 to 1.11), as OpenTimelineIO objects.

OpenTimelineIO's own FCPXML adapter reads 29.97 as 29 frames a second, reads no ``media-rep``
(1.9+ media paths) and no ``tcStart``, drops marker notes, and cannot read what it writes; so a cut
in FCPXML is read and written here. What is read: the first project's sequence (its format's frame
rate, ``tcStart``, ``tcFormat``), the spine's ``asset-clip``, ``clip`` and ``gap`` items as track V1,
and connected clips (``lane``) as tracks of their own (positive lanes video, negative audio), with
their markers. Spine offsets are in the sequence's timeline, which starts at ``tcStart`` (a timeline
at 01:00:00:00 has its first clip at ``offset="3600s"``); a connected clip's offset is in its parent's
source time; the OpenTimelineIO timeline counts record time from its first frame and keeps
``tcStart`` as ``global_start_time``. What is written: the same, valid against Apple's FCPXML 1.10
DTD, with each clip's markers in its source time (value, note, duration; ``completed`` nowhere).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mediatagger.errors import MediaError, UsageError
from mediatagger.exporters.xmldoc import child, document, rational_seconds
from mediatagger.timecode import MAX_TIME_S, frames_at, parse_fraction, parse_int, parse_rate

DEFAULT_RATE = Fraction(25)
MAX_LANE = 1000   # connected clips' lanes above (+) or below (-) the spine


@dataclass(frozen=True)
class Asset:
    src: str            # media URL as written
    start: Fraction     # seconds: the media's own first frame (its timecode)
    duration: Fraction  # seconds
    video: bool


def seconds(value: str | None, what: str = "an FCPXML time") -> Fraction:
    """FCPXML time (``1001/30000s``, ``3600s``, ``0s``) -> exact seconds, at most ``MAX_TIME_S`` either way;
    else a ``UsageError`` naming ``what`` (the text's form and size checked before any arithmetic)."""
    return parse_fraction(value or "0s", what, max_abs=MAX_TIME_S, suffix="s")


def time_of(element: ET.Element, attribute: str, default: str = "0s") -> Fraction:
    """An element's time attribute in seconds; a duration must not be negative nor a frame duration zero."""
    value = element.get(attribute) or default
    what = f"the {attribute} of {_named(element)}"
    time = seconds(value, what)
    if attribute in ("duration", "frameDuration") and time < 0 or attribute == "frameDuration" and time == 0:
        raise UsageError(f"{what} is {'zero' if time == 0 else 'negative'}: {value!r}")
    return time


def _named(element: ET.Element) -> str:
    """``asset-clip 'Interview'``, ``format r1``: an element as a message names it."""
    name, ref = element.get("name") or element.get("value"), element.get("id")
    return f"{element.tag} {name!r}" if name else f"{element.tag} {ref}" if ref else f"the {element.tag}"


# --- reading ---------------------------------------------------------------------------------

ENTITY_DECLARATIONS = (b"<!ENTITY", "<!ENTITY".encode("utf-16-le"), "<!ENTITY".encode("utf-16-be"))


def brief(exc: BaseException) -> str:
    """A parser's complaint as one short line (some span lines, some quote a whole attribute)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:299] + "…"


def refuse_entities(path: Path) -> None:
    """No XML timeline declares entities; one that does is refused before any parser sees it (so no
    external entity is fetched and no billion-laughs expansion starts, whatever the parser)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MediaError(path, f"cannot read the timeline: {exc.strerror or exc}") from None
    if any(mark in raw for mark in ENTITY_DECLARATIONS):
        raise MediaError(path, "declares XML entities (a DOCTYPE with <!ENTITY ...>), which no timeline needs; "
                               "not read")


def read(path: Path) -> Any:
    """An FCPXML file -> an OpenTimelineIO Timeline; a ``MediaError`` naming the file for anything else."""
    refuse_entities(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError, LookupError, ValueError) as exc:   # LookupError: an unknown encoding
        raise MediaError(path, f"cannot read FCPXML: {brief(exc)}") from None
    if root.tag != "fcpxml":
        raise MediaError(path, "not an FCPXML document")
    try:
        return _timeline(root, path.stem)
    except (ValueError, ZeroDivisionError, KeyError, UsageError) as exc:
        raise MediaError(path, f"malformed FCPXML: {brief(exc)}") from None
    except RecursionError:
        raise MediaError(path, "malformed FCPXML: clips connected to clips too deeply") from None


def _timeline(root: ET.Element, name: str) -> Any:
    import opentimelineio as otio

    formats = {f.get("id"): f for f in root.iter("format")}
    assets = {a.get("id"): _asset(a) for a in root.iter("asset")}
    project = root.find(".//project")
    sequence = project.find("sequence") if project is not None else None
    if sequence is None or sequence.find("spine") is None:
        raise ValueError("no project with a sequence and a spine")
    fmt = formats.get(sequence.get("format"))
    rate = parse_rate(1 / time_of(fmt, "frameDuration")) if fmt is not None and fmt.get("frameDuration") \
        else DEFAULT_RATE
    timeline = otio.schema.Timeline(name=project.get("name") or name if project is not None else name,
                                    global_start_time=_time(time_of(sequence, "tcStart"), rate),
                                    metadata={"fcpxml": {"tcFormat": sequence.get("tcFormat") or "NDF"}})
    tracks: dict[int, list[tuple[Fraction, Any]]] = {0: []}
    spine = sequence.find("spine")
    assert spine is not None
    items = [item for item in spine if item.tag in ("asset-clip", "clip", "gap", "ref-clip")]
    origin = spine_origin(time_of(sequence, "tcStart"), [time_of(item, "offset") for item in items])
    for item in items:
        _place(item, Fraction(0), origin, 0, assets, rate, tracks)
    for lane in sorted(tracks, key=lambda n: (n < 0, abs(n))):
        kind = otio.schema.TrackKind.Audio if lane < 0 else otio.schema.TrackKind.Video
        name = f"A{-lane}" if lane < 0 else f"V{lane + 1}"
        timeline.tracks.append(_track(name, kind, tracks[lane], rate))
    return timeline


def spine_origin(tc_start: Fraction, offsets: list[Fraction]) -> Fraction:
    """The time of the timeline's first frame on the spine's clock, from which record time counts.

    A spine item's ``offset`` is in its parent's timeline, and a sequence's timeline starts at its
    ``tcStart``: Final Cut Pro and Resolve put the first item of a timeline that starts at 01:00:00:00 at
    ``offset="3600s"``. A spine that starts before ``tcStart`` cannot be read so (nothing sits before the
    timeline's first frame): it was written counting from 0, as mediatagger's own tagged cuts were before
    this was fixed and some other tools' are, and is read so."""
    return tc_start if all(offset >= tc_start for offset in offsets) else Fraction(0)


def _asset(element: ET.Element) -> Asset:
    rep = element.find("media-rep")
    src = rep.get("src") if rep is not None else element.get("src")
    return Asset(src or "", time_of(element, "start"), time_of(element, "duration"), element.get("hasVideo") == "1")


def _place(item: ET.Element, parent_offset: Fraction, parent_start: Fraction, lane: int,
           assets: dict[str | None, Asset], rate: Fraction, tracks: dict[int, list[tuple[Fraction, Any]]]) -> None:
    """``item`` at its record time (a connected clip's offset is in its parent's source time)."""
    record = parent_offset + time_of(item, "offset") - parent_start
    if lane == 0 and item.get("lane"):
        lane = parse_int(item.get("lane", "0"), f"the lane of {_named(item)}", max_abs=MAX_LANE)
    if item.tag != "gap":
        tracks.setdefault(lane, []).append((record, _clip(item, assets, rate)))
    start = time_of(item, "start")
    for connected in item:
        if connected.get("lane") and connected.tag in ("asset-clip", "clip", "ref-clip"):
            _place(connected, record, start, 0, assets, rate, tracks)


def _clip(item: ET.Element, assets: dict[str | None, Asset], rate: Fraction) -> Any:
    import opentimelineio as otio

    ref = item.get("ref") or next((e.get("ref") for e in item.iter() if e.tag in ("video", "audio") and e.get("ref")),
                                  None)
    asset = assets.get(ref)
    if asset is None:
        media = otio.schema.MissingReference(name=item.get("name") or "")
    else:
        media = otio.schema.ExternalReference(target_url=asset.src, available_range=otio.opentime.TimeRange(
            _time(asset.start, rate), _time(asset.duration, rate)))
    clip = otio.schema.Clip(name=item.get("name") or "", media_reference=media, source_range=otio.opentime.TimeRange(
        _time(time_of(item, "start"), rate), _time(time_of(item, "duration"), rate)))
    for marker in item.findall("marker"):
        clip.markers.append(otio.schema.Marker(
            name=marker.get("value") or "", comment=marker.get("note") or "",
            marked_range=otio.opentime.TimeRange(_time(time_of(marker, "start"), rate),
                                                 _time(time_of(marker, "duration"), rate))))
    return clip


def _track(name: str, kind: str, placed: list[tuple[Fraction, Any]], rate: Fraction) -> Any:
    """Clips at their record times, with gaps between them."""
    import opentimelineio as otio

    track = otio.schema.Track(name=name, kind=kind)
    cursor = Fraction(0)
    for record, clip in sorted(placed, key=lambda rc: rc[0]):
        if record > cursor:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                _time(Fraction(0), rate), _time(record - cursor, rate))))
        track.append(clip)
        cursor = record + Fraction(clip.source_range.duration.value) / rate
    return track


def _time(value: Fraction, rate: Fraction) -> Any:
    """Seconds -> RationalTime in frames at ``rate`` (FCPXML times lie on the frame grid). Exact: times are at
    most ``MAX_TIME_S``, so the frame count is a whole number below 2**53, which OpenTimelineIO's double holds."""
    import opentimelineio as otio

    return otio.opentime.RationalTime(round(value * rate), float(rate))


def media_path(url: str) -> str:
    """``file:///a%20b.mov`` or ``file://localhost/...`` -> ``/a b.mov``; anything else as it is."""
    parsed = urlparse(url)
    return unquote(parsed.path, errors="surrogateescape") if parsed.scheme == "file" else url


# --- writing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Placed:
    clip: Any
    lane: int
    record: int   # frames from the timeline's first
    source: int   # frames from the media's first (its timecode included)
    frames: int


def write(timeline: Any, rate: Fraction, size: tuple[int, int], drop: bool,
          media: dict[str, tuple[int, int, bool]]) -> str:
    """The timeline as FCPXML 1.10. ``media``: each clip's target URL -> (first frame of its own
    timecode, frames, has video), at ``rate``."""
    root = ET.Element("fcpxml", version="1.10")
    resources = child(root, "resources")
    child(resources, "format", id="r1", frameDuration=rational_seconds(1, rate), width=str(size[0]),
          height=str(size[1]))
    ids = {url: f"r{n}" for n, url in enumerate(media, 2)}
    for url, (start, frames, video) in media.items():
        asset = child(resources, "asset", id=ids[url], name=Path(media_path(url)).stem,
                      start=rational_seconds(start, rate), duration=rational_seconds(frames, rate),
                      hasVideo="1" if video else "0", hasAudio="1", format="r1")
        child(asset, "media-rep", kind="original-media", src=url)
    placed = list(_placed(timeline, rate, media))
    end = max((p.record + p.frames for p in placed), default=0)
    event = child(child(root, "library"), "event", name="mediatagger")
    tc_start = frames_at(timeline.global_start_time, rate) if timeline.global_start_time else 0
    sequence = child(child(event, "project", name=timeline.name or "timeline"), "sequence", format="r1",
                     duration=rational_seconds(end, rate), tcStart=rational_seconds(tc_start, rate),
                     tcFormat="DF" if drop else "NDF")
    _spine(child(sequence, "spine"), placed, end, rate, ids, tc_start)
    return document(root, "fcpxml")


def _placed(timeline: Any, rate: Fraction, media: dict[str, tuple[int, int, bool]]) -> Iterator[Placed]:
    """Every clip with media among ``media``, on its lane: V1 is the spine (0), tracks above it 1, 2,
    ..., audio tracks -1, -2, ... (less audio clips linked to a video clip)."""
    import opentimelineio as otio

    video = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    audio = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]
    lanes = [(t, n) for n, t in enumerate(video)] + [(t, -(n + 1)) for n, t in enumerate(audio)]
    shown = set()
    for track, lane in lanes:
        for clip in track.find_clips(shallow_search=True):
            url = getattr(clip.media_reference, "target_url", None)
            if url not in media:
                continue
            record = frames_at(clip.range_in_parent().start_time, rate)
            source = frames_at(clip.source_range.start_time, rate)
            placed = Placed(clip, lane, record, source, frames_at(clip.source_range.duration, rate))
            where = (url, record, source, placed.frames)
            if lane >= 0:
                shown.add(where)
            elif where in shown:   # a video clip's own sound: its asset-clip holds it
                continue
            yield placed


def _spine(spine: ET.Element, placed: list[Placed], end: int, rate: Fraction, ids: dict[str, str],
           tc_start: int) -> None:
    """The spine: V1's clips with gaps between, at offsets in the sequence's timeline (which starts at
    ``tc_start``); every other clip connected to the spine item it starts in, at an offset in that item's
    source time."""
    items: list[tuple[int, int, ET.Element, int]] = []   # record start, frames, element, its source start
    cursor = 0
    for p in sorted((p for p in placed if p.lane == 0), key=lambda p: p.record):
        if p.record > cursor:
            items.append((cursor, p.record - cursor, _gap(spine, tc_start + cursor, p.record - cursor, rate), 0))
        items.append((p.record, p.frames, _asset_clip(spine, p, tc_start + p.record, rate, ids), p.source))
        cursor = p.record + p.frames
    if cursor < end or not items:
        length = max(1, end - cursor)
        items.append((cursor, length, _gap(spine, tc_start + cursor, length, rate), 0))
    for p in (p for p in placed if p.lane != 0):
        start, _, parent, parent_source = next((i for i in reversed(items) if i[0] <= p.record), items[0])
        clip = _asset_clip(parent, p, parent_source + p.record - start, rate, ids)
        clip.set("lane", str(p.lane))
        parent.remove(clip)
        _connect(parent, clip)


def _connect(parent: ET.Element, clip: ET.Element) -> None:
    """A connected clip goes before its parent's markers: the DTD's order."""
    markers = [n for n, e in enumerate(parent) if e.tag == "marker"]
    parent.insert(markers[0] if markers else len(parent), clip)


def _gap(spine: ET.Element, offset: int, frames: int, rate: Fraction) -> ET.Element:
    return child(spine, "gap", name="Gap", offset=rational_seconds(offset, rate), start="0s",
                 duration=rational_seconds(frames, rate))


def _asset_clip(parent: ET.Element, p: Placed, offset: int, rate: Fraction, ids: dict[str, str]) -> ET.Element:
    element = child(parent, "asset-clip", ref=ids[p.clip.media_reference.target_url], name=p.clip.name or "clip",
                    offset=rational_seconds(offset, rate), start=rational_seconds(p.source, rate),
                    duration=rational_seconds(p.frames, rate))
    for marker in p.clip.markers:
        start = frames_at(marker.marked_range.start_time, rate)
        frames = max(1, frames_at(marker.marked_range.duration, rate))
        child(element, "marker", start=rational_seconds(start, rate), duration=rational_seconds(frames, rate),
              value=marker.name or "marker", note=marker.comment or "")
    return element
