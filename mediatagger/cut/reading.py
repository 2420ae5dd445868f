"""A cut read: its clips as ``Piece``s of their media (found where the timeline says, beside it, or
under a media root), on the record frames where they sit; the timeline's rate, start and drop-frame."""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from mediatagger import analysis as document
from mediatagger import media
from mediatagger.errors import MediaError, MediaTaggerError, UnknownChoiceError, UsageError
from mediatagger.exporters import markers
from mediatagger.media import MediaInfo
from mediatagger.timecode import AUDIO_ONLY_FPS, frames_at, rate_of

FORMATS = {".fcpxml": "fcpxml", ".xml": "xmeml", ".edl": "edl", ".otio": "otio", ".kdenlive": "kdenlive"}
ADAPTERS = {"xmeml": "fcp_xml", "edl": "cmx_3600", "otio": "otio_json", "kdenlive": "kdenlive"}
CLIP_FORMATS = ("fcpxml", "xmeml", "otio", "kdenlive")          # the timeline, markers on its clips
RECORD_FORMATS = ("edl", "edl-loc", "csv", "ass", "srt", "vtt")  # the cut as one file, markers in record time
OUTPUTS = CLIP_FORMATS + RECORD_FORMATS
TAGGED = ".tagged"  # outputs are <cut>.tagged.<ext>: never the editor's own file
EDL_PROBE_RATE = 25  # an EDL names no rate: read at this to find its media, then at the media's


@dataclass(frozen=True)
class Piece:
    clip: str          # the clip's name, for messages
    track: str         # the track's name (V1, A1, ...)
    video: bool        # on a video track
    media: Path
    rate: Fraction     # the clip's source rate
    source: int        # first frame used, from the media's first frame, at ``rate``
    frames: int        # frames used, at ``rate``
    record: int        # first frame on the timeline, from the timeline's first, at the timeline's rate
    key: int           # the clip's place among ``clips(timeline)``


@dataclass(frozen=True)
class Cut:
    path: Path
    kind: str                       # the input's format (a key of ADAPTERS, or fcpxml)
    fps: Fraction                   # the timeline's rate
    start: int                      # the timeline's first frame number (its start timecode)
    drop: bool                      # the timeline counts drop-frame timecode
    pieces: tuple[Piece, ...]
    infos: dict[Path, MediaInfo] = field(compare=False)
    timeline: Any = field(compare=False)   # the OpenTimelineIO Timeline as read
    warnings: tuple[str, ...] = ()

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def frames(self) -> int:
        """The timeline's length: to the end of its last piece."""
        return max((p.record + self.record_frames(p, p.frames) for p in self.pieces), default=0)

    def record_frames(self, piece: Piece, source_frames: int) -> int:
        """``source_frames`` of ``piece`` in timeline frames (the same number when the rates agree)."""
        return math.floor(Fraction(source_frames) * self.fps / piece.rate)


def kind_of(path: Path) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UnknownChoiceError("timeline format", path.suffix or path.name, FORMATS)
    return kind


# --- reading ---------------------------------------------------------------------------------

def load_timeline(path: Path, kind: str, rate: Fraction | None = None) -> Any:
    """The file as an OpenTimelineIO Timeline (the first one, for files that hold several)."""
    import opentimelineio as otio

    from mediatagger import fcpxml_timeline

    media.check_input(path)
    if kind == "fcpxml":
        return fcpxml_timeline.read(path)
    if kind in ("xmeml", "kdenlive"):
        fcpxml_timeline.refuse_entities(path)
    args = {}
    if kind == "edl":   # ; timecode needs a drop-frame rate even to be read
        args["rate"] = float(rate or (Fraction(30000, 1001) if counts_drop(path, kind, None) else EDL_PROBE_RATE))
    try:
        found = otio.adapters.read_from_file(str(path), ADAPTERS[kind], **args)
    except Exception as exc:  # noqa: BLE001 - adapters raise anything; every failure is this file's
        raise MediaError(path, f"cannot read the timeline: {type(exc).__name__}: {fcpxml_timeline.brief(exc)}") \
            from None
    timelines = [found] if isinstance(found, otio.schema.Timeline) else \
        list(found.find_children(descended_from_type=otio.schema.Timeline)) if hasattr(found, "find_children") else []
    if not timelines:
        raise MediaError(path, "holds no timeline")
    return timelines[0]


def clips(timeline: Any) -> list[tuple[Any, Any]]:
    """(track, clip) for every clip directly on a track, video tracks first."""
    import opentimelineio as otio

    tracks = sorted(timeline.tracks, key=lambda t: t.kind != otio.schema.TrackKind.Video)
    return [(track, clip) for track in tracks for clip in track.find_clips(shallow_search=True)]


def media_name(clip: Any, kind: str = "") -> str:
    """What the clip says its media file is: its URL or path, or (in a CMX EDL, which names no files)
    its name; nothing for titles, generators and compound clips."""
    from mediatagger.fcpxml_timeline import media_path

    url = getattr(clip.media_reference, "target_url", None)
    return media_path(url) if url else clip.name if kind == "edl" else ""


def find_media(name: str, base: Path, media_root: Path | None) -> Path | None:
    """``name`` as it is, or beside the timeline, or by its file name under ``media_root`` (searched
    to any depth)."""
    if not name:
        return None
    given = Path(name)
    for candidate in ([given] if given.is_absolute() else [base / given]):
        if candidate.is_file():
            return candidate.resolve()
    if media_root is not None:
        found = [Path(folder) / given.name for folder, _, names in os.walk(media_root) if given.name in names]
        tails = {p: tail(p, given) for p in found}
        best = max(tails.values(), default=0)
        chosen = [p for p in found if tails[p] == best]
        if len(chosen) == 1:
            return chosen[0].resolve()
    return None


def tail(found: Path, given: Path) -> int:
    """How many trailing path parts ``found`` shares with ``given`` (the file name at least)."""
    n = 0
    for a, b in zip(reversed(found.parts), reversed(given.parts)):
        if a != b:
            break
        n += 1
    return n


def resolve_media(path: Path, timeline: Any, media_root: Path | None, kind: str = "") -> dict[int, Path]:
    """Each clip's media file (by the clip's place in ``clips``); every missing one named at once."""
    found: dict[int, Path] = {}
    missing: dict[str, str] = {}
    for key, (_, clip) in enumerate(clips(timeline)):
        name = media_name(clip, kind)
        if not name:
            continue
        where = find_media(name, path.parent, media_root)
        if where is None:
            missing.setdefault(name, clip.name or name)
        else:
            found[key] = where
    if missing:
        listed = "; ".join(f"{Path(name).name} (clip {clip!r})" for name, clip in missing.items())
        raise MediaError(path, f"{len(missing)} media file{'s' if len(missing) > 1 else ''} not found: {listed}",
                         hint="give the folder the media moved to with {media_root}")
    return found


def read(path: Path | str, media_root: Path | str | None = None, fps: Fraction | None = None) -> Cut:
    """The cut in ``path`` with its media found and probed (a CMX EDL at ``fps``, else at the rate of
    its first media file)."""
    path = Path(path)
    kind = kind_of(path)
    root = Path(media_root) if media_root is not None else None
    timeline = load_timeline(path, kind, fps)
    found = resolve_media(path, timeline, root, kind)
    infos = {p: media.with_frame_count(media.probe(p)) for p in dict.fromkeys(found.values())}
    if kind == "edl" and fps is None and infos:
        timeline = load_timeline(path, kind, next(iter(infos.values())).fps or AUDIO_ONLY_FPS)
    try:
        rate = timeline_rate(timeline, path)
        pieces, warnings = place(timeline, found, infos, rate, kind)
        start = frames_at(timeline.global_start_time, rate) if timeline.global_start_time is not None else \
            edl_start(timeline, path, rate) if kind == "edl" else 0
    except UsageError as exc:   # a rate or a time of the file's that counts no frames (0 fps, NaN)
        raise MediaError(path, f"malformed timeline: {exc.message}") from None
    if kind == "edl":   # its pieces' record frames were the EDL's own timecode: from the cut's start now
        pieces = [replace(p, record=p.record - start) for p in pieces]
    return Cut(path, kind, rate, start, counts_drop(path, kind, timeline), tuple(pieces), infos, timeline,
               tuple(warnings))


def timeline_rate(timeline: Any, path: Path) -> Fraction:
    """The rate of the timeline's start time, else of its first clip's place on its track."""
    if timeline.global_start_time is not None:
        return rate_of(timeline.global_start_time.rate)
    for clip in timeline.find_clips():
        return rate_of(clip.range_in_parent().duration.rate)
    raise MediaError(path, "the timeline has no clips")


EDL_EVENT = re.compile(r"^\d{3}\s+\S+\s+\S+\s+\S+\s+(?:\d+\s+)?\S+\s+\S+\s+(\d\d:\d\d:\d\d[:;]\d\d)\s",
                       re.MULTILINE)


def edl_start(timeline: Any, path: Path, rate: Fraction) -> int:
    """An EDL's first record timecode as a frame count: where its timeline starts. OpenTimelineIO's
    reader keeps no start; it starts each track at its own first event, the offset in the track's
    ``source_range`` (negated), and keeps none on a track whose first event is at 00:00:00:00."""
    from mediatagger.timecode import tc_to_frames

    if any(t.source_range is not None for t in timeline.tracks):
        return min(record_offset(t, rate) for t in timeline.tracks)
    try:
        found = EDL_EVENT.search(path.read_text(encoding="utf-8", errors="replace"))
        return tc_to_frames(found.group(1), rate, ";" in found.group(1)) if found else 0
    except (OSError, MediaTaggerError):
        return 0


def counts_drop(path: Path, kind: str, timeline: Any) -> bool:
    """Whether the editor counts the timeline's timecode drop-frame, as its file says."""
    if kind == "fcpxml":
        return timeline.metadata.get("fcpxml", {}).get("tcFormat") == "DF"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if kind == "xmeml":   # the sequence's own timecode, not its files'
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return False
        shown = root.find(".//sequence/timecode/displayformat")
        return shown is not None and (shown.text or "").strip() == "DF"
    if kind != "edl":
        return False
    fcm = re.search(r"^FCM:\s*(NON-)?DROP FRAME", text, re.MULTILINE)
    return not fcm.group(1) if fcm else any(";" in tc for tc in EDL_EVENT.findall(text))


def place(timeline: Any, found: dict[int, Path], infos: dict[Path, MediaInfo],
          rate: Fraction, kind: str = "") -> tuple[list[Piece], list[str]]:
    """The pieces of the timeline, and a warning for each clip left out."""
    import opentimelineio as otio

    pieces, warnings = [], []
    for track in timeline.tracks:
        for nested in (c for c in track if isinstance(c, otio.schema.Stack)):
            warnings.append(f"nested clip {nested.name!r} on {track.name or track.kind}: no markers inside it")
    for key, (track, clip) in enumerate(clips(timeline)):
        if not clip.enabled:
            continue
        if key not in found:
            warnings.append(f"clip {clip.name!r} on {track.name or track.kind}: no media file (a title, "
                            "generator or compound clip); no markers on it")
            continue
        warped = [e for e in clip.effects if isinstance(e, otio.schema.TimeEffect)
                  and not (isinstance(e, otio.schema.LinearTimeWarp) and e.time_scalar == 1)]
        if warped:
            warnings.append(f"clip {clip.name!r} on {track.name or track.kind}: speed change or reversed; "
                            "no markers on it")
            continue
        pieces.append(piece(key, track, clip, found[key], infos[found[key]], rate,
                            record_offset(track, rate) if kind == "edl" else 0))
    return unlinked(pieces), warnings


def record_offset(track: Any, rate: Fraction) -> int:
    """Where an EDL track's record time starts (OpenTimelineIO's reader starts each at its first event)."""
    return -frames_at(track.source_range.start_time, rate) if track.source_range is not None else 0


def piece(key: int, track: Any, clip: Any, path: Path, info: MediaInfo, rate: Fraction, offset: int = 0) -> Piece:
    """The clip as a Piece; ``offset``: its track's record start (EDLs), made relative in ``read``."""
    import opentimelineio as otio

    used = clip.trimmed_range()
    source_rate = rate_of(used.start_time.rate)
    available = getattr(clip.media_reference, "available_range", None)
    if available is not None:
        media_start = frames_at(available.start_time, source_rate)
    elif info.start_timecode:   # an EDL gives source timecode: the media's own comes from the file
        media_start = round(markers.clock(document.bare(info), "source").start / (info.fps or AUDIO_ONLY_FPS)
                            * source_rate)
    else:
        media_start = 0
    return Piece(clip.name or path.name, track.name or track.kind, track.kind == otio.schema.TrackKind.Video,
                 path, source_rate, frames_at(used.start_time, source_rate) - media_start,
                 frames_at(used.duration, source_rate),
                 frames_at(clip.range_in_parent().start_time, rate) + offset, key)


def unlinked(pieces: list[Piece]) -> list[Piece]:
    """The pieces less audio pieces that only carry a video piece's sound."""
    shown = {(p.media, p.source, p.frames, p.record) for p in pieces if p.video}
    return [p for p in pieces if p.video or (p.media, p.source, p.frames, p.record) not in shown]
