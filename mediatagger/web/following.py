"""The console's follow job (``serve --recordings DIR``): a recording in that folder tagged while OBS or
ffmpeg writes it (``mediatagger.follow``), its spans on the page as they are found, Stop to end it.

Only the recordings of that folder can be followed, each picked by name from its listing: a visitor
never names a path. The live outputs go to the visitor's folder; when the recording ends, its downloads
are written as a tag's are, naming the recording by its file name alone."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from mediatagger import api, follow
from mediatagger.analysis import Analysis
from mediatagger.timecode import clock
from mediatagger.web import views
from mediatagger.web.app import MEDIA_TYPES, Console, Job, Visit, failures, public, refusal, shown, text_formats
from mediatagger.web.strings import TEXT

REFRESH_S = 2.0   # the page's table and timeline, and the live outputs, this often
FOLLOW_OUTPUTS = 6  # progress line, visit, rich text, timeline, table, downloads


def recordings(folder: Path | None) -> list[str]:
    """The media files of ``folder`` by name, the newest first (the one being recorded on top)."""
    if folder is None or not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_TYPES]
    return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]


def listing(console: Console) -> Any:
    names = recordings(console.recordings)
    return gr.update(choices=names, value=names[0] if names else None)


class Follows:
    """Each visitor's follow under way, to stop."""

    def __init__(self, console: Console):
        self.console = console
        self.stops: dict[str, threading.Event] = {}   # a page's session -> its follow's stop

    def start(self, name: str | None, form: str, label_lang: str, detector: str, visit: Visit | None,
              request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """The Follow button: the recording followed on a thread of its own, the page updated each refresh."""
        console, lang = self.console, self.console.lang(request)
        visit = console.visit(visit, request)
        if not name or name not in recordings(console.recordings):
            raise refusal(TEXT[lang]["follow_none"])
        assert console.recordings is not None
        path = console.recordings / name
        tagger = console.tagger.variant(console.spans_preset(form, label_lang, 0, 0, ()), detector=detector)
        stop = self.stops[request.session_hash or ""] = threading.Event()
        latest: dict[str, Any] = {"doc": None, "heard": 0.0}

        def work(report: Any) -> follow.Followed:
            with console.lock(visit), failures():
                return follow.follow(tagger, path, visit.out, text_formats(), refresh_s=REFRESH_S, force=True,
                                     progress=lambda s: latest.update(heard=s),
                                     refreshed=lambda doc: latest.update(doc=doc), stop=stop)

        job, shown_doc = Job(work), None
        while not job.done.wait(0.5):
            doc = latest["doc"]
            line = progress_line(name, latest["heard"], doc, lang)
            if doc is None or doc is shown_doc:
                yield (line, *[gr.skip()] * (FOLLOW_OUTPUTS - 1))
                continue
            shown_doc = doc
            rows = views.span_rows(doc, label_lang)
            rich = views.rich_html(api.rich_text(doc, form, label_lang), form)
            yield line, gr.skip(), rich, views.timeline_svg(doc, label_lang), rows, gr.skip()
        self.stops.pop(request.session_hash or "", None)
        if job.error is not None:
            yield ("", *[gr.skip()] * (FOLLOW_OUTPUTS - 1))
        done = job.outcome()
        with console.lock(visit), failures():
            api.export(public(done.analysis), visit.out, text_formats(done.analysis), tagger.preset, force=True)
            visit.media, visit.preset, visit.result = path, tagger.preset, done.analysis
            yield ("", visit, *shown(visit, form, label_lang))

    def stop(self, request: gr.Request) -> None:
        """The Stop button: this page's follow ends as Ctrl-C ends one (what came is tagged and written)."""
        stop = self.stops.get(request.session_hash or "")
        if stop is not None:
            stop.set()


def progress_line(name: str, heard_s: float, doc: Analysis | None, lang: str) -> str:
    spans = len(doc.spans("events")) + len(doc.spans("emotions")) if doc is not None else 0
    words = TEXT[lang]["following"].format(name=name, heard=clock(int(heard_s * 1000)), spans=spans)
    return (f'<div class="mt-progress" role="status"><span class="mt-progress-text">{html.escape(words)}</span>'
            '</div>')

