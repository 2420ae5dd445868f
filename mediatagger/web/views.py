"""What the console shows, as plain strings and rows: no Gradio here, so it is tested without a server.

Every text that comes from media -- transcripts, file names, container titles -- goes through
``html.escape`` before it is part of markup; numbers and our own label names are the only other
things in it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

import numpy as np

from mediatagger import fusion, highlights, tags
from mediatagger.analysis import Analysis, TrackResult, event_options
from mediatagger.highlights import Clip
from mediatagger.presets import EventOptions
from mediatagger.progress import Progress
from mediatagger.scan import Curves
from mediatagger.tags import rgb as color
from mediatagger.timecode import clock
from mediatagger.timeline import Span
from mediatagger.web.strings import STAGES, TEXT

# Resolve's marker colours (the label table's default colours) as CSS colours
ROW = 26          # px: one bar row of the timeline
CURVE = 80        # px: the probability curves of a track
HEADING = 22      # px: the track's name, on a line of its own above its ruler (a title may be long)
RULER = 30        # px: the time ruler above a track
MARGIN = 140      # px: the lane names, left of the track
WIDTH = 1000      # px: the whole track, left to right (the SVG scales to the page)
TICKS_MS = (100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
            1_800_000, 3_600_000)   # the ruler's steps: the first that gives at most MOST_TICKS
MOST_TICKS = 10
HOUR_MS = 3_600_000
# the two detectors' curves: SenseVoice's solid, AudioSet's dashed (product names: the same in every language)
DETECTOR_NAMES = {"sensevoice": "SenseVoice", "audioset": "AudioSet"}
DASHES = {"sensevoice": "", "audioset": "5 3"}


def extra_labels(analysis: Analysis) -> tuple[str, ...]:
    """The AudioSet classes the analysis holds as labels of their own, in stored order."""
    found = (fusion.event_labels(t.audioset)[len(tags.EVENTS):] for t in analysis.tracks if t.audioset is not None)
    return tuple(dict.fromkeys(label for labels in found for label in labels))


def in_hours(analysis: Analysis) -> bool:
    """Whether the analysis's times are shown with hours: media of an hour or more."""
    return max([analysis.source.duration_ms or 0, *(t.duration_ms or 0 for t in analysis.tracks)]) >= HOUR_MS


def said(analysis: Analysis, span: Span) -> str:
    """What was said during ``span`` on its track: the text of the segments it overlaps."""
    texts = [s.text for t in analysis.tracks if t.index == span.track for s in t.segments
             if s.start_ms < span.end_ms and span.start_ms < s.end_ms and s.text]
    return " ".join(texts)


def family(label: str) -> str:
    """A label's family for the table: ours from the label table; an AudioSet class is an event."""
    return tags.LABELS[label].family if label in tags.LABELS else "event"


def span_rows(analysis: Analysis, lang: str = "en") -> list[list[object]]:
    """The table: track, in, out (``clock`` times), label, family, score, what was said -- events and
    emotions in time order."""
    spans = sorted(analysis.spans("events") + analysis.spans("emotions"), key=lambda s: (s.start_ms, s.track))
    hours = in_hours(analysis)
    return [[track_cell(analysis, s.track), clock(s.start_ms, hours), clock(s.end_ms, hours),
             tags.label_name(s.label, lang), family(s.label), round(s.score or 0.0, 2), said(analysis, s)]
            for s in spans]


def track_cell(analysis: Analysis, index: int) -> int | str:
    """The table's track column: the number, and the track's name where the file has several (``1 · Audience``)."""
    name = analysis.track_name(index)
    return f"{index} · {name}" if name else index


def track_heading(analysis: Analysis, index: int, lang: str) -> str:
    """A track's band's name: ``Audio track 1``, then its title or language where it has one (``· Audience``)."""
    title = analysis.source.track_title(index)
    return TEXT.get(lang, TEXT["en"])["lane_track"].format(n=index) + (f" · {title}" if title else "")


def span_starts(analysis: Analysis) -> list[int]:
    """Each table row's start, in ms, in the table's order (a row click seeks the player there)."""
    spans = sorted(analysis.spans("events") + analysis.spans("emotions"), key=lambda s: (s.start_ms, s.track))
    return [s.start_ms for s in spans]


def reel_why_html(analysis: Analysis, planned: list[Clip]) -> str:
    """The reel's clips in reel order, each with its score and why (``highlights.said``)."""
    hours = in_hours(analysis)
    rows = "".join(f"<li><b>{clock(c.start_ms, hours)}\u2013{clock(c.end_ms, hours)}</b> "
                   f"score {c.score:.2f}: {html.escape(highlights.said(c.why)) if c.why else ''}</li>" for c in planned)
    return f'<ol class="mt-why">{rows}</ol>'


def rich_html(text: str, form: str) -> str:
    """The rich text for the page: ``html`` is markup already (its text escaped by ``tags.rich_text``);
    every other form is text, escaped here."""
    lines = text.split("\n")
    if form != "html":
        lines = [html.escape(line) for line in lines]
    return '<div class="mt-rich">' + "<br>".join(lines) + "</div>"


def _x(ms: int, duration_ms: int) -> float:
    return round(MARGIN + WIDTH * ms / max(duration_ms, 1), 2)


def _ink(fill: str) -> str:
    """Text that reads on a bar of colour ``fill`` (``#rrggbb``): dark on light colours, white on dark."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#0f172a" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def _bar(span: Span, y: int, plot: Plot, note: str = "", named: bool = True) -> str:
    """A span's bar, its hover (label, score, times, ``note``) and, where it is wide enough, its name."""
    x0, x1 = _x(span.start_ms, plot.duration_ms), _x(span.end_ms, plot.duration_ms)
    score = "" if span.score is None else f" {span.score:.2f}"
    name = tags.label_name(span.label, plot.lang)
    times = f"{clock(span.start_ms, plot.hours)}–{clock(span.end_ms, plot.hours)}"
    fill, width = color(span.label), max(x1 - x0, 1.0)
    text = (f'<text class="mt-bar-name" x="{x0 + 4}" y="{y + ROW - 10}" fill="{_ink(fill)}" pointer-events="none">'
            f"{html.escape(name)}</text>") if named and width >= 9 * len(name) + 8 else ""
    return (f'<rect class="mt-bar" data-label="{html.escape(span.label)}" x="{x0}" y="{y}" '
            f'width="{width}" height="{ROW - 4}" rx="3" fill="{fill}">'
            f"<title>{html.escape(f'{name}{score} {times}{note}')}</title></rect>{text}")


@dataclass(frozen=True)
class Plot:
    """Where a track's drawing goes: the top of its band, the track's length, the label language, and
    whether times are shown with hours."""

    y: int
    duration_ms: int
    lang: str
    hours: bool = False


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


def tick_ms(duration_ms: int) -> int:
    """The ruler's step for a track of ``duration_ms``: a round time, at most ``MOST_TICKS`` of them."""
    fits = (step for step in TICKS_MS if duration_ms / step <= MOST_TICKS)
    return next(fits, HOUR_MS * -(-duration_ms // (HOUR_MS * MOST_TICKS)))


def _ruler(plot: Plot, bottom: int) -> list[str]:
    """Times along the top of a track, and a faint line down from each through its lanes to ``bottom``."""
    step, y = tick_ms(plot.duration_ms), plot.y + RULER - 6
    parts = [f'<line class="mt-ruler" x1="{MARGIN}" y1="{y}" x2="{MARGIN + WIDTH}" y2="{y}" stroke="#94a3b8"/>']
    for ms in range(0, plot.duration_ms + 1, step):
        x = _x(ms, plot.duration_ms)
        anchor = "start" if ms == 0 else "end" if x > MARGIN + WIDTH - 30 else "middle"
        parts += [f'<line x1="{x}" y1="{y}" x2="{x}" y2="{bottom}" stroke="#e2e8f0"/>',
                  f'<line x1="{x}" y1="{y - 5}" x2="{x}" y2="{y}" stroke="#94a3b8"/>',
                  f'<text class="mt-tick" x="{x}" y="{y - 8}" text-anchor="{anchor}">'
                  f"{clock(ms, plot.hours, tenths=step < 1000)}</text>"]
    return parts


def _lane(name: str, y: int) -> str:
    return f'<text x="0" y="{y + 17}" class="mt-lane">{html.escape(name)}</text>'


def _track_svg(analysis: Analysis, track: TrackResult, top: int, lang: str) -> tuple[list[str], int]:
    """One track's band: its name and time ruler, the curves, then a lane of bars per family and the speech."""
    words = TEXT.get(lang, TEXT["en"])
    heading = f'<text x="0" y="{top + HEADING - 6}" class="mt-lane mt-track">' \
              f'{html.escape(track_heading(analysis, track.index, lang))}</text>'
    top += HEADING
    plot = Plot(top, track.duration_ms or analysis.source.duration_ms, lang, in_hours(analysis))
    y = top + RULER + 4
    parts = [_lane(words["lane_curves"], y + CURVE // 2 - 7),
             *_curves(track, replace(plot, y=y), event_options(analysis))]
    y += CURVE + 4
    ours = tuple(s for s in track.events if s.label in tags.LABELS)
    classes = tuple(s for s in track.events if s.label not in tags.LABELS)  # AudioSet's, on a lane of their own
    lanes = (("lane_events", ours), *((("lane_classes", classes),) if classes else ()),
             ("lane_emotions", track.emotions))
    for name, spans in lanes:
        parts += [_lane(words[name], y), *(_bar(s, y, plot) for s in spans)]
        y += ROW
    parts.append(_lane(words["lane_speech"], y))
    for seg in track.segments:
        speech = Span(seg.start_ms, seg.end_ms, tags.SPEECH, seg.event_score, track.index)
        parts.append(_bar(speech, y, plot, f": {seg.text}" if seg.text else "", named=False))
    return [heading, *_ruler(plot, y + ROW - 4), *parts], y + ROW + 12


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
    """Per track: a time ruler, the event probability curves (SenseVoice's solid, AudioSet's dashed),
    then event bars, emotion bars and the transcript segments; each bar's hover names its label, score
    and times (and what was said), and a bar wide enough says its label's name."""
    parts, y = [], 0
    for track in analysis.tracks:
        drawn, y = _track_svg(analysis, track, y, lang)
        parts += drawn
    return (f'<div class="mt-timeline"><svg viewBox="0 0 {MARGIN + WIDTH} {max(y, 1)}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg" role="img">'
            f'{"".join(parts)}</svg>{legend(analysis, lang)}</div>')


def stage_words(stage: str, lang: str = "en") -> str:
    """A job's stage in plain words: ``vad track 0`` -> ``Finding speech``, ``scan track 1`` ->
    ``Listening for laughs, applause and music (audio track 1)``; a stage it does not know is "Working"."""
    words = STAGES.get(lang, STAGES["en"])
    name, _, index = stage.partition(" track ")
    said = words.get(name, words["work"])
    return f"{said} ({words['track'].format(n=index)})" if index.isdigit() and int(index) > 0 else said


def progress_html(event: Progress | None, lang: str = "en") -> str:
    """The page's one progress line: what is being done, in plain words, and how far, as a bar; nothing
    when no job runs."""
    if event is None:
        return ""
    words, percent = stage_words(event.stage, lang), round(100 * event.fraction)
    return (f'<div class="mt-progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
            f'aria-valuenow="{percent}" aria-valuetext="{html.escape(words)}">'
            f'<span class="mt-progress-text">{html.escape(words)}</span>'
            f'<span class="mt-progress-bar"><span style="width:{percent}%"></span></span></div>')
