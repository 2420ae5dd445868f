"""Vertical and square reels: the crop that keeps the speaker in frame (``reel --aspect 9:16|1:1|4:5``).

A clip's picture is sampled five times a second (640 px wide, grey) and OpenCV's frontal-face Haar
cascade, which ships inside the opencv-python-headless package (nothing is downloaded), finds the faces
in each sample; a face counts when it is found again near there a sample before or after (a pattern
mistaken for a face in one frame does not move the crop). A shot cut is a sample that differs from the
one before by more than ``CUT_LEVEL`` (the mean grey-level change of a 64 px thumbnail). Within a shot
the crop follows one face: with several on screen, the one on the side the sound is louder on (the
speaker, by the stereo balance), else the one it followed, else the largest. It eases toward its face
(``EASE_S``) and does not move for less than ``DEADZONE`` of the width, so the frame does not jitter;
at a cut it jumps once. A shot without a face keeps the crop centred, and the clip says so
(``Framing.faces``). The crop is the largest of the aspect in the source frame. Subtitles burned into
it are laid out for it, inside the chosen platform's safe zone (the preset's ``reel.safe_zones``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger import media
from mediatagger.analysis import Analysis
from mediatagger.errors import UsageError
from mediatagger.media import MediaInfo
from mediatagger.presets import ClipOptions, Preset

ASPECTS = {"source": None, "9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5)}
SAMPLE_FPS = 5
SAMPLE_W = 640
THUMB_W = 64
CUT_LEVEL = 12.0      # mean grey-level change of a thumbnail from one sample to the next that is a cut
EASE_S = 0.4          # the crop closes most of the way to its face in about this long
STEADY = 0.06         # a face counts when found again within this share of the width a sample away
DEADZONE = 0.04       # ... and holds still for moves under this share of the source width
SPEAKER_BALANCE = 0.2  # a side this much louder (of the two channels' RMS) is the speaker's
AUDIO_RATE = 8000


@dataclass(frozen=True)
class Face:
    x: float      # centre, in source pixels
    size: float   # width, in source pixels


@dataclass(frozen=True)
class Sample:
    ms: int                   # from the clip's start
    faces: tuple[Face, ...]
    cut: bool                 # a new shot starts here
    balance: float            # -1 all left .. 1 all right (0: mono or even)


@dataclass(frozen=True)
class Framing:
    """A clip's crop: its size, and its left edge over time (ms from the clip's start, source px)."""

    width: int
    height: int
    keys: tuple[tuple[int, int], ...]
    faces: bool               # a face was found in every shot (False: some shot kept the centre)


def check(info: MediaInfo, opts: ClipOptions, aspect: str) -> None:
    """A crop to ``aspect`` needs a picture and re-encoding."""
    if not info.fps or not info.width or not info.height:
        raise UsageError(f"{info.path}: no picture to crop to {aspect}")
    if opts.cut == "fast":
        raise UsageError(f"a {aspect} crop re-encodes the picture: fast cuts cannot make it",
                         hint="use {cut_accurate}")
    detector()


def safe_subtitles(analysis: Analysis, preset: Preset, size: tuple[int, int]) -> tuple[Analysis, Preset]:
    """The analysis and preset to burn subtitles into a ``size`` crop: laid out for that frame, the dialogue
    above the platform's bottom zone and between its sides, the badges below its top zone."""
    width, height = size
    zone = preset.reel.zone()
    ass = replace(preset.ass, margin_v=round(zone.bottom * height), margin_top=round(zone.top * height),
                  margin_l=round(zone.left * width), margin_r=round(zone.right * width))
    return replace(analysis, source=replace(analysis.source, width=width, height=height)), replace(preset, ass=ass)


def crop_size(width: int, height: int, aspect: str) -> tuple[int, int]:
    """The largest crop of ``aspect`` in a ``width`` x ``height`` frame (even sizes, for H.264)."""
    ratio = ASPECTS[aspect]
    if ratio is None:
        return width, height
    w, h = ratio
    if width * h >= height * w:   # the frame is wider: full height
        return min(width, 2 * round(height * w / h / 2)), height
    return width, min(height, 2 * round(width * h / w / 2))


def detector() -> Any:
    """OpenCV's frontal-face cascade, from the package itself."""
    try:
        import cv2
    except ImportError:
        raise UsageError("vertical reels find faces with OpenCV: pip install 'mediatagger[vertical]'") from None
    folder = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(str(folder / "haarcascade_frontalface_default.xml"))
    if cascade.empty():
        raise UsageError("OpenCV's face model is missing from its package: reinstall opencv-python-headless")
    return cascade


def frame(info: MediaInfo, start: Fraction, length: Fraction, aspect: str) -> Framing:
    """The crop of the clip from ``start`` (s, media time) lasting ``length``."""
    assert info.width and info.height
    width, height = crop_size(info.width, info.height, aspect)
    samples = sampled(info, start, length)
    keys, found = path(samples, info.width, width)
    return Framing(width, height, tuple(keys), found)


def sampled(info: MediaInfo, start: Fraction, length: Fraction) -> list[Sample]:
    """The clip's samples: faces, cuts and the stereo balance at each."""
    assert info.width and info.height
    height = 2 * round(SAMPLE_W * info.height / info.width / 2)
    pictures = pictures_of(info, start, length, height)
    balance = balances(info, start, length, len(pictures))
    cascade, scale = detector(), info.width / SAMPLE_W
    out, last = [], None
    for k, picture in enumerate(pictures):
        thumb = picture[::SAMPLE_W // THUMB_W, ::SAMPLE_W // THUMB_W].astype(np.float32)
        cut = last is not None and float(np.abs(thumb - last).mean()) > CUT_LEVEL
        found = cascade.detectMultiScale(picture, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        faces = tuple(Face((x + w / 2) * scale, w * scale) for x, _, w, _ in found)
        out.append(Sample(k * 1000 // SAMPLE_FPS, faces, cut, balance[k]))
        last = thumb
    return steady(out, info.width)


def steady(samples: list[Sample], width: int) -> list[Sample]:
    """Only faces also found near there in the sample before or after (in the same shot): a pattern the
    cascade mistakes for a face in one frame does not move the crop."""
    def near(face: Face, other: Sample | None) -> bool:
        return other is not None and any(abs(f.x - face.x) < STEADY * width for f in other.faces)

    out = []
    for k, sample in enumerate(samples):
        before = samples[k - 1] if k and not sample.cut else None
        after = samples[k + 1] if k + 1 < len(samples) and not samples[k + 1].cut else None
        kept = tuple(f for f in sample.faces if near(f, before) or near(f, after))
        out.append(replace(sample, faces=kept))
    return out


def pictures_of(info: MediaInfo, start: Fraction, length: Fraction, height: int) -> np.ndarray:
    """Grey pictures SAMPLE_W x ``height``, SAMPLE_FPS a second, of the clip (read from ffmpeg's output:
    nothing goes to disk)."""
    data = np.frombuffer(media.piped(["-loglevel", "error", "-ss", f"{float(start + info.origin):.6f}",
                                      *media.input_args(info.path), "-t", f"{float(length):.6f}", "-map", "0:v:0",
                                      "-vf", f"fps={SAMPLE_FPS},scale={SAMPLE_W}:{height}", "-pix_fmt", "gray",
                                      "-f", "rawvideo", "pipe:1"], info.path, "cannot read the clip's picture"),
                         np.uint8)
    return data[:len(data) // (SAMPLE_W * height) * SAMPLE_W * height].reshape(-1, height, SAMPLE_W)


def balances(info: MediaInfo, start: Fraction, length: Fraction, count: int) -> list[float]:
    """The stereo balance around each sample (0 everywhere for a mono or silent clip)."""
    if not info.audio_tracks or info.audio_tracks[0].channels < 2:
        return [0.0] * count
    sound = media.sound(info, start, length, 2, AUDIO_RATE)
    step = AUDIO_RATE // SAMPLE_FPS
    out = []
    for k in range(count):
        window = sound[max(0, (k - 2) * step):(k + 3) * step]
        left, right = (float(np.sqrt(np.mean(window[:, c] ** 2))) if len(window) else 0.0 for c in (0, 1))
        out.append((right - left) / (right + left) if right + left > 1e-6 else 0.0)
    return out


def path(samples: list[Sample], source_width: int, width: int) -> tuple[list[tuple[int, int]], bool]:
    """The crop's left edge at each sample (eased within a shot, a jump at a cut), and whether every
    shot had a face."""
    keys: list[tuple[int, int]] = []
    found_all = True
    bounds = [k for k, s in enumerate(samples) if k == 0 or s.cut] + [len(samples)]
    for first, end in zip(bounds, bounds[1:]):
        targets = shot_targets(samples[first:end], source_width)
        found_all &= any(t is not None for t in targets)
        keys += eased(samples[first:end], targets, source_width, width, keys[-1][1] if keys else None)
    return keys, found_all


def shot_targets(shot: list[Sample], source_width: int) -> list[float | None]:
    """The face centre the crop aims at in each sample of a shot (None: no face there)."""
    out: list[float | None] = []
    followed: float | None = None
    for sample in shot:
        followed = chosen(sample, followed)
        out.append(followed if sample.faces else None)
    return out


def chosen(sample: Sample, followed: float | None) -> float | None:
    """The face to follow: the speaker's side when the sound leans, else the one followed, else the largest."""
    if not sample.faces:
        return followed
    if len(sample.faces) > 1 and abs(sample.balance) >= SPEAKER_BALANCE:
        side = sorted(sample.faces, key=lambda f: f.x)
        return (side[-1] if sample.balance > 0 else side[0]).x
    if followed is not None:
        return min(sample.faces, key=lambda f: abs(f.x - followed)).x
    return max(sample.faces, key=lambda f: f.size).x


def eased(shot: list[Sample], targets: list[float | None], source_width: int, width: int,
          before: int | None) -> list[tuple[int, int]]:
    """The crop's left edge over one shot: it starts on the shot's first face (or the centre), then
    eases toward each new aim; after a shot (``before``: where its crop ended) a key just before this
    one's first sample holds that, so the cut is one jump."""
    known = [t for t in targets if t is not None]
    aim = known[0] if known else source_width / 2
    centre, keys = aim, list[tuple[int, int]]()
    for sample, target in zip(shot, targets):
        if target is not None and abs(target - aim) >= DEADZONE * source_width:
            aim = target
        if keys:
            centre += (aim - centre) * (1 - math.exp(-1 / SAMPLE_FPS / EASE_S))
        left = int(round(min(max(centre - width / 2, 0), source_width - width)))
        if not keys and before is not None:
            keys.append((max(sample.ms - 1, 0), before))
        keys.append((sample.ms, left))
    return keys


def expression(keys: list[tuple[int, int]], offset_s: float) -> str:
    """The left edge as an ffmpeg expression of the filter's time ``t`` (``offset_s`` at the clip's
    start): linear between keys, as a sum of pieces (commas escaped for the filtergraph)."""
    terms = []
    for (a_ms, a), (b_ms, b) in zip(keys, keys[1:]):
        a_s, b_s = offset_s + a_ms / 1000, offset_s + b_ms / 1000
        if b_s <= a_s:
            continue
        slope = (b - a) / (b_s - a_s)
        terms.append(f"gte(t,{a_s:.4f})*lt(t,{b_s:.4f})*({a}+{slope:.4f}*(t-{a_s:.4f}))")
    last_s, last = offset_s + keys[-1][0] / 1000, keys[-1][1]
    terms.append(f"gte(t,{last_s:.4f})*{last}")
    first_s, first = offset_s + keys[0][0] / 1000, keys[0][1]
    terms.append(f"lt(t,{first_s:.4f})*{first}")
    return "+".join(terms).replace(",", "\\,")


def crop_filter(framing: Framing, offset_s: float) -> str:
    """``crop=W:H:x=...:y=...``: the framing's crop, its x following the keys (``offset_s``: the filter's
    time at the clip's start)."""
    return f"crop={framing.width}:{framing.height}:x='{expression(list(framing.keys), offset_s)}':y='(ih-oh)/2'"
