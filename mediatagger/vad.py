"""Speech regions: fsmn-vad, silero-vad or none (the whole track), shaped by the preset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mediatagger.errors import UnknownChoiceError
from mediatagger.head import SpeechDetector
from mediatagger.media import SAMPLE_RATE
from mediatagger.presets import VadOptions
from mediatagger.timeline import join_close, split_long

KINDS = ("fsmn", "silero", "none")
CHUNK_MS = 10 * 60 * 1000  # the detector sees at most ten minutes at a time


def check_kind(kind: str) -> str:
    """A VAD name, or a folder holding an fsmn-vad model."""
    if kind in KINDS or Path(kind).is_dir():
        return kind
    raise UnknownChoiceError("VAD", kind, [*KINDS, "a local fsmn-vad folder"])


def load(kind: str, options: VadOptions, device: str = "cpu", verbose: bool = False,
         threads: int = 0) -> SpeechDetector | None:
    if check_kind(kind) == "none":
        return None
    from mediatagger.model import load_vad

    return load_vad(kind, device, verbose, options.silero_threshold, options.min_speech_ms, threads)


def speech_regions(audio: np.ndarray, vad: SpeechDetector | None, options: VadOptions) -> list[tuple[int, int]]:
    """Speech regions in ms: joined across short gaps, short ones dropped, long ones cut."""
    duration_ms = len(audio) * 1000 // SAMPLE_RATE
    regions = [(0, duration_ms)] if vad is None else detect(audio, vad)
    regions = join_close(regions, options.join_gap_ms)
    regions = [(s, min(e, duration_ms)) for s, e in regions if e - s >= options.min_speech_ms]
    return split_long([r for r in regions if r[1] > r[0]], options.max_segment_ms)


SILENCE = 10 ** (-80 / 20)  # a stretch whose peak stays below -80 dBFS holds nothing to hear or tag


def silent(audio: np.ndarray) -> bool:
    return bool(np.abs(audio).max(initial=0.0) <= SILENCE)


def audible(audio: np.ndarray, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans (ms) that hold any sound: digital silence (a muted track, hours at zero) is not sent to
    the model, so a silent file costs a pass over its samples, not the model's time."""
    per_ms = SAMPLE_RATE // 1000
    return [(s, e) for s, e in spans if not silent(audio[s * per_ms:e * per_ms])]


def detect(audio: np.ndarray, vad: SpeechDetector, chunk_ms: int = CHUNK_MS) -> list[tuple[int, int]]:
    """The detector's regions, about ``chunk_ms`` of audio at a time so its memory stays flat on long
    footage; each chunk ends at the quietest tenth of a second of its last quarter, where no speech
    is cut in two."""
    out = []
    bounds = quiet_cuts(audio, chunk_ms * SAMPLE_RATE // 1000)
    for start, end in zip(bounds[:-1], bounds[1:]):
        if silent(audio[start:end]):
            continue
        offset = start * 1000 // SAMPLE_RATE
        out += [(s + offset, e + offset) for s, e in vad.regions(audio[start:end])]
    return out


def quiet_cuts(audio: np.ndarray, chunk: int) -> list[int]:
    """Sample positions that cut ``audio`` into pieces of at most ``chunk`` samples, each cut at the
    quietest 100 ms frame of the last quarter before it."""
    cuts = [0]
    while cuts[-1] + chunk < len(audio):
        cuts.append(cuts[-1] + quiet_cut(audio[cuts[-1]:cuts[-1] + chunk]))
    return cuts + [len(audio)]


def quiet_cut(piece: np.ndarray, align: int = 1) -> int:
    """Where to end ``piece``: the middle of the quietest 100 ms frame of its last quarter (the first such,
    rounded down to a multiple of ``align`` samples), so that no speech is cut in two."""
    frame, end = SAMPLE_RATE // 10, len(piece)
    start = end - max(frame, end // 4 // frame * frame)
    energy = np.square(piece[start:end].reshape(-1, frame)).mean(axis=1)
    cut = start + int(np.argmin(energy)) * frame + frame // 2
    return max(align, cut - cut % align)
