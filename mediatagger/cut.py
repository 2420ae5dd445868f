"""The editor's cut: a timeline an NLE exported, its media tagged once each, written back with markers.

    cut = read("cut.fcpxml", media_root=None)       # -> Cut; a MediaError lists every missing file
    analyses = tag(cut, tagger, "out")               # each media file once; analyses in "out" reused
    text = render(cut, analyses, "fcpxml", preset)   # the same timeline, a marker per span on each clip

A cut is read with OpenTimelineIO's adapters (FCP7 XML, CMX EDL, OTIO, Kdenlive) or, for FCPXML,
with ``fcpxml_timeline``. Each clip becomes a ``Piece``: which media, which frames of it (source
frames, counted from the media's first frame at the clip's rate) and where they sit on the
timeline (record frames). A span shows in a piece where its frames overlap the piece's; it lands
on the record frame where its first visible frame is on screen. Clips with a speed change or
reversed (time warps) are left out with a warning naming them; transitions overlap clips in
OpenTimelineIO without moving them, so they shift nothing. An audio clip linked to a video clip
(same media, same frames, same place) is the video clip's sound and is not counted twice.

Outputs: ``CLIP_FORMATS`` carry the whole timeline with markers on its clips (source time);
``RECORD_FORMATS`` are the single-file marker formats made from an Analysis of the whole cut in
record time (``on_record``), so they look and import exactly as a single file's do.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from mediatagger import analysis as document
from mediatagger import files, media
from mediatagger.analysis import Analysis, Segment, TrackResult, Word
from mediatagger.errors import MediaError, MediaTaggerError, UnknownChoiceError, UsageError
from mediatagger.exporters import EXPORTERS, markers
from mediatagger.media import MediaInfo
from mediatagger.presets import Preset
from mediatagger.timecode import AUDIO_ONLY_FPS, frame_to_ms, frames_at, frames_to_tc, ms_to_frame, rate_of
from mediatagger.timeline import Span

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
        media_start = round(markers.clock(document_of(info), "source").start / (info.fps or AUDIO_ONLY_FPS)
                            * source_rate)
    else:
        media_start = 0
    return Piece(clip.name or path.name, track.name or track.kind, track.kind == otio.schema.TrackKind.Video,
                 path, source_rate, frames_at(used.start_time, source_rate) - media_start,
                 frames_at(used.duration, source_rate),
                 frames_at(clip.range_in_parent().start_time, rate) + offset, key)


def document_of(info: MediaInfo) -> Analysis:
    """A bare Analysis of ``info`` (to count its timecode as the exporters do)."""
    return Analysis(info, document.ModelInfo("", "", "", False))


def unlinked(pieces: list[Piece]) -> list[Piece]:
    """The pieces less audio pieces that only carry a video piece's sound."""
    shown = {(p.media, p.source, p.frames, p.record) for p in pieces if p.video}
    return [p for p in pieces if p.video or (p.media, p.source, p.frames, p.record) not in shown]


# --- tagging ---------------------------------------------------------------------------------

def analysis_dirs(cut: Cut, out_dir: Path) -> dict[Path, Path]:
    """Where each media file's analysis goes: ``out_dir``, or a numbered subfolder when two media
    files share a name."""
    out: dict[Path, Path] = {}
    stems: dict[str, int] = {}
    for path in dict.fromkeys(p.media for p in cut.pieces):
        n = stems.setdefault(path.stem, 0)
        stems[path.stem] = n + 1
        out[path] = out_dir if n == 0 else out_dir / f"media-{n + 1}"
    return out


def tag(cut: Cut, run_all: Callable[[list[Path], list[Path]], Iterable[tuple[Path, Any]]],
        out_dir: Path) -> dict[Path, Analysis]:
    """Each media file of the cut analysed once (``run_all``: ``Tagger.run_all``, which reuses the
    analyses already in the folder); the first failure raised."""
    dirs = analysis_dirs(cut, out_dir)
    done = {}
    for path, written in run_all(list(dirs), [dirs[p] for p in dirs]):
        if isinstance(written, MediaTaggerError):
            raise written
        done[path] = document.load(dirs[path] / f"{files.output_stem(path)}.analysis.json")
    return done


# --- spans in record time --------------------------------------------------------------------

def visible(cut: Cut, piece: Piece, start_ms: int, end_ms: int) -> tuple[int, int] | None:
    """A stretch of the piece's media (ms) as record frames [first, end) where it is on screen, or None."""
    first, last = ms_to_frame(start_ms, piece.rate), ms_to_frame(end_ms, piece.rate)
    a, b = max(first, piece.source), min(max(last, first + 1), piece.source + piece.frames)
    if b <= a:
        return None
    record = piece.record + cut.record_frames(piece, a - piece.source)
    return record, max(record + 1, piece.record + cut.record_frames(piece, b - piece.source))


def on_record(cut: Cut, analyses: dict[Path, Analysis]) -> Analysis:
    """The whole cut as one Analysis on the timeline's frames: every span and transcript segment
    where it is on screen, for the single-file marker formats."""
    events: set[Span] = set()
    emotions: set[Span] = set()
    segments: dict[tuple[tuple[int, int], str], Segment] = {}
    ms = lambda frame: frame_to_ms(frame, cut.fps)  # noqa: E731
    for p in cut.pieces:
        doc = analyses[p.media]
        for kind, out in (("events", events), ("emotions", emotions)):
            for span in doc.spans(kind):
                where = visible(cut, p, span.start_ms, span.end_ms)
                if where:
                    out.add(Span(ms(where[0]), ms(where[1]), span.label, span.score))
        for _, seg in doc.segments():
            where = visible(cut, p, seg.start_ms, max(seg.end_ms, seg.start_ms + 1))
            if where:
                words = tuple(Word(ms(w[0]), ms(w[1]), word.text) for word in seg.words
                              if (w := visible(cut, p, word.start_ms, max(word.end_ms, word.start_ms + 1))))
                segments[(where, seg.text)] = replace(seg, start_ms=ms(where[0]), end_ms=ms(where[1]), words=words)
    track = TrackResult(0, tuple(sorted(segments.values(), key=lambda s: s.start_ms)), tuple(sorted(events)),
                        tuple(sorted(emotions)), duration_ms=ms(cut.frames))
    model = next(iter(analyses.values())).model if analyses else document.ModelInfo("", "", "", False)
    return Analysis(record_source(cut, analyses), model, (track,), {"timeline": str(cut.path)},
                    record_key(cut, analyses))


def record_key(cut: Cut, analyses: dict[Path, Analysis]) -> str:
    """What the cut's record time is made from: the timeline file's bytes and each analysis's key."""
    digest = hashlib.sha256(cut.path.read_bytes() if cut.path.is_file() else str(cut.path).encode())
    for path in sorted(analyses):
        digest.update(f"{path}\0{analyses[path].cache_key}\0".encode())
    return digest.hexdigest()


def record_source(cut: Cut, analyses: dict[Path, Analysis]) -> MediaInfo:
    """The cut as a media file: its rate, length, start timecode, and the first video's size."""
    shown = next((a.source for a in analyses.values() if a.source.width), None)
    audio = next((a.source.audio_tracks for a in analyses.values() if a.source.audio_tracks), ())
    return MediaInfo(path=str(cut.path.with_name(cut.stem + TAGGED + cut.path.suffix)),
                     duration_ms=frame_to_ms(cut.frames, cut.fps), fps=cut.fps,
                     width=shown.width if shown else None, height=shown.height if shown else None,
                     start_timecode=frames_to_tc(cut.start, cut.fps, cut.drop), audio_tracks=audio,
                     video_frames=cut.frames or None)


# --- the timeline with markers on its clips --------------------------------------------------

def with_markers(cut: Cut, analyses: dict[Path, Analysis], preset: Preset) -> Any:
    """A copy of the timeline: each piece's clip gets a marker per span it shows (in the clip's
    source time, with the single-file exports' names, notes and colours) and its media as a file URL."""
    import opentimelineio as otio

    timeline = copy.deepcopy(cut.timeline)
    if timeline.global_start_time is None and cut.start:   # an EDL's start, for formats that keep one
        timeline.global_start_time = otio.opentime.RationalTime(cut.start, float(cut.fps))
    found = clips(timeline)
    for p in cut.pieces:
        clip = found[p.key][1]
        info = cut.infos[p.media]
        clip.source_range = clip.trimmed_range()
        first = frames_at(clip.source_range.start_time, p.rate) - p.source   # the media's first frame
        clip.media_reference = otio.schema.ExternalReference(
            target_url=Path(info.path).as_uri(), available_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(first, float(p.rate)),
                otio.opentime.RationalTime(media_frames(info, p.rate), float(p.rate))))
        for marker in [m for m in clip.markers if ours(m)]:   # a tagged cut tagged again: one set
            clip.markers.remove(marker)
        clip.markers.extend(clip_markers(p, analyses[p.media], preset, first))
    return timeline


def ours(marker: Any) -> bool:
    """A marker mediatagger put there: its metadata says so, or (formats that keep no metadata) it is
    named like ours (a label's name, or its token as earlier versions wrote it, maybe with its track) and
    its note ends in a score or is empty."""
    if "mediatagger" in marker.metadata:
        return True
    note = marker.comment or marker.metadata.get("fcp_xml", {}).get("comment", "") or ""
    return markers.label_of(marker.name or "") is not None and \
        (note == "" or re.search(r"score \d\.\d\d( — starts [\d.]+ s)?$", note) is not None)


def media_frames(info: MediaInfo, rate: Fraction) -> int:
    return markers.media_frames(document_of(info)) if info.fps == rate else ms_to_frame(info.duration_ms, rate)


def clip_markers(p: Piece, doc: Analysis, preset: Preset, first: int) -> list[Any]:
    """The markers of the spans ``p`` shows, in its clip's source time, each on a frame of its own."""
    import opentimelineio as otio

    out: list[Any] = []
    taken: set[int] = set()
    for m in markers.markers(doc, preset.edl.kinds):
        start, end = ms_to_frame(m.span.start_ms, p.rate), ms_to_frame(m.span.end_ms, p.rate)
        shown = max(start, p.source)
        a = markers.free_frame(shown, taken, p.source + p.frames, p.source)
        b = min(max(end, start + 1), p.source + p.frames)
        if a is None or b <= shown:
            continue
        taken.add(a)
        b = max(b, a + 1)
        span = m.span
        out.append(otio.schema.Marker(
            name=m.name, comment=m.note, color=markers.otio_color(markers.resolve_color(preset, span.label)),
            marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(first + a, float(p.rate)),
                                                 otio.opentime.RationalTime(b - a, float(p.rate))),
            metadata={"mediatagger": {"label": span.label, "score": span.score, "track": span.track,
                                      "text": m.text}}))
    return out


def record_markers(cut: Cut, record: Analysis, preset: Preset) -> list[Any]:
    """The timeline-level markers (the Kdenlive adapter writes only these, as guides)."""
    import opentimelineio as otio

    rate = float(cut.fps)
    return [otio.schema.Marker(name=m.name, comment=m.note,
                               color=markers.otio_color(markers.resolve_color(preset, m.span.label)),
                               marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(m.frame, rate),
                                                                    otio.opentime.RationalTime(m.frames, rate)))
            for m in markers.markers(record, preset.edl.kinds)]


def render(cut: Cut, analyses: dict[Path, Analysis], fmt: str, preset: Preset) -> str:
    """The cut in format ``fmt`` (one of ``OUTPUTS``) with its markers."""
    import opentimelineio as otio

    if fmt not in OUTPUTS:
        raise UnknownChoiceError("timeline output", fmt, OUTPUTS)
    record = on_record(cut, analyses)
    if fmt in RECORD_FORMATS:
        return EXPORTERS[fmt].to_string(record, preset)
    timeline = with_markers(cut, analyses, preset)
    if fmt == "fcpxml":
        return fcpxml(cut, timeline, record)
    if fmt == "kdenlive":
        timeline.tracks.markers.extend(record_markers(cut, record, preset))
    if fmt == "xmeml":   # FCP7 XML: a clip marker's in/out count from the media's first frame, like the
        for clip in timeline.find_clips():   # clipitem's own; its comment is written from metadata
            first = clip.media_reference.available_range.start_time if isinstance(
                clip.media_reference, otio.schema.ExternalReference) and clip.media_reference.available_range else None
            for marker in clip.markers:
                if first is not None and "mediatagger" in marker.metadata:
                    marker.marked_range = otio.opentime.TimeRange(marker.marked_range.start_time - first.rescaled_to(
                        marker.marked_range.start_time), marker.marked_range.duration)
                marker.metadata["fcp_xml"] = {"comment": marker.comment}
    try:
        return otio.adapters.write_to_string(timeline, ADAPTERS[fmt]) + ("\n" if fmt == "otio" else "")
    except Exception as exc:  # noqa: BLE001 - an adapter raises anything; the message is the user's
        raise MediaError(cut.path, f"cannot write it as {fmt}: {type(exc).__name__}: {exc}") from None


def fcpxml(cut: Cut, timeline: Any, record: Analysis) -> str:
    from mediatagger import fcpxml_timeline

    media_of, found = {}, clips(timeline)
    for p in cut.pieces:
        info = cut.infos[p.media]
        clip = found[p.key][1]
        start = frames_at(clip.media_reference.available_range.start_time, cut.fps)
        media_of[clip.media_reference.target_url] = (start, media_frames(info, cut.fps), info.fps is not None)
    size = (record.source.width or 1920, record.source.height or 1080)
    return fcpxml_timeline.write(timeline, cut.fps, size, cut.drop, media_of)


def output_path(cut: Cut, out_dir: Path, fmt: str) -> Path:
    """``OUT/<cut>.tagged<suffix>``: the format's own suffix (``.fcpxml``, ``.loc.edl``, ``.kdenlive``)."""
    suffix = ".kdenlive" if fmt == "kdenlive" else EXPORTERS[fmt].suffix
    return out_dir / f"{cut.stem}{TAGGED}{suffix}"


# --- a highlight reel of the cut -------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """A stretch of a highlight clip: frames of one piece's media, or a gap (black and silence)."""

    seconds: Fraction            # length
    media: Path | None = None    # None: a gap
    seek: Fraction = Fraction(0)  # where in the media it starts (seconds)
    audio: bool = True           # the media has a sound track


def shown(cut: Cut) -> list[Piece]:
    """What the audience sees: the first video track's pieces (or the first audio track's, without video)."""
    video = [p for p in cut.pieces if p.video]
    first = (video or list(cut.pieces))[:1]
    return [p for p in (video or list(cut.pieces)) if first and p.track == first[0].track]


def parts(cut: Cut, first: int, frames: int) -> list[Part]:
    """Record frames [first, first + frames) as the pieces (and gaps) that show them."""
    out, cursor, end = [], first, first + frames
    for p in sorted(shown(cut), key=lambda p: p.record):
        length = cut.record_frames(p, p.frames)
        a, b = max(cursor, p.record), min(end, p.record + length)
        if b <= a:
            continue
        if a > cursor:
            out.append(Part(Fraction(a - cursor) / cut.fps))
        info = cut.infos[p.media]
        seek = info.origin + Fraction(p.source) / p.rate + Fraction(a - p.record) / cut.fps
        out.append(Part(Fraction(b - a) / cut.fps, p.media, seek, bool(info.audio_tracks)))
        cursor = b
    if cursor < end:
        out.append(Part(Fraction(end - cursor) / cut.fps))
    return out


def render_args(cut: Cut, clip_parts: list[Part], size: tuple[int, int] | None, length: Fraction,
                opts: Any, out: Path, subs: Path | None, shift: Fraction) -> list[str]:
    """ffmpeg arguments that render ``clip_parts`` one after another as one clip of ``length`` seconds,
    conformed to the timeline's rate and ``size`` (None: sound only)."""
    from mediatagger import burnin, cutting

    args, chains, inputs = ["-y", "-loglevel", "error"], [], 0
    for n, part in enumerate(clip_parts):
        d = cutting.seconds(part.seconds)
        if part.media is None:
            if size:
                chains.append(f"color=c=black:s={size[0]}x{size[1]}:r={cut.fps}:d={d},format=yuv420p,setsar=1[v{n}]")
            chains.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={d}[a{n}]")
            continue
        coarse = cutting.floor_us(max(Fraction(0), part.seek - cutting.PREROLL))
        args += ["-ss", cutting.seconds(coarse), *media.input_args(part.media)]
        fine = cutting.seconds(part.seek - coarse)
        if size:
            chains.append(f"[{inputs}:v:0]trim=start={fine}:duration={d},setpts=PTS-STARTPTS,fps={cut.fps},"
                          f"scale={size[0]}:{size[1]}:force_original_aspect_ratio=decrease,"
                          f"pad={size[0]}:{size[1]}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v{n}]")
        chains.append(f"[{inputs}:a:0]atrim=start={fine}:duration={d},asetpts=PTS-STARTPTS,aresample=48000,"
                      f"aformat=channel_layouts=stereo,apad=whole_dur={d}[a{n}]" if part.audio else
                      f"anullsrc=r=48000:cl=stereo,atrim=duration={d}[a{n}]")
        inputs += 1
    joined = "".join((f"[v{n}]" if size else "") + f"[a{n}]" for n in range(len(clip_parts)))
    video_out = "[vj]" if subs is not None else "[v]"
    chains.append(f"{joined}concat=n={len(clip_parts)}:v={1 if size else 0}:a=1" + (video_out if size else "") + "[a]")
    if subs is not None and size:
        chains.append(f"[vj]{burnin.subtitles_filter(subs, None, shift)}[v]")
    maps = (["-map", "[v]", "-r", str(cut.fps)] if size else []) + ["-map", "[a]"]
    return [*args, "-filter_complex", ";".join(chains), *maps, "-t", cutting.seconds(length),
            *cutting.encode_args(opts), media.file_arg(out)]


def cutter(cut: Cut, size: tuple[int, int] | None) -> Callable[..., Any]:
    """A highlight clip's renderer for ``clips.Job``: the clip's record range, rendered from the cut."""

    def render(clip: Any, opts: Any, out: Path, subs: Path | None, progress: Callable[[float], None] | None,
               name: str) -> Any:
        first = ms_to_frame(clip.start_ms, cut.fps)
        frames = clip.frames if clip.frames else max(1, ms_to_frame(clip.end_ms, cut.fps) - first)
        args = render_args(cut, parts(cut, first, frames), size, clip.length, opts, out, subs, clip.seek)
        media.run_ffmpeg(args, cut.path, f"cannot render {name}", progress)
        return clip
    return render
