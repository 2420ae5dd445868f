"""The Analysis document: the versioned JSON sidecar every exporter reads, its types, JSON in and out.

This module is only the document. Making one (extract, VAD, tag, scan) is ``pipeline``; importing
this does not import it, nor ffmpeg runs, nor the model. ``load`` checks every key once, for type
and range, and names the file and the key of anything wrong.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from mediatagger import files, fusion, scan, tags
from mediatagger.errors import AnalysisError, MediaTaggerError, UnknownChoiceError
from mediatagger.media import AudioTrack, MediaInfo
from mediatagger.presets import EventOptions, ScanOptions, SpanOptions, build
from mediatagger.presets.checks import check_fields
from mediatagger.timecode import AUDIO_ONLY_FPS, parse_rate, tc_to_frames
from mediatagger.timeline import Span

SCHEMA = "mediatagger.analysis/3"             # /2 added model.precision, /3 tracks' audioset_curves
READABLE = ("mediatagger.analysis/1", "mediatagger.analysis/2", SCHEMA)  # /1 documents read as fp32
MAX_MS = 100 * 3600 * 1000  # times beyond 100 hours are not from media we analysed
KINDS = tags.SPAN_KINDS
GRID_MS = ScanOptions().grid_ms  # the grid spans are found on when a track has AudioSet's curves alone


@dataclass(frozen=True)
class Word:
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class Segment:
    """What SenseVoice said about one speech region."""

    start_ms: int
    end_ms: int
    language: str | None
    emotion: str | None
    event: str | None
    text: str
    raw: str
    emotion_score: float | None = None   # probability of ``emotion`` at its query position
    event_score: float | None = None
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class TrackResult:
    index: int
    segments: tuple[Segment, ...] = ()
    events: tuple[Span, ...] = ()
    emotions: tuple[Span, ...] = ()
    curves: scan.Curves | None = None     # SenseVoice's per-class probabilities over the track
    duration_ms: int = 0
    audioset: scan.Curves | None = None   # the AudioSet detector's, per event label, on its own grid


@dataclass(frozen=True)
class ModelInfo:
    name: str
    vad: str
    language: str
    itn: bool
    precision: str = "fp32"   # fp32 or int8: what the model ran at


@dataclass(frozen=True)
class Analysis:
    """What is where in one media file: per audio track, the transcript segments and the event and
    emotion spans (integer ms on the source's timeline), with the curves they were derived from."""

    source: MediaInfo
    model: ModelInfo
    tracks: tuple[TrackResult, ...] = field(default_factory=tuple)
    settings: dict[str, Any] = field(default_factory=dict)  # scan and span options that made it
    cache_key: str | None = None                              # input content + model + scan settings

    @property
    def stem(self) -> str:
        """The source's file name without its extension: every output is named from it."""
        return files.output_stem(self.source.path)

    def spans(self, kind: str = "events", labels: Iterable[str] | None = None) -> list[Span]:
        """Every track's ``events`` or ``emotions`` in time order, optionally only of ``labels``."""
        if kind not in KINDS:
            raise UnknownChoiceError("span kind", kind, KINDS)
        wanted = {label.upper() for label in labels} if labels is not None else None
        out = [s for t in self.tracks for s in getattr(t, kind) if wanted is None or s.label in wanted]
        return sorted(out)

    def track_name(self, index: int) -> str | None:
        """Track ``index``'s name (``MediaInfo.track_name``: ``Audience``) when the analysis holds several
        tracks, else None: outputs name a track only where there are others to tell it from."""
        return self.source.track_name(index) if len(self.tracks) > 1 else None

    def segments(self) -> list[tuple[int, Segment]]:
        """(track index, segment) for every segment, in time order."""
        return sorted(((t.index, s) for t in self.tracks for s in t.segments),
                      key=lambda ts: (ts[1].start_ms, ts[0]))


def bare(info: MediaInfo) -> Analysis:
    """An Analysis of ``info`` with nothing found (to count its frames and timecode as the exporters do)."""
    return Analysis(info, ModelInfo("", "", "", False))


# --- spans from curves ----------------------------------------------------------------------

def derive(track: TrackResult, options: SpanOptions, events: EventOptions | None = None) -> TrackResult:
    """Event and emotion spans from the track's probability curves (no model needed): events from the
    curves ``events.detector`` picks (``fusion``), emotions from SenseVoice's."""
    found = fusion.event_curves(track.curves, track.audioset, events or EventOptions(), GRID_MS, track.duration_ms)
    if found is None:
        return track
    emotions = track.emotions if track.curves is None else \
        scan.spans(track.curves, tags.EMOTIONS, options, track.index, track.duration_ms)
    return replace(track, events=scan.spans(found, fusion.event_labels(found), options, track.index,
                                            track.duration_ms), emotions=emotions)


def event_options(analysis: Analysis) -> EventOptions:
    """The event options an analysis was made with (an older one's: SenseVoice alone)."""
    stored = analysis.settings.get("events")
    if not isinstance(stored, dict):
        return EventOptions(detector="sensevoice")
    try:
        events = build(EventOptions, stored, analysis.source.path, "events")
        check_fields(events, analysis.source.path, "events")
        return events
    except MediaTaggerError:
        return EventOptions()


def rederive(analysis: Analysis, options: SpanOptions, events: EventOptions | None = None) -> Analysis:
    """The same analysis with spans re-thresholded by ``options`` (and events from the detector
    ``events`` picks: by default the one that made it)."""
    events = events or event_options(analysis)
    settings = {**analysis.settings, "spans": asdict(options), "events": asdict(events)}
    return replace(analysis, tracks=tuple(derive(t, options, events) for t in analysis.tracks), settings=settings)


# --- JSON out --------------------------------------------------------------------------------

def _span_dict(span: Span) -> dict[str, Any]:
    return {"start_ms": span.start_ms, "end_ms": span.end_ms, "label": span.label,
            "score": span.score, "track": span.track}


def to_dict(analysis: Analysis) -> dict[str, Any]:
    src = analysis.source
    return {
        "schema": SCHEMA,
        "source": {"path": src.path, "duration_ms": src.duration_ms, "fps": src.fps_text,
                   "start_timecode": src.start_timecode, "width": src.width, "height": src.height,
                   "variable_fps": src.variable_fps, "video_frames": src.video_frames, "start_ms": src.start_ms,
                   "audio_tracks": [vars(t) for t in src.audio_tracks]},
        "model": vars(analysis.model),
        "settings": analysis.settings,
        "cache_key": analysis.cache_key,
        "tracks": [_track_dict(t) for t in analysis.tracks],
    }


def _track_dict(track: TrackResult) -> dict[str, Any]:
    out: dict[str, Any] = {"index": track.index,
                           "segments": [asdict(s) for s in track.segments],
                           "events": [_span_dict(s) for s in track.events],
                           "emotions": [_span_dict(s) for s in track.emotions]}
    if track.curves is not None or track.audioset is not None:
        out["duration_ms"] = track.duration_ms
    if track.curves is not None:
        out["curves"] = track.curves.to_dict()
    if track.audioset is not None:
        out["audioset_curves"] = track.audioset.to_dict()
    return out


def dumps(doc: dict[str, Any]) -> str:
    """A document (an analysis from ``to_dict``, a clip plan) as the JSON text we write."""
    return files.json_text(json.dumps(doc, indent=1, ensure_ascii=False)) + "\n"


# --- JSON in: every key checked once, by name -------------------------------------------------

class _Bad(Exception):
    """A key of the document and what is wrong with it (becomes an AnalysisError naming the file)."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")


_KINDS: dict[str, tuple[type, ...]] = {"int": (int,), "number": (int, float), "text": (str,), "bool": (bool,),
                                       "list": (list, tuple), "object": (dict,)}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _get(data: dict[str, Any], key: str, where: str, kind: str, optional: bool = False) -> Any:
    """``data[key]`` if it is of ``kind`` (None allowed when ``optional``)."""
    path = f"{where}.{key}" if where else key
    value = data.get(key)
    if value is None:
        if optional:
            return None
        raise _Bad(path, "is missing" if key not in data else "must not be null")
    if not isinstance(value, _KINDS[kind]) or (isinstance(value, bool) and kind != "bool"):
        raise _Bad(path, f"must be {kind}, got {_show(value)}")
    return value


def _number(data: dict[str, Any], key: str, where: str, low: float, high: float, kind: str = "int",
            optional: bool = False) -> Any:
    value = _get(data, key, where, kind, optional)
    if value is not None and not (low <= value <= high):  # NaN fails this too
        raise _Bad(f"{where}.{key}", f"{_show(value)} is out of range ({low:g} to {high:g})")
    return value


def _ms(data: dict[str, Any], key: str, where: str) -> int:
    return int(_number(data, key, where, 0, MAX_MS))


def _score(data: dict[str, Any], key: str, where: str) -> float | None:
    return _number(data, key, where, 0.0, 1.0, "number", optional=True)


def _label(data: dict[str, Any], key: str, where: str, optional: bool = False) -> Any:
    """A label: one line of text (a model's vocabulary may hold labels others lack, so any name goes)."""
    value = _get(data, key, where, "text", optional)
    if value is not None and len(value) > 1000:
        raise _Bad(f"{where}.{key}", f"{_show(value)} is too long for a label (1000 characters at most)")
    return value


def _objects(data: dict[str, Any], key: str, where: str, optional: bool = False) -> list[tuple[str, dict]]:
    """The list at ``key`` as (its path, object) pairs."""
    items = _get(data, key, where, "list", optional) or []
    out = []
    for i, item in enumerate(items):
        path = f"{where}.{key}[{i}]" if where else f"{key}[{i}]"
        if not isinstance(item, dict):
            raise _Bad(path, f"must be object, got {_show(item)}")
        out.append((path, item))
    return out


def _fps(src: dict[str, Any]) -> Fraction | None:
    text = _get(src, "fps", "source", "text", optional=True)
    if text is None:
        return None
    try:
        rate = parse_rate(text)
    except MediaTaggerError:
        raise _Bad("source.fps", f"{_show(text)} is not a frame rate") from None
    if not 1 <= rate <= 1000:
        raise _Bad("source.fps", f"{_show(text)} is out of range (1 to 1000)")
    return rate


def _timecode(src: dict[str, Any], fps: Fraction | None) -> str | None:
    timecode = _get(src, "start_timecode", "source", "text", optional=True)
    try:
        if timecode is not None:
            tc_to_frames(timecode, fps or AUDIO_ONLY_FPS)
    except MediaTaggerError:
        raise _Bad("source.start_timecode", f"{_show(timecode)} is not a timecode at this frame rate") from None
    return timecode


def _path(src: dict[str, Any]) -> str:
    path = _get(src, "path", "source", "text")
    if not Path(path).stem or "\0" in path:
        raise _Bad("source.path", f"{_show(path)} is not a file's path")
    return str(path)


def _source(data: dict[str, Any]) -> MediaInfo:
    src = _get(data, "source", "", "object")
    fps = _fps(src)
    audio = tuple(AudioTrack(
        index=_number(t, "index", w, 0, 1000), codec=_get(t, "codec", w, "text"),
        channels=_number(t, "channels", w, 0, 1024), sample_rate=_number(t, "sample_rate", w, 0, 10_000_000),
        language=_get(t, "language", w, "text", True), title=_get(t, "title", w, "text", True),
        offset_ms=_number(t, "offset_ms", w, -MAX_MS, MAX_MS, optional=True) or 0)
        for w, t in _objects(src, "audio_tracks", "source"))
    return MediaInfo(path=_path(src), duration_ms=_ms(src, "duration_ms", "source"),
                     fps=fps, width=_number(src, "width", "source", 1, 100_000, optional=True),
                     height=_number(src, "height", "source", 1, 100_000, optional=True),
                     start_timecode=_timecode(src, fps), audio_tracks=audio,
                     variable_fps=bool(_get(src, "variable_fps", "source", "bool", optional=True)),
                     video_frames=_number(src, "video_frames", "source", 1, MAX_MS, optional=True),
                     start_ms=_number(src, "start_ms", "source", 0, MAX_MS, optional=True) or 0)


def _span(data: dict[str, Any], where: str, track: int) -> Span:
    start, end = _ms(data, "start_ms", where), _ms(data, "end_ms", where)
    if end <= start:
        raise _Bad(f"{where}.end_ms", f"{end} is not after start_ms {start}")
    own = _number(data, "track", where, 0, 1000, optional=True)
    return Span(start, end, _label(data, "label", where), _score(data, "score", where),
                track if own is None else own)


def _times(data: dict[str, Any], where: str) -> tuple[int, int]:
    start, end = _ms(data, "start_ms", where), _ms(data, "end_ms", where)
    if end < start:
        raise _Bad(f"{where}.end_ms", f"{end} is before start_ms {start}")
    return start, end


def _segment(data: dict[str, Any], where: str) -> Segment:
    start, end = _times(data, where)
    words = tuple(Word(*_times(w, p), _get(w, "text", p, "text")) for p, w in _objects(data, "words", where, True))
    return Segment(start, end, _get(data, "language", where, "text", True),
                   _label(data, "emotion", where, True), _label(data, "event", where, True),
                   _get(data, "text", where, "text"), _get(data, "raw", where, "text"),
                   _score(data, "emotion_score", where), _score(data, "event_score", where), words)


def _curves(data: dict[str, Any], where: str, key: str = "curves") -> scan.Curves | None:
    raw = _get(data, key, where, "object", optional=True)
    if raw is None:
        return None
    _number(raw, "grid_ms", f"{where}.{key}", 1, 60_000)
    for label in _get(raw, "classes", f"{where}.{key}", "object"):
        if len(label) > 100:
            raise _Bad(f"{where}.{key}.classes", f"{_show(label)} is too long for a label (100 characters at most)")
    try:
        return scan.Curves.from_dict(raw)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise _Bad(f"{where}.{key}", f"cannot decode: {exc}") from None


def _track(data: dict[str, Any], where: str, duration_ms: int) -> TrackResult:
    index = _number(data, "index", where, 0, 1000)
    return TrackResult(
        index, tuple(_segment(s, w) for w, s in _objects(data, "segments", where)),
        tuple(_span(s, w, index) for w, s in _objects(data, "events", where)),
        tuple(_span(s, w, index) for w, s in _objects(data, "emotions", where)),
        _curves(data, where),
        duration_ms if data.get("duration_ms") is None else _ms(data, "duration_ms", where),
        _curves(data, where, "audioset_curves"))


def from_dict(data: dict[str, Any]) -> Analysis:
    """An Analysis from a parsed document; ``ValueError`` naming the key of anything wrong."""
    try:
        info = _source(data)
        model = _get(data, "model", "", "object")
        model_info = ModelInfo(_get(model, "name", "model", "text"), _get(model, "vad", "model", "text"),
                               _get(model, "language", "model", "text"), _get(model, "itn", "model", "bool"),
                               _get(model, "precision", "model", "text", optional=True) or "fp32")
        tracks = tuple(_track(t, w, info.duration_ms) for w, t in _objects(data, "tracks", ""))
        settings = _get(data, "settings", "", "object", optional=True) or {}
        key = _get(data, "cache_key", "", "text", optional=True)
    except _Bad as exc:
        raise ValueError(str(exc)) from None
    return Analysis(info, model_info, tracks, settings, key)


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def load(path: Path | str) -> Analysis:
    """Read an analysis document; anything that is not one is an AnalysisError naming the file and the key."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_no_constants)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AnalysisError(path, f"cannot read analysis: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") not in READABLE:
        raise AnalysisError(path, f"not a {' or '.join(READABLE)} document")
    try:
        return from_dict(data)
    except ValueError as exc:
        raise AnalysisError(path, f"malformed analysis: {exc}") from None
