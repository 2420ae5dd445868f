"""The pipeline: media -> (VAD, SenseVoice, the AudioSet detector) -> Analysis.

Each audio track is decoded as it is read (``media.AudioStream``) and heard a chunk at a time
(``stream.TrackStream``), so memory does not grow with its length; spans are derived from its curves
at the end. ``cache_key`` says when an analysis already made can be reused instead. The models come
from a ``load_models()`` callable, called after the input was probed (so a file that is not media never
pays for loading them).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mediatagger import audioset, media
from mediatagger.analysis import SCHEMA, Analysis, ModelInfo, TrackResult, derive, load
from mediatagger.errors import MediaTaggerError
from mediatagger.head import Models
from mediatagger.media import MediaInfo
from mediatagger.presets import Preset
from mediatagger.progress import Callback, Stage, ignore
from mediatagger.stream import TrackStream

LoadModels = Callable[[], Models]


def analyse(info: MediaInfo, tracks: list[int], preset: Preset, load_models: LoadModels,
            progress: Callback = ignore, cache_key: str | None = None) -> Analysis:
    """The analysis of ``tracks`` of the probed file ``info``, spans derived with ``preset.spans``: one
    track after another, each read and heard as it is decoded."""
    models = load_models()
    return analysis_of(info, [listen_track(info, index, preset, models, progress) for index in tracks],
                       preset, models, cache_key)


def listen_track(info: MediaInfo, index: int, preset: Preset, models: Models,
                 progress: Callback = ignore) -> TrackResult:
    """Track ``index`` decoded and heard a block at a time (the stage ``tag track N``, in media seconds)."""
    stage = Stage(progress, f"tag track {index}", info.duration_ms / 1000, "s")
    heard = TrackStream(index, preset, models)
    with media.AudioStream(info, index) as audio:
        for block in audio:
            heard.feed(block)
            stage.update(heard.fed_ms / 1000)
    result = heard.finish()
    stage.finish()
    return result


def analysis_of(info: MediaInfo, tracks: list[TrackResult], preset: Preset, models: Models,
                cache_key: str | None = None) -> Analysis:
    """The document of ``tracks`` heard in ``info``: their spans derived, the model and settings named."""
    opts = preset.model
    settings = {"scan": asdict(preset.scan), "spans": asdict(preset.spans), "events": asdict(preset.events)}
    if models.audioset is not None and models.sensevoice is None:  # the AudioSet detector alone
        model = ModelInfo(models.audioset.name, "none", opts.language, opts.itn, "int8")
    else:
        model = ModelInfo(opts.name, opts.vad, opts.language, opts.itn, opts.effective_precision())
    derived = tuple(derive(track, preset.spans, preset.events) for track in tracks)
    return Analysis(media.with_frame_count(info), model, derived, settings, cache_key)


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
