"""Styled ASS subtitles (burn-in ready), built with pysubs2.

Dialogue sits at the bottom in a style per emotion, in the preset's rich-text form
(``text.rich``), optionally as karaoke (``\\k``) from the segments' word times; event badges such
as ``[Laughter]`` sit at the top (``\\an8``) on a higher layer with short fades. Times are snapped
to frame starts and floored to centiseconds, so a cue appears on the frame its span starts on,
not a frame late.
"""

from __future__ import annotations

import unicodedata
from fractions import Fraction

import pysubs2

from mediatagger.analysis import Analysis, Segment, Word
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.text import clean_lines, one_line
from mediatagger.presets import AssOptions, Preset
from mediatagger.tags import EMOTIONS, label_name, rich_text
from mediatagger.timecode import snap_ms

DEFAULT_SIZE = (1920, 1080)
UNSUNG = "&H00A0A0A0"   # karaoke: words not yet spoken (the style's secondary colour) are grey


def color(text: str) -> pysubs2.Color:
    """``&HAABBGGRR`` (or ``&HBBGGRR``) -> pysubs2.Color."""
    value = int(text.strip().lstrip("&Hh").rstrip("&"), 16)
    return pysubs2.Color(r=value & 0xFF, g=(value >> 8) & 0xFF, b=(value >> 16) & 0xFF,
                         a=(value >> 24) & 0xFF)


def escape(text: str) -> str:
    r"""Plain text -> ASS event text that libass shows as written (empty when it shows nothing).

    ``\{`` and ``\}`` are libass's literal braces; a word joiner after each backslash keeps it
    from starting an escape such as ``\N``. Lines are cleaned as for every subtitle format.
    """
    return "\\N".join(escape_inline(line) for line in clean_lines(text))


def escape_inline(text: str) -> str:
    """One piece of a line, kept as spaced: control characters become spaces, then ``escape``'s rules."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def karaoke(words: tuple[Word, ...], line_start_ms: int) -> str:
    """``{\\k20}So {\\k35}I ...``: each word's highlight lasts its spoken time; silences get an empty ``\\k``.

    Durations come from cumulative centiseconds, so rounding never drifts along the line.
    """
    out, cursor = [], line_start_ms // 10
    for i, word in enumerate(words):
        start, end = max(cursor, word.start_ms // 10), max(cursor, word.end_ms // 10)
        if start > cursor:
            out.append(f"{{\\k{start - cursor}}}")
        text = escape_inline(one_line(word.text))
        nxt = words[i + 1].text if i + 1 < len(words) else ""
        space = " " if nxt and text and not (is_cjk(text[-1]) or is_cjk(nxt[0])) else ""
        out.append(f"{{\\k{end - start}}}{text}{space}")
        cursor = end
    return "".join(out)


def dialogue(seg: Segment, start_ms: int, preset: Preset) -> str:
    """A segment's event text: rich-text prefix and suffix around the (karaoke) transcript."""
    words = tuple(w for w in seg.words if one_line(w.text))
    core = karaoke(words, start_ms) if preset.ass.karaoke and words else escape(seg.text)
    if not core:
        return ""
    prefix, suffix = rich_text("\x00", seg.emotion, seg.event, preset.text.rich, preset.text.label_lang).split("\x00")
    return escape_inline(prefix) + core + escape_inline(suffix)


def cue_ms(ms: int, fps: Fraction | None) -> int:
    """Snap to the frame start, then floor to centiseconds (pysubs2 writes centiseconds)."""
    snapped = snap_ms(ms, fps) if fps else ms
    return snapped // 10 * 10


def styles(opts: AssOptions, height: int) -> dict[str, pysubs2.SSAStyle]:
    size = opts.font_size or max(12, round(height * 0.05))
    margin = opts.margin_v or round(height * 0.05)
    base = pysubs2.SSAStyle(fontname=opts.font, fontsize=size, outline=max(1, size // 16), shadow=1,
                            alignment=pysubs2.Alignment.BOTTOM_CENTER, marginv=margin, marginl=opts.margin_l or 10,
                            marginr=opts.margin_r or 10, secondarycolor=color(UNSUNG))
    out = {"Default": base,
           "Badge": base.copy()}
    out["Badge"].alignment = pysubs2.Alignment.TOP_CENTER
    out["Badge"].marginv = opts.margin_top or margin
    out["Badge"].primarycolor = color(opts.badge_color)
    out["Badge"].bold = True
    for emotion in EMOTIONS:
        style = opts.emotion_styles.get(emotion)
        if style:
            out[emotion] = base.copy()
            out[emotion].primarycolor = color(style.color)
            out[emotion].outlinecolor = color(style.outline)
    return out


def speaker(analysis: Analysis, track: int) -> str:
    """An event's Name (Aegisub's Actor): its track's name where the analysis has several (``Audience``),
    so an editor can tell the tracks' lines apart; on one line, without the commas that end ASS fields."""
    return one_line(analysis.track_name(track) or "").replace(",", " ")


def build(analysis: Analysis, preset: Preset) -> pysubs2.SSAFile:
    opts, fps = preset.ass, analysis.source.fps
    width, height = (analysis.source.width, analysis.source.height) if analysis.source.width \
        else DEFAULT_SIZE
    subs = pysubs2.SSAFile()
    subs.info.update({"Title": analysis.stem, "PlayResX": str(width), "PlayResY": str(height),
                      "ScaledBorderAndShadow": "yes", "WrapStyle": "0"})
    subs.styles = styles(opts, height or DEFAULT_SIZE[1])
    for track, seg in analysis.segments():
        start, end = cue_ms(seg.start_ms, fps), cue_ms(seg.end_ms, fps)
        text = dialogue(seg, start, preset)
        if text and end > start:
            style = seg.emotion if seg.emotion in subs.styles else "Default"
            subs.append(pysubs2.SSAEvent(start=start, end=end, text=text, style=style, name=speaker(analysis, track)))
    fade = f"{{\\an8\\fad({opts.fade_ms},{opts.fade_ms})}}"
    for span in analysis.spans("events"):
        start, end = cue_ms(span.start_ms, fps), cue_ms(span.end_ms, fps)
        if end > start:
            badge = f"{fade}[{escape(one_line(label_name(span.label, preset.text.label_lang)))}]"
            subs.append(pysubs2.SSAEvent(start=start, end=end, text=badge, style="Badge", layer=1,
                                         name=speaker(analysis, span.track)))
    subs.sort()
    return subs


def to_string(analysis: Analysis, preset: Preset) -> str:
    return build(analysis, preset).to_string("ass")


EXPORTER = Exporter("ass", ".ass", "styled ASS subtitles with event badges", to_string)
