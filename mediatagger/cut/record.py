"""A cut's media tagged once each, their spans mapped to record time (what the audience sees), and the
cut written back: markers on its clips (``CLIP_FORMATS``) or a single marker file of the whole cut."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from mediatagger import analysis as document
from mediatagger import files
from mediatagger.analysis import Analysis, Segment, TrackResult, Word
from mediatagger.cut.reading import ADAPTERS, OUTPUTS, RECORD_FORMATS, TAGGED, Cut, Piece, clips
from mediatagger.errors import MediaError, MediaTaggerError, UnknownChoiceError
from mediatagger.exporters import EXPORTERS, markers
from mediatagger.media import MediaInfo
from mediatagger.presets import Preset
from mediatagger.timecode import frame_to_ms, frames_at, frames_to_tc, ms_to_frame
from mediatagger.timeline import Span

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
    return markers.media_frames(document.bare(info)) if info.fps == rate else ms_to_frame(info.duration_ms, rate)


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
