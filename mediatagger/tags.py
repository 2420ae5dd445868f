"""Our labels, SenseVoice's vocabulary and its rich-text tokens (``<|en|><|HAPPY|><|Laughter|><|withitn|>``),
and the AudioSet classes the AudioSet detector hears, mapped to our labels."""

from __future__ import annotations

import functools
import html
import re
import zlib
from dataclasses import dataclass
from importlib import resources

LANGUAGES = ("auto", "zh", "en", "yue", "ja", "ko")
SPEECH = "SPEECH"
SPAN_KINDS = ("events", "emotions")   # an analysis's two kinds of span: a track's events and its emotions
QUIET = "_QUIET"  # AudioSet curves' silent stretches (no AudioSet class makes this key: keys never start with _)


@dataclass(frozen=True)
class Label:
    """One thing mediatagger finds, as every output names and colours it."""

    name: str                # LAUGHTER
    family: str              # "event" or "emotion"
    en: str                  # Laughter
    zh: str                  # 笑声
    emoji: str | None        # SenseVoice's own emoji for the tag (funasr's rich-text post-processing)
    color: str               # default Resolve marker colour
    sdh: str | None = None   # subtitle text for the hard of hearing when not [name]: music is ♪


LABELS: dict[str, Label] = {label.name: label for label in (
    Label("LAUGHTER", "event", "Laughter", "笑声", "😀", "Yellow"),
    Label("APPLAUSE", "event", "Applause", "掌声", "👏", "Green"),
    Label("BGM", "event", "Music", "音乐", "🎼", "Purple", sdh="♪"),
    Label("CRY", "event", "Crying", "哭声", "😭", "Cyan"),
    Label("COUGH", "event", "Cough", "咳嗽", "🤧", "Sand"),
    Label("SNEEZE", "event", "Sneeze", "喷嚏", "🤧", "Sand"),
    Label("BREATH", "event", "Breath", "呼吸", None, "Cream"),
    Label("HAPPY", "emotion", "Happy", "开心", "😊", "Lemon"),
    Label("SAD", "emotion", "Sad", "伤心", "😔", "Sky"),
    Label("ANGRY", "emotion", "Angry", "生气", "😡", "Red"),
    Label("NEUTRAL", "emotion", "Neutral", "中性", None, "Cocoa"),
    Label("FEARFUL", "emotion", "Fearful", "恐惧", "😰", "Lavender"),
    Label("DISGUSTED", "emotion", "Disgusted", "厌恶", "🤢", "Mint"),
    Label("SURPRISED", "emotion", "Surprised", "惊讶", "😮", "Pink"),
)}
EVENTS = tuple(n for n, label in LABELS.items() if label.family == "event")
EMOTIONS = tuple(n for n, label in LABELS.items() if label.family == "emotion")

# SenseVoice's tokens -> our labels (a backend with another vocabulary maps its own tokens here; a label
# it lacks is simply never found). None marks "known token, no label" (never becomes a span).
EVENT_TOKENS = {"Speech": SPEECH, "BGM": "BGM", "Applause": "APPLAUSE", "Laughter": "LAUGHTER",
                "Cry": "CRY", "Sneeze": "SNEEZE", "Breath": "BREATH", "Cough": "COUGH",
                "Event_UNK": None}
EMOTION_TOKENS = {**{e: e for e in EMOTIONS}, "EMO_UNKNOWN": None}
LANGUAGE_TOKENS = {"zh": "zh", "en": "en", "yue": "yue", "ja": "ja", "ko": "ko", "nospeech": None}
ITN_TOKENS = {"withitn": True, "woitn": False}

# the classes at SenseVoice's event and emotion query positions, as our labels (the "unknown"
# tokens keep names of their own so every position's distribution is complete)
EVENT_CLASSES = {token: label or "EVENT_UNK" for token, label in EVENT_TOKENS.items()}
EMOTION_CLASSES = {token: label or "EMO_UNKNOWN" for token, label in EMOTION_TOKENS.items()}

LABEL_LANGUAGES = ("en", "zh")
LABEL_NAMES = {lang: {n: getattr(label, lang) for n, label in LABELS.items()} for lang in LABEL_LANGUAGES}
EMOJI = {n: label.emoji for n, label in LABELS.items() if label.emoji}
MARKER_COLORS = {n: label.color for n, label in LABELS.items()}
# Resolve's marker colours as RGB, for formats and pages that take any colour (Shotcut, the web console)
RGB_COLORS = {"Blue": "#3b82f6", "Cyan": "#06b6d4", "Green": "#22c55e", "Yellow": "#eab308", "Red": "#ef4444",
              "Pink": "#ec4899", "Purple": "#a855f7", "Fuchsia": "#d946ef", "Rose": "#f43f5e",
              "Lavender": "#a78bfa", "Sky": "#38bdf8", "Mint": "#34d399", "Lemon": "#facc15", "Sand": "#d6b88c",
              "Cocoa": "#92400e", "Cream": "#fde68a"}

RICH_FORMS = ("plain", "raw", "labels", "emoji", "html")

# AudioSet classes (by their ontology names) -> our event labels: a label's probability is the sum of
# its classes' (capped at 1). Music is the "Music" class alone: YAMNet's genre and instrument classes
# fire on speech and noise too, and "Music" already covers them.
AUDIOSET_FAMILIES: dict[str, tuple[str, ...]] = {
    "LAUGHTER": ("Laughter", "Baby laughter", "Giggle", "Snicker", "Belly laugh", "Chuckle, chortle"),
    "APPLAUSE": ("Applause", "Clapping", "Cheering"),
    "BGM": ("Music",),
    "CRY": ("Crying, sobbing", "Baby cry, infant cry", "Whimper", "Wail, moan"),
    "COUGH": ("Cough", "Throat clearing"),
    "SNEEZE": ("Sneeze",),
    "BREATH": ("Breathing", "Wheeze", "Snoring", "Gasp", "Pant"),
}
# colours for AudioSet classes asked for as labels of their own: those no built-in event uses
EXTRA_COLORS = ("Fuchsia", "Rose", "Blue")


@functools.cache
def audioset_classes() -> tuple[str, ...]:
    """The 521 AudioSet class names in YAMNet's output order (shipped with mediatagger, so labels are
    known without the model)."""
    package = __name__.rpartition(".")[0]  # mediatagger, or the Blender add-on's copy (blender/pack.py)
    text = resources.files(package).joinpath("audioset_classes.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


def audioset_key(name: str) -> str:
    """An AudioSet class name as a label: ``Gunshot, gunfire`` -> ``GUNSHOT_GUNFIRE``."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


def own_label(name: str) -> str | None:
    """The label of ours an AudioSet class name stands for already (Music -> BGM, Laughter -> LAUGHTER,
    Speech -> SPEECH), or None."""
    key = audioset_key(name)
    ours = {label.en.upper(): n for n, label in LABELS.items()} | {n: n for n in LABELS} | {SPEECH: SPEECH}
    return ours.get(key)


@functools.cache
def audioset_labels() -> dict[str, str]:
    """Label -> AudioSet class name, for every class that is not one of our labels already."""
    return {audioset_key(name): name for name in audioset_classes() if own_label(name) is None}


def audioset_label(name: str) -> str | None:
    """The label an AudioSet class name (any case) or label stands for, or None if it names no class."""
    key = audioset_key(name)
    return key if key in audioset_labels() else None


def color_of(label: str) -> str | None:
    """A label's default Resolve colour: its own, or for an AudioSet class one picked by its name."""
    if label in LABELS:
        return LABELS[label].color
    if label in audioset_labels():
        return EXTRA_COLORS[zlib.crc32(label.encode()) % len(EXTRA_COLORS)]
    return None

OTHER_RGB = "#94a3b8"   # a label without a colour of its own (speech, a class nobody coloured)


def rgb(label: str) -> str:
    """A label's colour for pages (the console, the summary): its marker colour as RGB, as the exports show it."""
    return RGB_COLORS.get(color_of(label) or "", OTHER_RGB)


_TOKEN = re.compile(r"<\|([^|<>]*)\|>")


@dataclass(frozen=True)
class RichText:
    """One decoded segment: the tags SenseVoice put in front of the text, and the text."""

    language: str | None
    emotion: str | None
    event: str | None
    itn: bool | None
    text: str


def parse_rich(raw: str) -> RichText:
    """Split ``<|lang|><|EMO|><|Event|><|itn|>text`` into tags and text.

    Tokens are recognised by vocabulary, not position, so a model that emits them in another order
    or leaves one out still parses; unknown tokens are dropped from the text.
    """
    found: dict[str, object] = {}
    tables = (("language", LANGUAGE_TOKENS), ("emotion", EMOTION_TOKENS),
              ("event", EVENT_TOKENS), ("itn", ITN_TOKENS))
    for token in _TOKEN.findall(raw):
        for field, table in tables:
            if token in table and field not in found:
                found[field] = table[token]
                break
    text = " ".join(_TOKEN.sub(" ", raw).split())
    return RichText(language=found.get("language"), emotion=found.get("emotion"),  # type: ignore[arg-type]
                    event=found.get("event"), itn=found.get("itn"), text=text)  # type: ignore[arg-type]


def label_name(label: str, lang: str = "en") -> str:
    """A human name for a label (``LAUGHTER`` -> ``Laughter`` / ``笑声``)."""
    names = LABEL_NAMES.get(lang, LABEL_NAMES["en"])
    if label in names:
        return names[label]
    return audioset_labels().get(label) or label.title()


def rich_text(text: str, emotion: str | None, event: str | None, form: str = "labels", lang: str = "en") -> str:
    """A segment's text with its emotion before it and its event (other than speech) after it.

    ``raw``: ``<|HAPPY|>你好啊<|Laughter|>``; ``labels``: ``[开心] 你好啊 [笑声]`` (``lang="zh"``) or
    ``[Happy] 你好啊 [Laughter]``; ``emoji``: ``😊 你好啊 😀``; ``html``: ``<span class="emotion happy">你好啊</span>
    <span class="event laughter">Laughter</span>`` (text escaped); ``plain``: the text alone.
    """
    event = None if event == SPEECH else event
    if form == "plain":
        return text
    if form == "raw":
        tokens = {label: token for token, label in EVENT_TOKENS.items() if label}
        return (f"<|{emotion}|>" if emotion else "") + text + (f"<|{tokens.get(event, event)}|>" if event else "")
    if form == "html":
        body = html.escape(text)
        if emotion:
            body = f'<span class="emotion {emotion.lower()}">{body}</span>'
        if event:
            body += f' <span class="event {event.lower()}">{html.escape(label_name(event, lang))}</span>'
        return body
    if form == "emoji":
        parts = [EMOJI.get(emotion or "", ""), text, EMOJI.get(event or "", "")]
    else:
        parts = [f"[{label_name(emotion, lang)}]" if emotion else "", text,
                 f"[{label_name(event, lang)}]" if event else ""]
    return " ".join(p for p in parts if p)
