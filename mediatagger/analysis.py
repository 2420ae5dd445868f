"""The Analysis document (the versioned JSON sidecar every exporter reads) and the pipeline.

media -> (vad, model) -> Analysis -> exporters; nothing downstream calls the model again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediatagger import media, tags, vad
from mediatagger.errors import AnalysisError
from mediatagger.media import AudioTrack, MediaInfo
from mediatagger.presets import Preset, SpanOptions
from mediatagger.timecode import parse_rate
from mediatagger.timeline import Span, drop_short, merge

SCHEMA = "mediatagger.analysis/1"


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


@dataclass(frozen=True)
class TrackResult:
    index: int
    segments: tuple[Segment, ...] = ()
    events: tuple[Span, ...] = ()
    emotions: tuple[Span, ...] = ()


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


# --- spans from segments ---------------------------------------------------------------------

def spans_from_segments(track: int, segments: Iterable[Segment], kind: str,
                        options: SpanOptions) -> tuple[Span, ...]:
    """Event or emotion spans from per-segment tags: joined across short gaps, short ones dropped."""
    attr = "event" if kind == "events" else "emotion"
    raw = [Span(s.start_ms, s.end_ms, getattr(s, attr), None, track) for s in segments
           if getattr(s, attr) not in (None, tags.SPEECH)]
    return tuple(drop_short(merge(raw, options.merge_gap_ms), options.min_duration_ms))


def segment_from_raw(start_ms: int, end_ms: int, raw: str) -> Segment:
    rich = tags.parse_rich(raw)
    return Segment(start_ms, end_ms, rich.language, rich.emotion, rich.event, rich.text, raw)


def track_result(index: int, segments: list[Segment], options: SpanOptions) -> TrackResult:
    return TrackResult(index, tuple(segments), spans_from_segments(index, segments, "events", options),
                       spans_from_segments(index, segments, "emotions", options))


# --- the pipeline ----------------------------------------------------------------------------

# stage(name, total, unit) -> update(done so far); the CLI hangs progress bars on it
Stage = Callable[[str, float, str], Callable[[float], None]]


def no_progress(name: str, total: float, unit: str) -> Callable[[float], None]:
    return lambda done: None


def analyse(info: MediaInfo, tracks: list[int], preset: Preset, load_models: Callable[[], Any],
            stage: Stage = no_progress) -> Analysis:
    """Extract each track, find speech, run SenseVoice on it, and gather segments and spans.

    ``load_models`` returns ``(sensevoice, vad_or_None)``; it is called once audio is in hand, so a
    bad input never pays for loading the model.
    """
    opts = preset.model
    results = []
    for index in tracks:
        step = stage(f"extract track {index}", info.duration_ms / 1000, "s")
        audio = media.extract_audio(info, index, step)
        sensevoice, detector = load_models()
        vad_done = stage(f"vad track {index}", 1, "")
        regions = vad.speech_regions(audio, detector, preset.vad)
        vad_done(1)
        step = stage(f"tag track {index}", len(regions), "seg")
        raws = sensevoice.transcribe(audio, regions, opts.language, opts.itn, opts.batch_seconds, step)
        segments = [segment_from_raw(s, e, raw) for (s, e), raw in zip(regions, raws)]
        results.append(track_result(index, segments, preset.spans))
    return Analysis(info, ModelInfo(opts.name, opts.vad, opts.language, opts.itn), tuple(results))


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
                   "audio_tracks": [vars(t) for t in src.audio_tracks]},
        "model": vars(analysis.model),
        "tracks": [{"index": t.index,
                    "segments": [vars(s) for s in t.segments],
                    "events": [_span_dict(s) for s in t.events],
                    "emotions": [_span_dict(s) for s in t.emotions]} for t in analysis.tracks],
    }


def _span(d: dict[str, Any], track: int) -> Span:
    return Span(int(d["start_ms"]), int(d["end_ms"]), str(d["label"]), d.get("score"),
                int(d.get("track", track)))


def from_dict(data: dict[str, Any]) -> Analysis:
    src = data["source"]
    info = MediaInfo(path=src["path"], duration_ms=int(src["duration_ms"]),
                     fps=parse_rate(src["fps"]) if src.get("fps") else None,
                     width=src.get("width"), height=src.get("height"),
                     start_timecode=src.get("start_timecode"),
                     audio_tracks=tuple(AudioTrack(**t) for t in src["audio_tracks"]))
    tracks = tuple(TrackResult(t["index"], tuple(Segment(**s) for s in t["segments"]),
                               tuple(_span(s, t["index"]) for s in t["events"]),
                               tuple(_span(s, t["index"]) for s in t["emotions"]))
                   for t in data["tracks"])
    return Analysis(info, ModelInfo(**data["model"]), tracks)


def to_json(analysis: Analysis) -> str:
    return json.dumps(to_dict(analysis), indent=1, ensure_ascii=False) + "\n"


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
    except (KeyError, TypeError, ValueError) as exc:
        raise AnalysisError(path, f"malformed analysis: {exc!r}") from None
