"""The Analysis document (the versioned JSON sidecar every exporter reads) and the pipeline.

media -> (vad, model) -> Analysis -> exporters; nothing downstream calls the model again.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mediatagger import media, scan, tags, vad
from mediatagger.errors import AnalysisError
from mediatagger.media import AudioTrack, MediaInfo
from mediatagger.presets import Preset, SpanOptions
from mediatagger.timecode import parse_rate
from mediatagger.timeline import Span

SCHEMA = "mediatagger.analysis/1"


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
    curves: scan.Curves | None = None     # per-class probabilities over the track
    duration_ms: int = 0


@dataclass(frozen=True)
class ModelInfo:
    name: str
    vad: str
    language: str
    itn: bool


@dataclass(frozen=True)
class Analysis:
    source: MediaInfo
    model: ModelInfo
    tracks: tuple[TrackResult, ...] = field(default_factory=tuple)
    settings: dict[str, Any] = field(default_factory=dict)  # scan and span options that made it
    cache_key: str | None = None                              # input content + model + scan settings

    @property
    def stem(self) -> str:
        return Path(self.source.path).stem

    def spans(self, kind: str = "events", labels: Iterable[str] | None = None) -> list[Span]:
        """Every track's ``events`` or ``emotions``, in time order, optionally of some labels."""
        wanted = set(labels) if labels is not None else None
        out = [s for t in self.tracks for s in getattr(t, kind) if wanted is None or s.label in wanted]
        return sorted(out)

    def segments(self) -> list[tuple[int, Segment]]:
        """(track index, segment) for every segment, in time order."""
        return sorted(((t.index, s) for t in self.tracks for s in t.segments),
                      key=lambda ts: (ts[1].start_ms, ts[0]))


# --- spans from curves ----------------------------------------------------------------------

def derive(track: TrackResult, options: SpanOptions) -> TrackResult:
    """Event and emotion spans from the track's probability curves (no model needed)."""
    if track.curves is None:
        return track
    return replace(track, events=scan.spans(track.curves, tags.EVENTS, options, track.index, track.duration_ms),
                   emotions=scan.spans(track.curves, tags.EMOTIONS, options, track.index, track.duration_ms))


def rederive(analysis: Analysis, options: SpanOptions) -> Analysis:
    """The same analysis with spans re-thresholded by ``options``."""
    settings = {**analysis.settings, "spans": asdict(options)}
    return replace(analysis, tracks=tuple(derive(t, options) for t in analysis.tracks), settings=settings)


def segment_from(start_ms: int, end_ms: int, tagged: Any) -> Segment:
    rich = tags.parse_rich(tagged.raw)
    words = tuple(Word(start_ms + s, start_ms + e, w) for s, e, w in tagged.words)
    return Segment(start_ms, end_ms, rich.language, rich.emotion, rich.event, rich.text, tagged.raw,
                   _score(tagged.probs, rich.emotion), _score(tagged.probs, rich.event), words)


def _score(probs: dict[str, float], label: str | None) -> float | None:
    return round(probs[label], 3) if label in probs else None


# --- the pipeline ----------------------------------------------------------------------------

# stage(name, total, unit) -> update(done so far); the CLI hangs progress bars on it
Stage = Callable[[str, float, str], Callable[[float], None]]


def no_progress(name: str, total: float, unit: str) -> Callable[[float], None]:
    return lambda done: None


def analyse(info: MediaInfo, tracks: list[int], preset: Preset, load_models: Callable[[], Any],
            stage: Stage = no_progress, cache_key: str | None = None) -> Analysis:
    """Extract each track, find speech, tag it, scan the rest, and derive spans from the curves.

    ``load_models`` returns ``(sensevoice, vad_or_None)``; it is called once audio is in hand, so a
    bad input never pays for loading the model.
    """
    opts = preset.model
    results = tuple(derive(analyse_track(info, index, preset, load_models, stage), preset.spans)
                    for index in tracks)
    settings = {"scan": asdict(preset.scan), "spans": asdict(preset.spans)}
    return Analysis(info, ModelInfo(opts.name, opts.vad, opts.language, opts.itn), results, settings, cache_key)


def analyse_track(info: MediaInfo, index: int, preset: Preset, load_models: Callable[[], Any],
                  stage: Stage) -> TrackResult:
    opts = preset.model
    audio = media.extract_audio(info, index, stage(f"extract track {index}", info.duration_ms / 1000, "s"))
    duration_ms = len(audio) * 1000 // media.SAMPLE_RATE
    sensevoice, detector = load_models()
    vad_done = stage(f"vad track {index}", 1, "")
    regions = vad.speech_regions(audio, detector, preset.vad)
    vad_done(1)

    step = stage(f"tag track {index}", len(regions), "seg")
    tagged = sensevoice.tag(audio, regions, opts.language, opts.itn, opts.batch_seconds, step, words=True)
    segments = tuple(segment_from(s, e, t) for (s, e), t in zip(regions, tagged))
    windows = [scan.Window(s, e, t.probs, rank=0) for (s, e), t in zip(regions, tagged)]
    coarse: list[scan.Window] = []
    fine: list[scan.Window] = []
    if preset.scan.enabled:
        coarse, fine = scan_gaps(sensevoice, audio, windows, preset,
                                 lambda name, n: stage(f"{name} track {index}", n, "win"))
    grid = preset.scan.grid_ms
    # fine windows place event boundaries; a half-second of speech is too little to judge a feeling
    events = scan.curves(windows + coarse + fine, duration_ms, grid, (*tags.EVENTS, tags.SPEECH))
    emotions = scan.curves(windows + coarse, duration_ms, grid, tags.EMOTIONS)
    curves = scan.Curves(grid, {**events.values, **emotions.values})
    return TrackResult(index, segments, curves=curves, duration_ms=duration_ms)


def scan_gaps(sensevoice: Any, audio: Any, segments: list[scan.Window], preset: Preset,
              stage: Callable[[str, int], Callable[[float], None]]) -> tuple[list[scan.Window], list[scan.Window]]:
    """Coarse windows over the gaps between speech segments, then fine windows around the event
    boundaries the coarse pass shows; returns both, with their probabilities."""
    opts, duration_ms = preset.model, len(audio) * 1000 // media.SAMPLE_RATE

    def tag(name: str, spans: list[tuple[int, int]]) -> list[scan.Window]:
        out = sensevoice.tag(audio, spans, opts.language, opts.itn, opts.batch_seconds, stage(name, len(spans)))
        return [scan.Window(s, e, t.probs) for (s, e), t in zip(spans, out)]

    gaps = scan.gaps(duration_ms, [(w.start_ms, w.end_ms) for w in segments])
    coarse = tag("scan", scan.tile(gaps, preset.scan.window_ms))
    curve = scan.curves(segments + coarse, duration_ms, preset.scan.grid_ms, tags.EVENTS)
    edges = scan.crossings(curve, tags.EVENTS, preset.spans.on_level)
    fine = scan.within(scan.fine_windows(edges, duration_ms, preset.scan), gaps, preset.scan.fine_window_ms // 2)
    return coarse, tag("refine", fine)


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(path: Path, preset: Preset, tracks: list[int]) -> str:
    """What makes an analysis reusable: the input's bytes, the model, VAD and scan settings, the tracks.
    Span thresholds are left out: spans are re-derived from the stored curves."""
    parts = {"content": content_hash(path), "model": asdict(preset.model), "vad": asdict(preset.vad),
             "scan": asdict(preset.scan), "tracks": tracks, "schema": SCHEMA}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# --- JSON ------------------------------------------------------------------------------------

def _span_dict(span: Span) -> dict[str, Any]:
    return {"start_ms": span.start_ms, "end_ms": span.end_ms, "label": span.label,
            "score": span.score, "track": span.track}


def to_dict(analysis: Analysis) -> dict[str, Any]:
    src = analysis.source
    return {
        "schema": SCHEMA,
        "source": {"path": src.path, "duration_ms": src.duration_ms, "fps": src.fps_text,
                   "start_timecode": src.start_timecode, "width": src.width, "height": src.height,
                   "variable_fps": src.variable_fps,
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
    if track.curves is not None:
        out["duration_ms"] = track.duration_ms
        out["curves"] = track.curves.to_dict()
    return out


def _segment(d: dict[str, Any]) -> Segment:
    words = tuple(Word(**w) for w in d.get("words", ()))
    fields = {k: v for k, v in d.items() if k != "rich"}  # "rich" is derived text, written by the json export
    return Segment(**{**fields, "words": words})


def _span(d: dict[str, Any], track: int) -> Span:
    return Span(int(d["start_ms"]), int(d["end_ms"]), str(d["label"]), d.get("score"),
                int(d.get("track", track)))


def from_dict(data: dict[str, Any]) -> Analysis:
    src = data["source"]
    info = MediaInfo(path=src["path"], duration_ms=int(src["duration_ms"]),
                     fps=parse_rate(src["fps"]) if src.get("fps") else None,
                     width=src.get("width"), height=src.get("height"),
                     start_timecode=src.get("start_timecode"), variable_fps=bool(src.get("variable_fps")),
                     audio_tracks=tuple(AudioTrack(**t) for t in src["audio_tracks"]))
    tracks = tuple(TrackResult(t["index"], tuple(_segment(s) for s in t["segments"]),
                               tuple(_span(s, t["index"]) for s in t["events"]),
                               tuple(_span(s, t["index"]) for s in t["emotions"]),
                               scan.Curves.from_dict(t["curves"]) if "curves" in t else None,
                               int(t.get("duration_ms", src["duration_ms"])))
                   for t in data["tracks"])
    return Analysis(info, ModelInfo(**data["model"]), tracks, data.get("settings", {}), data.get("cache_key"))


def dumps(doc: dict[str, Any]) -> str:
    """A document (an analysis from ``to_dict``, a clip plan) as the JSON text we write."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def load(path: Path) -> Analysis:
    """Read an analysis document, with a one-line error for anything that is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnalysisError(path, f"cannot read analysis: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise AnalysisError(path, f"not a {SCHEMA} document")
    try:
        return from_dict(data)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise AnalysisError(path, f"malformed analysis: {exc!r}") from None
