"""The seam between the pipeline and a model runtime, and SenseVoice's head in plain numpy.

The pipeline needs two things, typed here as protocols: an ``AudioTagger`` (audio + regions -> rich
text, class probabilities, word times) and a ``SpeechDetector`` (audio -> speech regions). A
SenseVoice backend only runs the network: ``forward(clips)`` gives the CTC logits at the four query
positions and, when text is wanted, the best CTC token of every later frame (a ``Network``), as numpy.
Everything after that -- batching, the class probabilities at the query positions, greedy CTC text,
word times from the CTC path -- is ``SenseVoiceHead``, the same for every runtime (funasr/torch at
fp32 or int8 today; an ONNX Runtime backend, whose export ends in the same ``ctc_logits``, is one
more subclass and one more ``BACKENDS`` entry). No torch here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mediatagger.media import SAMPLE_RATE
from mediatagger.scan import Curves

QUERY_POSITIONS = 4   # SenseVoice prefixes the encoder input with language, event, emotion, text-norm queries
FRAME_MS = 60         # one encoder frame: 6 stacked 10 ms fbank frames


@dataclass(frozen=True)
class Tagged:
    """SenseVoice's answer for one stretch of audio."""

    raw: str                                   # <|lang|><|EMOTION|><|Event|><|itn|>text (no text if not asked)
    probs: dict[str, float]                    # event and emotion class -> softmax at its query position
    words: tuple[tuple[int, int, str], ...] = ()  # (start_ms, end_ms, text) from the region's start


class AudioTagger(Protocol):
    name: str
    precision: str

    def tag(self, audio: np.ndarray, regions: Sequence[tuple[int, int]], language: str, itn: bool,
            batch_seconds: float = 60.0, progress: Callable[[int], None] | None = None,
            words: bool = False, text: bool = True) -> list[Tagged]: ...


class SpeechDetector(Protocol):
    def regions(self, audio: np.ndarray) -> list[tuple[int, int]]: ...


class Hearing(Protocol):
    """A track heard by an ``EventDetector`` as its audio comes."""

    def feed(self, samples: np.ndarray) -> None: ...

    def heard_ms(self) -> int: ...

    def so_far(self) -> Curves: ...

    def finish(self) -> Curves: ...


class EventDetector(Protocol):
    """A detector of sound events that hears a whole track (the AudioSet detector), or one as it comes."""

    name: str

    def curves(self, audio: np.ndarray, extra: Sequence[str] = ()) -> Curves: ...

    def stream(self, extra: Sequence[str] = ()) -> Hearing: ...


@dataclass(frozen=True)
class Models:
    """What a Tagger loaded for its detector: SenseVoice and the VAD (not for ``audioset``), the
    AudioSet detector (not for ``sensevoice``)."""

    sensevoice: AudioTagger | None = None
    vad: SpeechDetector | None = None
    audioset: EventDetector | None = None


@dataclass(frozen=True)
class Vocabulary:
    """What the head needs of a model's tokenizer."""

    piece: Callable[[int], str]                 # token id -> sentencepiece piece
    decode: Callable[[list[int]], str]          # token ids -> text
    blank: int                                  # the CTC blank id
    classes: dict[str, dict[str, int]]          # "emotion"/"event" -> label -> token id


@dataclass(frozen=True)
class Network:
    """What a backend's network gives for one batch of clips."""

    queries: np.ndarray                         # batch x 4 x vocabulary: CTC logits at the query positions
    paths: tuple[np.ndarray, ...] = ()          # per clip: the best CTC token of each later frame (if asked)


class SenseVoiceHead:
    """Batching, class probabilities, text and word times over a backend's ``forward``."""

    def forward(self, clips: list[np.ndarray], language: str, itn: bool, paths: bool) -> Network:
        """The network on ``clips``; the CTC projection of every frame only if ``paths``."""
        raise NotImplementedError

    def vocabulary(self) -> Vocabulary:
        raise NotImplementedError

    def tag(self, audio: np.ndarray, regions: Sequence[tuple[int, int]], language: str, itn: bool,
            batch_seconds: float = 60.0, progress: Callable[[int], None] | None = None,
            words: bool = False, text: bool = True) -> list[Tagged]:
        """Rich text, event/emotion probabilities and (optionally) word times for each region, in order.
        Without ``text`` only the query tokens are decoded (what the window scan needs), which spares
        the CTC projection of every frame.

        Regions run longest first in batches of about ``batch_seconds`` of audio, so padding within a
        batch stays small; each result goes back to its region's place.
        """
        order = sorted(range(len(regions)), key=lambda i: regions[i][1] - regions[i][0], reverse=True)
        results: list[Tagged | None] = [None] * len(regions)
        done = 0
        for batch in batches(order, regions, batch_seconds * 1000):
            clips = [audio[regions[i][0] * SAMPLE_RATE // 1000:regions[i][1] * SAMPLE_RATE // 1000] for i in batch]
            for i, tagged in zip(batch, self.run(clips, language, itn, text or words, words)):
                results[i] = tagged
            done += len(batch)
            if progress:
                progress(done)
        return [r for r in results if r is not None]

    def run(self, clips: list[np.ndarray], language: str, itn: bool, text: bool, words: bool) -> list[Tagged]:
        out = self.forward(clips, language, itn, paths=text)
        vocab = self.vocabulary()
        heads = out.queries.argmax(-1)
        paths = out.paths or tuple(np.zeros(0, np.int64) for _ in clips)
        return [Tagged(greedy_text(np.concatenate([h, p]), vocab), probs, word_times(p, vocab) if words else ())
                for h, p, probs in zip(heads, paths, class_probs(out.queries, vocab.classes))]


def greedy_text(best: np.ndarray, vocab: Vocabulary) -> str:
    """CTC greedy decoding of a best path: repeats merged, blanks dropped, the tokens decoded."""
    if len(best) == 0:
        return ""
    kept = best[np.concatenate([[True], best[1:] != best[:-1]])]
    return vocab.decode(kept[kept != vocab.blank].tolist())


def class_probs(logits: np.ndarray, classes: dict[str, dict[str, int]]) -> list[dict[str, float]]:
    """Per batch row: each class's share of the softmax at its query position (1: emotion, 2: event) --
    the confidence funasr decodes with argmax and throws away."""
    at = logits[:, 1:3].astype(np.float64)
    soft = np.exp(at - at.max(axis=-1, keepdims=True))
    out = []
    for row in soft:
        probs: dict[str, float] = {}
        for position, table in ((0, classes["emotion"]), (1, classes["event"])):
            values = row[position, list(table.values())]
            probs.update(zip(table, (float(v) for v in values / max(values.sum(), 1e-12))))
        out.append(probs)
    return out


def word_times(path: np.ndarray, vocab: Vocabulary) -> tuple[tuple[int, int, str], ...]:
    """Word times from the CTC path: each emitted token spans the frames of its run in the best path
    (60 ms a frame, as funasr's timestamps), and pieces join into words as funasr's
    ``output_timestamp`` joins them. The greedy path is what forced alignment of the greedy text finds,
    without funasr's re-tokenising step (which raises IndexError when text re-tokenises differently).
    ``path`` is the best token of each frame after the query positions."""
    best = path.tolist()
    runs: list[list[Any]] = []
    for frame, token in enumerate(best):
        if runs and runs[-1][0] == token and runs[-1][2] == frame - 1:
            runs[-1][2] = frame
        elif token != vocab.blank:
            runs.append([token, frame, frame])
    half = FRAME_MS // 2
    return join_pieces([(vocab.piece(t), max(0, a * FRAME_MS - half), (b + 1) * FRAME_MS - half) for t, a, b in runs])


def join_pieces(pieces: list[tuple[str, int, int]]) -> tuple[tuple[int, int, str], ...]:
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


def batches(order: list[int], regions: Sequence[tuple[int, int]], budget_ms: float) -> Iterator[list[int]]:
    """Indexes in ``order`` grouped so each batch, padded to its longest region, stays within ``budget_ms``."""
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


# backend name -> "module:loader"; loaders take (name, device, verbose, precision, threads)
BACKENDS = {"funasr": "mediatagger.model:load_sensevoice"}


def load_tagger(name: str, device: str = "cpu", verbose: bool = False, precision: str = "fp32",
                threads: int = 0, backend: str = "funasr") -> AudioTagger:
    """A SenseVoice tagger from the backend that runs it, imported only now."""
    from mediatagger.errors import UnknownChoiceError

    if backend not in BACKENDS:
        raise UnknownChoiceError("model backend", backend, BACKENDS)
    module, loader = BACKENDS[backend].split(":")
    tagger: AudioTagger = getattr(importlib.import_module(module), loader)(name, device, verbose, precision, threads)
    return tagger


def load_audioset(model: str = "", verbose: bool = False) -> EventDetector:
    """The AudioSet detector (onnxruntime is imported only now)."""
    from mediatagger.audioset import AudioSetDetector

    return AudioSetDetector(model, verbose)
