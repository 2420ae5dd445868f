"""What an editor scans before opening anything: ``summary.csv`` and ``summary.html`` in a batch's
output folder, a row per input.

Each row: the input's duration; seconds and count of laughter, applause and music; its dominant
emotions; a strip of its spans; its best moments with timecodes; links to its reel, EDL and ASS.
The HTML is one self-contained file (inline CSS and SVG, no scripts, nothing fetched), every name and
text from the media escaped, every link relative, so the folder can be moved or shared.
"""

from __future__ import annotations

import html
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from mediatagger import analysis as document
from mediatagger import files, tags
from mediatagger.analysis import Analysis
from mediatagger.errors import MediaTaggerError
from mediatagger.exporters.text import csv_text
from mediatagger.web.views import color, timecode

COUNTED = ("LAUGHTER", "APPLAUSE", "BGM")
STRIP_W, STRIP_H = 240, 14


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


def seconds(result: Analysis, label: str) -> tuple[float, int]:
    spans = result.spans("events", [label])
    return sum(s.duration_ms for s in spans) / 1000, len(spans)


def dominant_emotions(result: Analysis, top: int = 2) -> list[str]:
    total: dict[str, int] = {}
    for span in result.spans("emotions"):
        total[span.label] = total.get(span.label, 0) + span.duration_ms
    return [label for label, _ in sorted(total.items(), key=lambda kv: -kv[1])[:top]]


def best_moments(result: Analysis, top: int = 3) -> list[tuple[str, str]]:
    """The strongest event spans (score x duration): label name and source timecode."""
    spans = sorted(result.spans("events"), key=lambda s: -(s.score or 0.0) * s.duration_ms)[:top]
    return [(tags.label_name(s.label), timecode(result, s.start_ms)) for s in sorted(spans, key=lambda s: s.start_ms)]


def links(r: Row, out: Path) -> dict[str, str]:
    """The row's reel, EDL and ASS that exist, as paths relative to the summary's folder."""
    found = {"reel": r.out_dir / f"{r.stem}.reel.mp4", "edl": r.out_dir / f"{r.stem}.edl",
             "ass": r.out_dir / f"{r.stem}.ass"}
    return {k: Path(os.path.relpath(p, out)).as_posix() for k, p in found.items() if p.is_file()}


CSV_COLUMNS = ["input", "status", "duration_s", "laughter_s", "laughter_n", "applause_s", "applause_n", "music_s",
               "music_n", "emotions", "best_moments", "reel", "edl", "ass", "error"]


def to_csv(rows: list[Row], out: Path) -> str:
    """A row per input; a name or error that would be a formula starts with ``'`` (``csv_text``)."""
    return csv_text([CSV_COLUMNS, *(csv_row(r, out) for r in rows)], lineterminator="\n")


def csv_row(r: Row, out: Path) -> list[object]:
    if r.result is None:
        return [r.name, r.status, *[""] * 12, r.error]
    counts = [v for label in COUNTED for v in seconds(r.result, label)]
    found = links(r, out)
    return [r.name, "done", r.result.source.duration_ms / 1000, *counts, " ".join(dominant_emotions(r.result)),
            "; ".join(f"{name} {tc}" for name, tc in best_moments(r.result)),
            found.get("reel", ""), found.get("edl", ""), found.get("ass", ""), ""]


def strip(result: Analysis) -> str:
    """A small SVG of the input's event and emotion spans over its duration, titled for hovering."""
    length = max(result.source.duration_ms, 1)
    bars = []
    for y, kind in ((0, "events"), (STRIP_H // 2, "emotions")):
        for s in result.spans(kind):
            x, w = STRIP_W * s.start_ms / length, max(STRIP_W * s.duration_ms / length, 1)
            bars.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{STRIP_H // 2 - 1}" '
                        f'fill="{color(s.label)}"><title>{html.escape(tags.label_name(s.label))}</title></rect>')
    return f'<svg width="{STRIP_W}" height="{STRIP_H}" viewBox="0 0 {STRIP_W} {STRIP_H}">{"".join(bars)}</svg>'


def html_row(r: Row, out: Path) -> str:
    name = html.escape(r.name)
    if r.result is None:
        return (f'<tr class="{html.escape(r.status)}"><td>{name}</td><td>{html.escape(r.status)}</td>'
                f'<td colspan="7">{html.escape(r.error)}</td></tr>')
    cells = [f"{s:.1f} s ({n})" for s, n in (seconds(r.result, label) for label in COUNTED)]
    emotions = ", ".join(html.escape(tags.label_name(e)) for e in dominant_emotions(r.result))
    moments = "<br>".join(f"{html.escape(n)} {html.escape(tc)}" for n, tc in best_moments(r.result))
    anchors = " ".join(f'<a href="{html.escape(urllib.parse.quote(os.fsencode(path)))}">{kind}</a>'
                       for kind, path in links(r, out).items())
    return (f"<tr><td>{name}</td><td>{r.result.source.duration_ms / 1000:.0f} s</td>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td>{emotions}</td><td>{strip(r.result)}</td><td>{moments}</td><td>{anchors}</td></tr>")


STYLE = """body{font:14px system-ui,sans-serif;margin:1.5em;color:#1e293b}table{border-collapse:collapse}
td,th{padding:.4em .6em;border-bottom:1px solid #e2e8f0;text-align:left;vertical-align:top}
th{background:#f1f5f9}tr.failed td{color:#b91c1c}tr.busy td,tr.pending td{color:#92400e}"""


def to_html(rows: list[Row], out: Path) -> str:
    head = ["input", "duration", "laughter", "applause", "music", "emotions", "spans", "best moments", "files"]
    done = sum(r.result is not None for r in rows)
    body = "\n".join(html_row(r, out) for r in rows)
    return ("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>mediatagger summary</title>"
            f"<style>{STYLE}</style></head><body><h1>mediatagger summary</h1>"
            f"<p>{done} of {len(rows)} inputs tagged.</p><table><tr>"
            + "".join(f"<th>{h}</th>" for h in head) + f"</tr>\n{body}\n</table></body></html>\n")


def write(rows: list[Row], out: Path) -> list[Path]:
    """``OUT/summary.csv`` and ``OUT/summary.html`` (each written whole, then renamed into place)."""
    return [files.write_text(out / "summary.csv", to_csv(rows, out)),
            files.write_text(out / "summary.html", to_html(rows, out))]
