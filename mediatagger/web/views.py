"""What the console shows, as plain strings and rows: no Gradio here, so it is tested without a server.

Every text that comes from media -- transcripts, file names, container titles -- goes through
``html.escape`` before it is part of markup; numbers and our own label names are the only other
things in it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from mediatagger import fusion, tags
from mediatagger.analysis import Analysis, TrackResult, event_options
from mediatagger.presets import EventOptions
from mediatagger.scan import Curves
from mediatagger.timecode import ms_to_tc, tc_to_frames
from mediatagger.timeline import Span

# Resolve's marker colours (the label table's default colours) as CSS colours
CSS_COLORS = tags.RGB_COLORS
SPEECH_COLOR = "#94a3b8"
ROW = 20          # px: one bar row of the timeline
CURVE = 70        # px: the probability curves of a track
MARGIN = 70       # px: the lane names, left of the track
WIDTH = 1000      # px: the whole track, left to right (the SVG scales to the page)
# the two detectors' curves: SenseVoice's solid, AudioSet's dashed (product names: the same in every language)
DETECTOR_NAMES = {"sensevoice": "SenseVoice", "audioset": "AudioSet"}
DASHES = {"sensevoice": "", "audioset": "5 3"}


def color(label: str) -> str:
    """A label's colour: ours from the label table, an AudioSet class's as its markers get it."""
    return CSS_COLORS.get(tags.color_of(label) or "", SPEECH_COLOR)


def extra_labels(analysis: Analysis) -> tuple[str, ...]:
    """The AudioSet classes the analysis holds as labels of their own, in stored order."""
    found = (fusion.event_labels(t.audioset)[len(tags.EVENTS):] for t in analysis.tracks if t.audioset is not None)
    return tuple(dict.fromkeys(label for labels in found for label in labels))


def clock(ms: int) -> str:
    """``M:SS.s`` for hovers and the table when the source has no frame rate."""
    seconds = ms / 1000
    return f"{int(seconds // 3600)}:{int(seconds // 60 % 60):02d}:{seconds % 60:04.1f}"


def timecode(analysis: Analysis, ms: int) -> str:
    """The source's timecode at ``ms`` (its start timecode added), or a clock for audio-only files."""
    fps = analysis.source.fps
    if fps is None:
        return clock(ms)
    start = tc_to_frames(analysis.source.start_timecode, fps) if analysis.source.start_timecode else 0
    return ms_to_tc(ms, fps, start)


def said(analysis: Analysis, span: Span) -> str:
    """What was said during ``span`` on its track: the text of the segments it overlaps."""
    texts = [s.text for t in analysis.tracks if t.index == span.track for s in t.segments
             if s.start_ms < span.end_ms and span.start_ms < s.end_ms and s.text]
    return " ".join(texts)


def family(label: str) -> str:
    """A label's family for the table: ours from the label table; an AudioSet class is an event."""
    return tags.LABELS[label].family if label in tags.LABELS else "event"


def span_rows(analysis: Analysis, lang: str = "en") -> list[list[object]]:
    """The table: track, in, out, label, family, score, what was said -- events and emotions in time order."""
    spans = sorted(analysis.spans("events") + analysis.spans("emotions"), key=lambda s: (s.start_ms, s.track))
    return [[s.track, timecode(analysis, s.start_ms), timecode(analysis, s.end_ms), tags.label_name(s.label, lang),
             family(s.label), round(s.score or 0.0, 2), said(analysis, s)] for s in spans]


def span_starts(analysis: Analysis) -> list[int]:
    """Each table row's start, in ms, in the table's order (a row click seeks the player there)."""
    spans = sorted(analysis.spans("events") + analysis.spans("emotions"), key=lambda s: (s.start_ms, s.track))
    return [s.start_ms for s in spans]


def rich_html(text: str, form: str) -> str:
    """The rich text for the page: ``html`` is markup already (its text escaped by ``tags.rich_text``);
    every other form is text, escaped here."""
    lines = text.split("\n")
    if form != "html":
        lines = [html.escape(line) for line in lines]
    return '<div class="mt-rich">' + "<br>".join(lines) + "</div>"


def _x(ms: int, duration_ms: int) -> float:
    return round(MARGIN + WIDTH * ms / max(duration_ms, 1), 2)


def _bar(span: Span, y: int, duration_ms: int, lang: str, note: str = "") -> str:
    x0, x1 = _x(span.start_ms, duration_ms), _x(span.end_ms, duration_ms)
    score = "" if span.score is None else f" {span.score:.2f}"
    hover = f"{tags.label_name(span.label, lang)}{score} {clock(span.start_ms)}–{clock(span.end_ms)}{note}"
    return (f'<rect class="mt-bar" data-label="{html.escape(span.label)}" x="{x0}" y="{y}" '
            f'width="{max(x1 - x0, 1.0)}" height="{ROW - 4}" rx="3" fill="{color(span.label)}">'
            f"<title>{html.escape(hover)}</title></rect>")


@dataclass(frozen=True)
class Plot:
    """Where a track's curves go: the top of their band, the track's length, the label language."""

    y: int
    duration_ms: int
    lang: str


def _polyline(plot: Plot, curves: Curves, values: np.ndarray, label: str, detector: str) -> str:
    """One curve, each point at the middle of the time it stands for (the detectors' grids differ)."""
    step = max(1, len(values) // WIDTH)
    duration = max(plot.duration_ms, 1)
    points = " ".join(f"{round(MARGIN + WIDTH * min((i + 0.5) * curves.grid_ms, duration) / duration, 1)},"
                      f"{round(plot.y + CURVE - CURVE * v, 1)}" for i, v in list(enumerate(values))[::step])
    dash = f' stroke-dasharray="{DASHES[detector]}"' if DASHES[detector] else ""
    hover = f"{tags.label_name(label, plot.lang)} ({DETECTOR_NAMES[detector]})"
    return (f'<polyline class="mt-curve mt-{detector}" data-label="{html.escape(label)}" points="{points}" '
            f'fill="none" stroke="{color(label)}" stroke-width="1"{dash} opacity="0.7">'
            f"<title>{html.escape(hover)}</title></polyline>")


def _curves(track: TrackResult, plot: Plot, events: EventOptions) -> list[str]:
    """SenseVoice's event curves (solid) and AudioSet's (dashed, as spans read them: calibrated, its
    ``audioset_levels`` value drawn at 0.5, short dips filled), each label in its colour, where the track has them."""
    out = []
    if track.curves is not None:
        out += [_polyline(plot, track.curves, track.curves.probability(label), label, "sensevoice")
                for label in tags.EVENTS if label in track.curves.values]
    if track.audioset is not None:
        heard = fusion.audioset_values(track.audioset, events)
        out += [_polyline(plot, track.audioset, heard[label], label, "audioset")
                for label in fusion.event_labels(track.audioset) if label in heard and len(heard[label])]
    return out


def _track_svg(analysis: Analysis, track: TrackResult, top: int, lang: str) -> tuple[list[str], int]:
    duration = track.duration_ms or analysis.source.duration_ms
    parts = [f'<text x="0" y="{top + 14}" class="mt-lane">{html.escape(f"track {track.index}")}</text>']
    y = top + 4
    parts.append(f'<text x="0" y="{y + CURVE // 2 + 14}" class="mt-lane">p(event)</text>')
    parts += _curves(track, Plot(y, duration, lang), event_options(analysis))
    y += CURVE + 4
    ours = tuple(s for s in track.events if s.label in tags.LABELS)
    classes = tuple(s for s in track.events if s.label not in tags.LABELS)  # AudioSet's, on a lane of their own
    lanes = (("events", ours), *((("AudioSet", classes),) if classes else ()), ("emotions", track.emotions))
    for name, spans in lanes:
        parts.append(f'<text x="0" y="{y + 12}" class="mt-lane">{name}</text>')
        parts += [_bar(s, y, duration, lang) for s in spans]
        y += ROW
    parts.append(f'<text x="0" y="{y + 12}" class="mt-lane">speech</text>')
    for seg in track.segments:
        speech = Span(seg.start_ms, seg.end_ms, tags.SPEECH, seg.event_score, track.index)
        parts.append(_bar(speech, y, duration, lang, f": {seg.text}" if seg.text else ""))
    return parts, y + ROW + 8


def _line_key(detector: str) -> str:
    """A legend entry for one detector's curves: a short line drawn as its curves are, and its name."""
    dash = f' stroke-dasharray="{DASHES[detector]}"' if DASHES[detector] else ""
    return (f'<span class="mt-key mt-key-{detector}"><svg width="26" height="8" aria-hidden="true">'
            f'<line x1="0" y1="4" x2="26" y2="4" stroke="#64748b" stroke-width="2"{dash}/></svg> '
            f"{DETECTOR_NAMES[detector]}</span>")


def legend(analysis: Analysis, lang: str) -> str:
    """The colours of the labels (ours, then the analysis's AudioSet classes) and, where curves are
    drawn, which detector's line is which."""
    keys = [f'<span class="mt-key" style="color:{color(label)}">■ {html.escape(tags.label_name(label, lang))}</span>'
            for label in tags.EVENTS + tags.EMOTIONS + extra_labels(analysis)]
    drawn = [d for d, has in (("sensevoice", any(t.curves is not None for t in analysis.tracks)),
                              ("audioset", any(t.audioset is not None for t in analysis.tracks))) if has]
    lines = f'<div class="mt-legend mt-detectors">{" ".join(_line_key(d) for d in drawn)}</div>' if drawn else ""
    return f'<div class="mt-legend">{" ".join(keys)}</div>{lines}'


def timeline_svg(analysis: Analysis, lang: str = "en") -> str:
    """Per track: the event probability curves (SenseVoice's solid, AudioSet's dashed), then event
    bars, emotion bars and the transcript segments; each bar's hover names its label, score and times
    (and what was said)."""
    parts, y = [], 0
    for track in analysis.tracks:
        drawn, y = _track_svg(analysis, track, y, lang)
        parts += drawn
    return (f'<div class="mt-timeline"><svg viewBox="0 0 {MARGIN + WIDTH} {max(y, 1)}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg" role="img">'
            f'{"".join(parts)}</svg>{legend(analysis, lang)}</div>')
