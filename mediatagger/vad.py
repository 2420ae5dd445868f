"""Speech regions: fsmn-vad, silero-vad or none (the whole track), shaped by the preset."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mediatagger.errors import UnknownChoiceError
from mediatagger.presets import VadOptions
from mediatagger.timeline import join_close, split_long

if TYPE_CHECKING:
    from mediatagger.model import Vad

KINDS = ("fsmn", "silero", "none")


def check_kind(kind: str) -> str:
    """A VAD name, or a folder holding an fsmn-vad model."""
    if kind in KINDS or Path(kind).is_dir():
        return kind
    raise UnknownChoiceError("VAD", kind, [*KINDS, "a local fsmn-vad folder"])


def load(kind: str, options: VadOptions, device: str = "cpu", verbose: bool = False) -> Vad | None:
    if check_kind(kind) == "none":
        return None
    from mediatagger.model import load_vad

    return load_vad(kind, device, verbose, options.silero_threshold, options.min_speech_ms)


def speech_regions(audio: np.ndarray, vad: Vad | None, options: VadOptions,
                   sample_rate: int = 16000) -> list[tuple[int, int]]:
    """Speech regions in ms: joined across short gaps, short ones dropped, long ones cut."""
    duration_ms = len(audio) * 1000 // sample_rate
    regions = [(0, duration_ms)] if vad is None else vad.regions(audio)
    regions = join_close(regions, options.join_gap_ms)
    regions = [(s, min(e, duration_ms)) for s, e in regions if e - s >= options.min_speech_ms]
    return split_long([r for r in regions if r[1] > r[0]], options.max_segment_ms)
