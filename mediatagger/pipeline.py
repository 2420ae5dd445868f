"""The pipeline: media -> (VAD, SenseVoice) -> Analysis.

Extract each audio track, find speech, tag it, scan the gaps, and derive spans from the curves;
``cache_key`` says when an analysis already made can be reused instead. The models come from a
``load_models()`` callable, called after the input was probed (so a file that is not media never pays
for loading them) and before any audio is decoded (so loading's transient peak and hours of decoded
audio are never in memory together).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger import audioset, media, scan, tags, vad
from mediatagger.analysis import SCHEMA, Analysis, ModelInfo, Segment, TrackResult, Word, derive, load
from mediatagger.errors import MediaTaggerError
from mediatagger.head import AudioTagger, Models, SpeechDetector, Tagged
from mediatagger.media import MediaInfo
from mediatagger.presets import Preset
from mediatagger.progress import Callback, Stage, ignore

LoadModels = Callable[[], Models]
Decoded = Callable[[], np.ndarray]  # a track's audio, decoded ahead (waits for it if still decoding)


def analyse(info: MediaInfo, tracks: list[int], preset: Preset, load_models: LoadModels,
            progress: Callback = ignore, cache_key: str | None = None,
            first: Decoded | None = None, then: Callable[[], None] | None = None) -> Analysis:
    """The analysis of ``tracks`` of the probed file ``info``, spans derived with ``preset.spans``.

    While one track is tagged, ffmpeg decodes the next on a background thread, so the CPU that
    inference leaves idle is used. ``first`` gives the first track's audio if it was decoded ahead
    (while the file before was tagged); ``then`` is called once that audio is in hand and inference
    begins, to start decoding the file after."""
    opts, results = preset.model, []
    models = load_models()
    audio = extract(info, tracks[0], progress, first)
    if then is not None:
        then()
    for n, index in enumerate(tracks):
        following = Background(media.extract_audio, info, tracks[n + 1]) if n + 1 < len(tracks) else None
        results.append(derive(analyse_track(audio, index, preset, load_models, progress), preset.spans, preset.events))
        if following is not None:
            audio = extract(info, tracks[n + 1], progress, following.result)
    settings = {"scan": asdict(preset.scan), "spans": asdict(preset.spans), "events": asdict(preset.events)}
    if models.audioset is not None and models.sensevoice is None:  # the AudioSet detector alone
        model = ModelInfo(models.audioset.name, "none", opts.language, opts.itn, "int8")
    else:
        model = ModelInfo(opts.name, opts.vad, opts.language, opts.itn, opts.effective_precision())
    return Analysis(media.with_frame_count(info), model,
                    tuple(results), settings, cache_key)


def extract(info: MediaInfo, index: int, progress: Callback = ignore, decoded: Decoded | None = None) -> np.ndarray:
    """Track ``index``'s audio, reported as its own stage: decoded now, or awaited from ``decoded``."""
    stage = Stage(progress, f"extract track {index}", info.duration_ms / 1000, "s")
    audio = decoded() if decoded is not None else media.extract_audio(info, index, stage.update)
    stage.finish()
    return audio


class Background:
    """A call run on a daemon thread: its result (or error) when asked for; a process that is
    stopped does not wait for it."""

    def __init__(self, call: Callable[..., Any], *args: Any):
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.run, args=(call, args), daemon=True)
        self.thread.start()

    def run(self, call: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.value = call(*args)
        except BaseException as exc:  # handed to the caller of result()
            self.error = exc

    def result(self) -> Any:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.value


def analyse_track(audio: np.ndarray, index: int, preset: Preset, load_models: LoadModels,
                  progress: Callback = ignore) -> TrackResult:
    """One track through the detectors the preset asks for: SenseVoice (speech, then the scan of the
    gaps), the AudioSet detector (the whole track), or both; each one's curves are kept."""
    models = load_models()
    duration_ms = len(audio) * 1000 // media.SAMPLE_RATE
    track = TrackResult(index, duration_ms=duration_ms)
    if models.sensevoice is not None:
        track = listen_sensevoice(audio, index, preset, models.sensevoice, models.vad, progress)
    if models.audioset is not None:
        listening = Stage(progress, f"audioset track {index}", 1)
        track = replace(track, audioset=models.audioset.curves(audio, preset.events.extra_labels()))
        listening.finish()
    return track


def listen_sensevoice(audio: np.ndarray, index: int, preset: Preset, sensevoice: AudioTagger,
                      detector: SpeechDetector | None, progress: Callback = ignore) -> TrackResult:
    opts = preset.model
    duration_ms = len(audio) * 1000 // media.SAMPLE_RATE
    finding = Stage(progress, f"vad track {index}", 1)
    regions = vad.speech_regions(audio, detector, preset.vad)
    finding.finish()

    tagging = Stage(progress, f"tag track {index}", len(regions), "seg")
    tagged = sensevoice.tag(audio, regions, opts.language, opts.itn, opts.batch_seconds, tagging.update, words=True)
    tagging.finish()
    segments = tuple(segment_from(s, e, t) for (s, e), t in zip(regions, tagged))
    windows = [scan.Window(s, e, t.probs, rank=0) for (s, e), t in zip(regions, tagged)]
    coarse: list[scan.Window] = []
    fine: list[scan.Window] = []
    if preset.scan.enabled:
        coarse, fine = scan_gaps(sensevoice, audio, windows, preset, progress, index)
    grid = preset.scan.grid_ms
    # fine windows place event boundaries; a half-second of speech is too little to judge a feeling
    events = scan.curves(windows + coarse + fine, duration_ms, grid, (*tags.EVENTS, tags.SPEECH))
    emotions = scan.curves(windows + coarse, duration_ms, grid, tags.EMOTIONS)
    curves = scan.Curves(grid, {**events.values, **emotions.values})
    return TrackResult(index, segments, curves=curves, duration_ms=duration_ms)


def scan_gaps(sensevoice: AudioTagger, audio: np.ndarray, segments: list[scan.Window], preset: Preset,
              progress: Callback, index: int) -> tuple[list[scan.Window], list[scan.Window]]:
    """Coarse windows over the gaps between speech segments, then (``scan.refine``) fine windows
    around the event boundaries the coarse pass shows; returns both, with their probabilities."""
    opts, duration_ms = preset.model, len(audio) * 1000 // media.SAMPLE_RATE

    def tag(name: str, spans: list[tuple[int, int]]) -> list[scan.Window]:
        stage = Stage(progress, f"{name} track {index}", len(spans), "win")
        out = sensevoice.tag(audio, spans, opts.language, opts.itn, opts.batch_seconds, stage.update, text=False)
        stage.finish()
        return [scan.Window(s, e, t.probs) for (s, e), t in zip(spans, out)]

    gaps = scan.gaps(duration_ms, [(w.start_ms, w.end_ms) for w in segments])
    coarse = tag("scan", vad.audible(audio, scan.tile(gaps, preset.scan.window_ms)))
    if not preset.scan.refine:
        return coarse, []
    curve = scan.curves(segments + coarse, duration_ms, preset.scan.grid_ms, tags.EVENTS)
    edges = scan.crossings(curve, tags.EVENTS, preset.spans.on_level)
    fine = scan.within(scan.fine_windows(edges, duration_ms, preset.scan), gaps, preset.scan.fine_window_ms // 2)
    return coarse, tag("refine", fine)


def segment_from(start_ms: int, end_ms: int, tagged: Tagged) -> Segment:
    rich = tags.parse_rich(tagged.raw)
    words = tuple(Word(start_ms + s, start_ms + e, w) for s, e, w in tagged.words)
    return Segment(start_ms, end_ms, rich.language, rich.emotion, rich.event, rich.text, tagged.raw,
                   _score(tagged.probs, rich.emotion), _score(tagged.probs, rich.event), words)


def _score(probs: dict[str, float], label: str | None) -> float | None:
    return round(probs[label], 3) if label in probs else None


# --- reuse -----------------------------------------------------------------------------------

def content_hash(path: Path | str) -> str:
    """The SHA-256 of the file's bytes; read once per size and modification time (the decode ahead
    and the run that follows it ask for the same file)."""
    info = os.stat(path)
    return _hash_of(str(Path(path).resolve()), info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _hash_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def model_identity(preset: Preset) -> dict[str, Any]:
    """The model settings that change what an analysis says: a folder by its full path (so
    ``./samples/model`` and ``samples/model`` are one model), not the device or the batch size."""
    opts = preset.model
    name, vad = (str(Path(n).resolve()) if Path(n).is_dir() else n for n in (opts.name, opts.vad))
    return {"name": name, "vad": vad, "language": opts.language, "itn": opts.itn,
            "precision": opts.effective_precision()}


def cache_key(path: Path | str, preset: Preset, tracks: list[int]) -> str:
    """What makes an analysis reusable: the input's bytes, the model, VAD and scan settings, the tracks.
    Span thresholds are left out: spans are re-derived from the stored curves."""
    events = {"detector": preset.events.detector, "labels": preset.events.extra_labels(),
              "model": preset.events.audioset_model, "front_end": audioset.FRONT_END}  # levels only change spans
    parts: dict[str, Any] = {"content": content_hash(path), "model": model_identity(preset), "events": events,
                             "vad": asdict(preset.vad), "scan": asdict(preset.scan), "tracks": tracks,
                             "schema": SCHEMA, "clock": "picture"}  # spans on the first frame's clock
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def reusable(json_path: Path, key: str) -> Analysis | None:
    """The analysis already at ``json_path`` if it was made from the same content and settings."""
    if not json_path.is_file():
        return None
    try:
        previous = load(json_path)
    except MediaTaggerError:
        return None
    return previous if previous.cache_key == key else None
