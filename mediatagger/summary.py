"""What an editor scans before opening anything: ``summary.csv`` and ``summary.html`` in a batch's
output folder, a row per input.

Each row: the input's duration; time and count of laughter, applause and music; its dominant
emotions; a strip of its spans; its best moments (the preset's highlight labels, ``clips.labels``);
a link to every output written for it (analysis, text formats, reel, clip plan, clips).
Every time on the page is one clock, ``m:ss.s`` (``h:mm:ss.s`` once an input reaches an hour), in a
``<time>`` element; every strip is drawn on one scale, the longest input's, under a legend and a time
scale, so lengths compare at a glance. The HTML is one self-contained file (inline CSS and SVG, no
scripts, nothing fetched), every name and text from the media escaped, every link relative and
URL-quoted, so the folder can be moved or shared.
"""

from __future__ import annotations

import html
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediatagger import analysis as document
from mediatagger import clips, files, highlights, tags
from mediatagger.analysis import Analysis
from mediatagger.errors import MediaTaggerError
from mediatagger.exporters import EXPORTERS
from mediatagger.exporters.text import csv_text
from mediatagger.highlights import chosen_spans
from mediatagger.presets import ClipOptions, Preset
from mediatagger.timecode import clock
from mediatagger.timeline import Span

COUNTED = ("LAUGHTER", "APPLAUSE", "BGM")
STRIP_W, STRIP_H = 280, 14      # px: the longest input's strip; shorter ones are shorter
SCALE_H = 18                    # px: the time scale over the strips
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000)


@dataclass(frozen=True)
class Row:
    """One input of the summary: its analysis when it was tagged, else why not."""

    name: str
    out_dir: Path
    stem: str
    result: Analysis | None = None
    error: str = ""
    status: str = "done"   # else failed, busy (another run held its outputs) or pending (not tagged yet)


def row(name: str, out_dir: Path, stem: str, error: str = "", status: str = "failed") -> Row:
    """The summary row of an input whose outputs are in ``out_dir`` (its analysis read back); with an
    ``error``, the row of an input that is not done, in that ``status``."""
    path = out_dir / f"{stem}.analysis.json"
    if error or not path.is_file():
        return Row(name, out_dir, stem, error=error or "not tagged yet", status=status if error else "pending")
    try:
        return Row(name, out_dir, stem, document.load(path))
    except MediaTaggerError as exc:
        return Row(name, out_dir, stem, error=str(exc), status="failed")


@dataclass(frozen=True)
class Scale:
    """The page's one clock and one strip scale, both set by its longest input."""

    longest_ms: int

    def clock(self, ms: int) -> str:
        """``m:ss.s``, or ``h:mm:ss.s`` for every time on a page whose longest input reaches an hour."""
        return clock(ms, self.hours)

    @property
    def hours(self) -> bool:
        """Whether the clock shows hours: once the page's longest input reaches an hour."""
        return self.longest_ms >= 3_600_000

    def unit(self) -> str:
        return "hours:minutes:seconds" if self.hours else "minutes:seconds"

    def time(self, ms: int) -> str:
        """A time as the page shows it: the clock in a ``<time>`` element."""
        return f'<time datetime="PT{ms / 1000:.3f}S">{self.clock(ms)}</time>'

    def x(self, ms: int) -> float:
        return STRIP_W * ms / max(self.longest_ms, 1)

    def ticks(self) -> list[int]:
        """Round times from 0 to the longest input, at most six steps apart."""
        step = next((s for s in TICK_STEPS_S if self.longest_ms <= 6000 * s), TICK_STEPS_S[-1]) * 1000
        return list(range(0, self.longest_ms + 1, step))


def scale_of(rows: list[Row]) -> Scale:
    return Scale(max((r.result.source.duration_ms for r in rows if r.result is not None), default=0))


def seconds(result: Analysis, label: str) -> tuple[float, int]:
    spans = result.spans("events", [label])
    return sum(s.duration_ms for s in spans) / 1000, len(spans)


def dominant_emotions(result: Analysis, top: int = 2) -> list[str]:
    total: dict[str, int] = {}
    for span in result.spans("emotions"):
        total[span.label] = total.get(span.label, 0) + span.duration_ms
    return [label for label, _ in sorted(total.items(), key=lambda kv: -kv[1])[:top]]


def highlight_options(preset: Preset | None) -> ClipOptions:
    return preset.clips if preset is not None else ClipOptions()


def best_moments(result: Analysis, options: ClipOptions, top: int = 3) -> list[Span]:
    """The strongest spans of the highlight labels (``clips.labels`` at or above ``clips.min_score``),
    ranked as clips are (score x duration, no score counting half), in time order."""
    ranked = sorted(chosen_spans(result, options), key=lambda s: -(0.5 if s.score is None else s.score) * s.duration_ms)
    return sorted(ranked[:top])


def reasons(result: Analysis, options: ClipOptions, moments: list[Span],
            plan: dict[str, Any] | None = None) -> dict[Span, str]:
    """Why the highlight clip (``highlights.plan``) of each of ``moments`` was chosen, in words (no
    durations: the page shows times as clocks only), told at the first moment of each clip; with the
    laughter's loudness where the input's clips run (its ``plan``) measured it."""
    told: dict[Span, str] = {}
    for clip in clips.measured(highlights.plan(result, options), plan):
        first = next((s for s in moments if s in clip.spans), None)
        if first is not None and clip.why:
            told[first] = highlights.said(clip.why, durations=False)
    return told


# --- the outputs of one input ---------------------------------------------------------------

def outputs(r: Row) -> list[tuple[str, Path]]:
    """(what it is, file) for every output of the row's input on disk: the text formats (analysis
    first), then the reel, the clip plan and the clips it lists."""
    found = [(e.suffix.lstrip("."), e.path(r.out_dir, r.stem)) for e in EXPORTERS.values()]
    return [(kind, path) for kind, path in found + media_outputs(r.out_dir, r.stem) if path.is_file()]


def media_outputs(out_dir: Path, stem: str) -> list[tuple[str, Path]]:
    """The reel, the plan and the clips of the input's clips or reel job, as its plan lists them."""
    plan = clips.previous_plan(out_dir, stem)
    if plan is None:
        return []
    made = clips.listed_files({**plan, "stale": []}, out_dir, stem)  # its clips and reel, not what it still deletes
    reel = clips.reel_path(out_dir, stem)
    return [("reel.mp4", p) for p in made if p == reel] + [("clips.json", clips.plan_path(out_dir, stem))] + \
        [(f"clip {n}", p) for n, p in enumerate((p for p in made if p != reel), 1)]


def relative(path: Path, out: Path) -> str:
    return Path(os.path.relpath(path, out)).as_posix()


def href(path: str) -> str:
    """A relative path as an attribute value: URL-quoted (``<`` ``&`` ``"`` ``#`` ``?`` and all), then escaped."""
    return html.escape(urllib.parse.quote(os.fsencode(path)))


# --- summary.csv ----------------------------------------------------------------------------

CSV_COLUMNS = ["input", "status", "duration_s", "laughter_s", "laughter_n", "applause_s", "applause_n", "music_s",
               "music_n", "emotions", "best_moments", "reel", "edl", "ass", "error"]


def to_csv(rows: list[Row], out: Path, preset: Preset | None = None) -> str:
    """A row per input; a name or error that would be a formula starts with ``'`` (``csv_text``)."""
    scale, options = scale_of(rows), highlight_options(preset)
    return csv_text([CSV_COLUMNS, *(csv_row(r, out, scale, options) for r in rows)], lineterminator="\n")


def csv_row(r: Row, out: Path, scale: Scale, options: ClipOptions) -> list[object]:
    if r.result is None:
        return [r.name, r.status, *[""] * 12, r.error]
    counts = [v for label in COUNTED for v in seconds(r.result, label)]
    found = {kind: relative(path, out) for kind, path in outputs(r)}
    return [r.name, "done", r.result.source.duration_ms / 1000, *counts, " ".join(dominant_emotions(r.result)),
            "; ".join(moment(r.result, s, scale.clock(s.start_ms)) for s in best_moments(r.result, options)),
            found.get("reel.mp4", ""), found.get("edl", ""), found.get("ass", ""), ""]


def moment(result: Analysis, span: Span, when: str, text: Callable[[str], str] = str) -> str:
    """``Laughter 0:04.0``, and the track's name where the input has several (``Laughter 0:04.0 (Audience)``);
    the names through ``text`` (``html.escape``), ``when`` as it is."""
    track = result.track_name(span.track)
    return f"{text(tags.label_name(span.label))} {when}" + (f" ({text(track)})" if track else "")


# --- summary.html ---------------------------------------------------------------------------

def strip(result: Analysis, scale: Scale) -> str:
    """The input's event (top) and emotion (bottom) spans over its length, on the page's scale; each
    bar titled with its label and times for hovering."""
    width = max(scale.x(result.source.duration_ms), 1.0)
    bars = [f'<rect class="length" width="{width:.1f}" height="{STRIP_H}" fill="#f1f5f9"/>']
    for y, kind in ((0, "events"), (STRIP_H // 2, "emotions")):
        for s in result.spans(kind):
            x, w = scale.x(s.start_ms), max(scale.x(s.duration_ms), 1.0)
            title = moment(result, s, f"{scale.clock(s.start_ms)}–{scale.clock(s.end_ms)}")
            bars.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{STRIP_H // 2 - 1}" '
                        f'fill="{tags.rgb(s.label)}"><title>{html.escape(title)}</title></rect>')
    return (f'<svg class="strip" width="{width:.1f}" height="{STRIP_H}" viewBox="0 0 {width:.1f} {STRIP_H}">'
            f'{"".join(bars)}</svg>')


def time_scale(scale: Scale) -> str:
    """The ruler over the strips: a tick and a clock at round times, 0 to the longest input."""
    marks = []
    for ms in scale.ticks():
        x = scale.x(ms)
        anchor = "start" if ms == 0 else "middle"
        marks.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{SCALE_H - 4}" y2="{SCALE_H}" stroke="#64748b"/>'
                     f'<text x="{x:.1f}" y="{SCALE_H - 6}" text-anchor="{anchor}">{scale.clock(ms)}</text>')
    width = STRIP_W + 20   # room for the last clock, centred on the end
    return (f'<svg class="scale" width="{width}" height="{SCALE_H}" viewBox="0 0 {width} {SCALE_H}" '
            f'font-size="10" fill="#475569">{"".join(marks)}</svg>')


def legend(rows: list[Row]) -> str:
    """Each label the strips show, by its name and colour: events (the strips' top row), then emotions
    (the bottom row), in the label table's order."""
    parts = []
    for kind, known in (("events", tags.EVENTS), ("emotions", tags.EMOTIONS)):
        present = {s.label for r in rows if r.result is not None for s in r.result.spans(kind)}
        keys = [key(label) for label in [*known, *sorted(present - set(known))] if label in present]
        parts += [f"{kind.capitalize()}: {' '.join(keys)}"] if keys else []
    return f'<p class="legend">{" ".join(parts)}</p>' if parts else ""


def key(label: str) -> str:
    return (f'<span class="key"><svg width="12" height="12"><rect width="12" height="12" fill="{tags.rgb(label)}"/>'
            f'</svg> {html.escape(tags.label_name(label))}</span>')


def file_links(r: Row, out: Path) -> str:
    return " ".join(f'<a href="{href(relative(path, out))}">{html.escape(kind)}</a>' for kind, path in outputs(r))


def html_row(r: Row, out: Path, scale: Scale, options: ClipOptions) -> str:
    name = html.escape(r.name)
    if r.result is None:
        return (f'<tr class="{html.escape(r.status)}"><td>{name}</td><td>{html.escape(r.status)}</td>'
                f'<td colspan="7">{html.escape(r.error)}</td></tr>')
    cells = [f"{scale.time(round(s * 1000))} ({n})" for s, n in (seconds(r.result, label) for label in COUNTED)]
    emotions = ", ".join(html.escape(tags.label_name(e)) for e in dominant_emotions(r.result))
    best = best_moments(r.result, options)
    whys = reasons(r.result, options, best, clips.previous_plan(r.out_dir, r.stem))
    moments = "<br>".join(moment(r.result, s, scale.time(s.start_ms), html.escape)
                          + (f'<small class="why">{html.escape(whys[s])}</small>' if s in whys else "")
                          for s in best) or '<span class="none">none</span>'
    tracks = [r.result.track_name(t.index) for t in r.result.tracks]
    if len(tracks) > 1:
        name += f'<small class="tracks">{html.escape(", ".join(t for t in tracks if t))}</small>'
    return (f'<tr><td>{name}</td><td class="time">{scale.time(r.result.source.duration_ms)}</td>'
            + "".join(f'<td class="time">{c}</td>' for c in cells)
            + f'<td>{emotions}</td><td>{strip(r.result, scale)}</td><td class="moments">{moments}</td>'
            + f'<td class="files">{file_links(r, out)}</td></tr>')


STYLE = """body{font:14px system-ui,sans-serif;margin:1.5em;color:#1e293b}table{border-collapse:collapse}
td,th{padding:.4em .5em;border-bottom:1px solid #e2e8f0;text-align:left;vertical-align:top}
th{background:#f1f5f9}tr.failed td{color:#b91c1c}tr.busy td,tr.pending td{color:#92400e}
th small,small.tracks{display:block;font-weight:normal;color:#64748b}.none{color:#94a3b8}
small.why{display:block;white-space:normal;max-width:26em;color:#475569}
time{font-variant-numeric:tabular-nums}td.time,td.moments{white-space:nowrap}
.key{margin-right:1em;white-space:nowrap}.key svg{vertical-align:-1px}
td.files a{margin-right:.4em;white-space:nowrap}"""


def to_html(rows: list[Row], out: Path, preset: Preset | None = None) -> str:
    """The page; best moments are spans of ``preset.clips.labels`` (no preset: laughter and applause)."""
    scale, options = scale_of(rows), highlight_options(preset)
    head = ["Input", "Duration", *(tags.label_name(label) for label in COUNTED), "Emotions",
            f"Spans <small>events above, emotions below</small><br>{time_scale(scale)}",
            f"Best moments <small>{html.escape(', '.join(tags.label_name(label) for label in options.labels))}</small>",
            "Files"]
    done = sum(r.result is not None for r in rows)
    body = "\n".join(html_row(r, out, scale, options) for r in rows)
    return ("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>mediatagger summary</title>"
            f"<style>{STYLE}</style></head><body><h1>mediatagger summary</h1>"
            f"<p>{done} of {len(rows)} inputs tagged. Times are {scale.unit()} from each file's start; "
            f"every strip is on one scale (the longest file, {scale.time(scale.longest_ms)}).</p>{legend(rows)}"
            "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>\n{body}\n</table></body></html>\n")


def write(rows: list[Row], out: Path, preset: Preset | None = None) -> list[Path]:
    """``OUT/summary.csv`` and ``OUT/summary.html`` (each written whole, then renamed into place); best
    moments follow ``preset.clips`` (no preset: the default's, laughter and applause)."""
    return [files.write_text(out / "summary.csv", to_csv(rows, out, preset)),
            files.write_text(out / "summary.html", to_html(rows, out, preset))]
