"""YAML presets -> frozen, typed option objects. Unknown keys and wrong types are errors.

A preset file may set any subset of the keys of ``presets/default.yaml``; what it leaves out keeps
the default. ``--preset`` takes a shipped name (``default``) or a path.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mediatagger.errors import PresetError, UnknownChoiceError, UsageError

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"
RESOLVE_COLORS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose",
                  "Lavender", "Sky", "Mint", "Lemon", "Sand", "Cocoa", "Cream")


@dataclass(frozen=True)
class ModelOptions:
    name: str = "iic/SenseVoiceSmall"  # hub id or local SenseVoiceSmall folder (env MEDIATAGGER_MODEL)
    vad: str = "fsmn"                  # fsmn | silero | none | a local fsmn-vad folder
    language: str = "auto"             # auto | zh | en | yue | ja | ko
    itn: bool = True                   # inverse text normalisation (punctuation, numbers)
    device: str = "cpu"                # cpu | cuda | cuda:N
    batch_seconds: int = 60            # audio seconds per inference batch


@dataclass(frozen=True)
class VadOptions:
    max_segment_ms: int = 15000        # longer speech regions are cut into pieces
    join_gap_ms: int = 200             # speech regions closer than this become one
    min_speech_ms: int = 250           # shorter regions are dropped
    silero_threshold: float = 0.5      # silero speech probability threshold


@dataclass(frozen=True)
class ScanOptions:
    enabled: bool = True               # scan the non-speech gaps too (else: tags of speech segments only)
    window_ms: int = 1000              # coarse windows tile the gaps between speech segments
    fine_window_ms: int = 500          # finer windows around each event boundary the coarse pass finds
    fine_hop_ms: int = 100
    grid_ms: int = 50                  # stored probability curves are sampled every grid_ms


@dataclass(frozen=True)
class SpanOptions:
    on_level: float = 0.5              # a span starts where a class's probability reaches this ...
    off_level: float = 0.35            # ... and lasts while it stays at or above this (hysteresis)
    on_by_label: dict[str, float] = field(default_factory=dict)   # per-label on thresholds
    off_by_label: dict[str, float] = field(default_factory=dict)  # per-label off thresholds
    merge_gap_ms: int = 300            # same-label spans closer than this are joined
    min_duration_ms: int = 300         # shorter spans are dropped
    pad_ms: int = 0                    # widen every span by this much on both sides

    def thresholds(self, label: str) -> tuple[float, float]:
        on = self.on_by_label.get(label, self.on_level)
        return on, min(on, self.off_by_label.get(label, self.off_level))


BURN_CHOICES = ("none", "badges", "all")


@dataclass(frozen=True)
class ClipOptions:
    labels: tuple[str, ...] = ("LAUGHTER", "APPLAUSE")  # which event labels become clips
    min_score: float = 0.0             # spans scored below this are left out
    pad_before_ms: int = 4000          # pre-roll: a laugh needs its setup
    pad_after_ms: int = 1000           # post-roll
    merge_gap_ms: int = 1000           # padded clips closer than this become one
    min_clip_ms: int = 3000            # shorter clips are widened evenly
    max_clip_ms: int = 20000           # longer clips are cut from their best span's pre-roll (0: no limit)
    order: str = "time"                # time | score: the reel's order
    target_ms: int = 0                 # 0: every clip; else the best (score x duration) up to this total
    cut: str = "accurate"              # accurate: re-encode, frame-exact | fast: stream copy, keyframe-snapped
    crossfade_ms: int = 500            # reel transitions (xfade/acrossfade); 0: hard cuts
    audio_fade_ms: int = 30            # with hard cuts, audio fades in and out this fast (no clicks)
    burn: str = "none"                 # none | badges | all: burn event badges (or the whole styled ASS) in
    crf: int = 18                      # x264 quality of re-encoded clips
    x264_preset: str = "veryfast"      # x264 speed/size trade-off
    audio_bitrate: str = "192k"


@dataclass(frozen=True)
class EdlOptions:
    start_tc: str = "01:00:00:00"      # record timecode of the timeline's first frame
    colors: dict[str, str] = field(default_factory=dict)  # label -> Resolve colour name
    default_color: str = "Blue"


@dataclass(frozen=True)
class AssStyle:
    color: str = "&H00FFFFFF"          # primary colour, ASS &HAABBGGRR
    outline: str = "&H00000000"


@dataclass(frozen=True)
class AssOptions:
    font: str = "DejaVu Sans"          # bundled, so burn-in works on machines without fonts
    font_size: int = 0                 # 0: 5 % of the video height
    margin_v: int = 0                  # 0: 5 % of the video height
    badge_color: str = "&H0000FFFF"
    fade_ms: int = 150
    karaoke: bool = False              # \k word highlighting from the segments' word times
    emotion_styles: dict[str, AssStyle] = field(default_factory=dict)  # emotion -> style


@dataclass(frozen=True)
class TextOptions:
    rich: str = "plain"                # plain | raw | labels | emoji | html (tags.rich_text)
    label_lang: str = "en"             # en | zh: [Laughter] / [笑声]


@dataclass(frozen=True)
class Preset:
    model: ModelOptions = field(default_factory=ModelOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    scan: ScanOptions = field(default_factory=ScanOptions)
    spans: SpanOptions = field(default_factory=SpanOptions)
    clips: ClipOptions = field(default_factory=ClipOptions)
    edl: EdlOptions = field(default_factory=EdlOptions)
    ass: AssOptions = field(default_factory=AssOptions)
    text: TextOptions = field(default_factory=TextOptions)


SCALARS: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "str": str, "bool": bool}


def _check_type(value: Any, hint: Any, where: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, source, where)  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(value, list):
            raise PresetError(source, f"{where} must be a list, got {value!r}")
        return tuple(_check_type(v, typing.get_args(hint)[0], where, source) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise PresetError(source, f"{where} must be a mapping, got {value!r}")
        _, value_hint = typing.get_args(hint)
        return {str(k): _check_type(v, value_hint, f"{where}.{k}", source) for k, v in value.items()}
    wanted = SCALARS[hint.__name__]
    if not isinstance(value, wanted) or (hint is not bool and isinstance(value, bool)):
        raise PresetError(source, f"{where} must be {hint.__name__}, got {value!r}")
    return float(typing.cast(float, value)) if hint is float else value


def build(cls: type, data: Any, source: str, where: str = "") -> Any:
    """Make ``cls`` from a mapping, naming the file, the key and the allowed keys on error."""
    if not isinstance(data, dict):
        raise PresetError(source, f"{where or 'the preset'} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    allowed = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in allowed:
            raise PresetError(source, f"unknown key {path!r} (allowed: {', '.join(allowed)})")
        values[key] = _check_type(value, hints[key], path, source)
    return cls(**values)


def shipped() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise PresetError(path, "preset file not found")
        return path
    if name_or_path not in shipped():
        raise UnknownChoiceError("preset", name_or_path, shipped())
    return PRESET_DIR / f"{name_or_path}.yaml"


def load(name_or_path: str = "default") -> Preset:
    """Load a shipped preset by name or a YAML file by path."""
    path = resolve(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PresetError(path, f"cannot read preset: {str(exc).splitlines()[0]}") from None
    preset = build(Preset, data, str(path))
    validate(preset, str(path))
    return preset


def check_start_tc(text: str) -> str:
    """``source`` or a timecode such as ``01:00:00:00`` / ``01:00:00;00`` (frames are checked per rate later)."""
    from mediatagger.timecode import TIMECODE

    if text != "source" and not TIMECODE.match(text):
        raise UsageError(f"start timecode {text!r} is not HH:MM:SS:FF or 'source'")
    return text


def validate(preset: Preset, source: str) -> None:
    """Checks that cross fields: colour names, label names, languages."""
    from mediatagger.tags import EMOTIONS, EVENTS, LANGUAGES, RICH_FORMS

    for label, color in {**preset.edl.colors, "default_color": preset.edl.default_color}.items():
        if color not in RESOLVE_COLORS:
            raise PresetError(source, f"edl colour {color!r} for {label} is not one of Resolve's: "
                              + ", ".join(RESOLVE_COLORS))
    spans = preset.spans
    for label in [*preset.clips.labels, *preset.edl.colors, *spans.on_by_label, *spans.off_by_label]:
        if label not in EVENTS + EMOTIONS:
            raise PresetError(source, f"unknown label {label!r} (labels: {', '.join(EVENTS + EMOTIONS)})")
    for emotion in preset.ass.emotion_styles:
        if emotion not in EMOTIONS:
            raise PresetError(source, f"unknown emotion {emotion!r} (emotions: {', '.join(EMOTIONS)})")
    if preset.model.language not in LANGUAGES:
        raise PresetError(source, f"model.language {preset.model.language!r} is not one of {', '.join(LANGUAGES)}")
    for name, value in [("on_level", spans.on_level), ("off_level", spans.off_level), *spans.on_by_label.items(),
                        *spans.off_by_label.items()]:
        if not 0.0 <= value <= 1.0:
            raise PresetError(source, f"spans threshold {name} = {value} is not within [0, 1]")
    clips = preset.clips
    if clips.order not in ("time", "score") or clips.cut not in ("accurate", "fast") or \
            clips.burn not in BURN_CHOICES:
        raise PresetError(source, f"clips.order must be time or score, clips.cut accurate or fast and clips.burn "
                                  f"{' or '.join(BURN_CHOICES)}; got {clips.order!r}, {clips.cut!r}, {clips.burn!r}")
    if clips.min_score < 0 or clips.min_score > 1 or min(clips.min_clip_ms, clips.max_clip_ms, clips.target_ms,
                                                          clips.crossfade_ms, clips.audio_fade_ms) < 0:
        raise PresetError(source, "clips: min_score must lie in [0, 1] and lengths must not be negative")
    try:
        check_start_tc(preset.edl.start_tc)
    except UsageError as exc:
        raise PresetError(source, f"edl.{exc}") from None
    if preset.text.label_lang not in ("en", "zh"):
        raise PresetError(source, f"text.label_lang {preset.text.label_lang!r} is not one of en, zh")
    if preset.text.rich not in RICH_FORMS:
        raise PresetError(source, f"text.rich {preset.text.rich!r} is not one of {', '.join(RICH_FORMS)}")


def override(preset: Preset, section: str, **changes: Any) -> Preset:
    """A copy of ``preset`` with the given fields of one section replaced (None leaves a field)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return preset
    return dataclasses.replace(preset, **{section: dataclasses.replace(getattr(preset, section), **changes)})
