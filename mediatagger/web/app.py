"""The Gradio glue of ``mediatagger serve``: components, events and their handlers, each a few lines
over the Python API (``mediatagger.api``) and the page's views (``views``)."""

from __future__ import annotations

import html
import threading
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from mediatagger import analysis as document
from mediatagger import api, files, media, presets, tags
from mediatagger.analysis import Analysis
from mediatagger.errors import MediaTaggerError
from mediatagger.exporters import EXPORTERS
from mediatagger.presets import Preset
from mediatagger.web import views
from mediatagger.web.session import Sessions
from mediatagger.web.strings import TEXT, WEB_NAMES

MEDIA_TYPES = [".mp4", ".mov", ".mkv", ".m4v", ".webm", ".wav", ".mp3", ".m4a", ".flac", ".aac", ".ogg"]
PLAYABLE_VIDEO = (".mp4", ".m4v", ".webm", ".mov")
AUDIO_ONLY = (".wav", ".mp3", ".m4a", ".flac", ".aac", ".ogg")
SEEK_JS = """(t) => {
  const el = document.querySelector('#mt-player video') || document.querySelector('#mt-audio audio');
  if (el && t !== null && t >= 0) { el.currentTime = t; } return t; }"""
TRACKED = gr.Progress()  # a handler with this default gets a progress bar of its own per call (Gradio's rule)
CSS = """.mt-rich { line-height: 1.7; } .mt-rich .event { font-weight: 600; }
.mt-lane { font: 11px sans-serif; fill: #64748b; } .mt-legend { font-size: 12px; } .mt-key { margin-right: 0.8em; }"""


@dataclass
class Visit:
    """One visitor's work: their folder, their media, the analysis and the options it is shown with."""

    folder: Path
    preset: Preset
    media: Path | None = None
    result: Analysis | None = None
    starts: dict[tuple[Any, ...], int] = field(default_factory=dict)  # table row -> start ms

    @property
    def out(self) -> Path:
        return self.folder / "out"


def fail(exc: MediaTaggerError, visit: Visit) -> gr.Error:
    """A typed error as one line for the page, with the visitor's folder left out of paths."""
    message = exc.describe(WEB_NAMES).replace(str(visit.folder / "input") + "/", "")
    return gr.Error(html.escape(message.replace(str(visit.folder) + "/", "")), print_exception=False)


def reporter(progress: gr.Progress) -> Any:
    return lambda p: progress(p.fraction, desc=p.stage)


# --- what the handlers share ------------------------------------------------------------------------

def chosen_media(upload: str | None, recording: str | None, lang: str) -> Path:
    path = upload or recording
    if not path:
        raise gr.Error(TEXT[lang]["no_input"], print_exception=False)
    return Path(path)


def text_formats() -> list[str]:
    return list(EXPORTERS)


def shown(visit: Visit, form: str, label_lang: str) -> tuple[Any, ...]:
    """What the page shows of the visitor's analysis: rich text, timeline, table, downloads."""
    result = visit.result
    assert result is not None
    rows = views.span_rows(result, label_lang)
    visit.starts = {(r[0], r[1], r[3]): ms for r, ms in zip(rows, views.span_starts(result))}
    rich = views.rich_html(api.rich_text(result, form, label_lang), form)
    return rich, views.timeline_svg(result, label_lang), rows, downloads(visit)


def downloads(visit: Visit) -> list[str]:
    """Every text export, as written, and one zip of them all."""
    assert visit.result is not None
    stem = visit.result.stem
    paths = [EXPORTERS[n].path(visit.out, stem) for n in text_formats()]
    bundle = visit.out / f"{stem}.exports.zip"
    with files.atomic_path(bundle) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, path.name)
    return [str(p) for p in paths] + [str(bundle)]


def visitor_preset(base: Preset, form: str, label_lang: str) -> Preset:
    return presets.override(base, "text", source="the page", rich=form, label_lang=label_lang)


def players(path: Path) -> tuple[Any, Any]:
    """The media in the player that can play it: video, audio, or (MKV and the like) neither."""
    suffix = path.suffix.lower()
    video = gr.update(value=str(path), visible=True) if suffix in PLAYABLE_VIDEO else gr.update(visible=False)
    audio = gr.update(value=str(path), visible=True) if suffix in AUDIO_ONLY else gr.update(visible=False)
    return video, audio


def track_choices(upload: str | None) -> Any:
    """The audio tracks of a new upload: every one (the default when there are several) or one."""
    if not upload:
        return gr.update(choices=["all", "0"], value="0")
    try:
        info = media.probe(upload)
    except MediaTaggerError:
        return gr.update(choices=["all", "0"], value="0")
    numbers = [str(i) for i in range(len(info.audio_tracks))] or ["0"]
    return gr.update(choices=["all", *numbers], value="all" if len(numbers) > 1 else "0")


def seek(visit: Visit | None, evt: gr.SelectData) -> float:
    """A table row clicked: its start, in seconds, for the player."""
    row = evt.row_value if evt is not None else None
    if visit is None or not row:
        return -1.0
    return visit.starts.get((row[0], row[1], row[3]), -1) / 1000


class Console:
    """The server's shared parts: one Tagger (models loaded once, in the background), the session
    folders, the UI language (None: the browser's)."""

    def __init__(self, tagger: api.Tagger, sessions: Sessions, ui_lang: str | None = None):
        self.tagger, self.sessions, self.ui_lang = tagger, sessions, ui_lang
        self.folders: dict[str, Path] = {}
        self.load_error: str | None = None
        self.loader = threading.Thread(target=self.load, daemon=True)

    def load(self) -> None:
        try:
            self.tagger.models()
        except MediaTaggerError as exc:
            self.load_error = exc.describe(WEB_NAMES)

    def lang(self, request: gr.Request | None) -> str:
        if self.ui_lang:
            return self.ui_lang
        accept = request.headers.get("accept-language", "") if request is not None else ""
        return "zh" if accept.lower().startswith("zh") else "en"

    def visit(self, visit: Visit | None, request: gr.Request | None) -> Visit:
        """This visitor's Visit: the one in their state, else a new one in a folder of their own."""
        if visit is not None and self.sessions.owns(visit.folder):
            return visit
        key = request.session_hash if request is not None and request.session_hash else None
        folder = self.folders.get(key) if key else None
        if folder is None or not self.sessions.owns(folder):
            folder = self.sessions.new()
            if key:
                self.folders[key] = folder
        return Visit(folder, self.tagger.preset)

    def leave(self, request: gr.Request) -> None:
        self.sessions.drop(self.folders.pop(request.session_hash or "", None))

    def adopt(self, visit: Visit, source: Path, lang: str) -> Path:
        """The upload copied into the visitor's folder under a safe name; an empty file is refused here."""
        if source.stat().st_size == 0:
            raise gr.Error(html.escape(f"{source.name}: {TEXT[lang]['empty']}"), print_exception=False)
        return self.sessions.adopt(source, visit.folder, source.name)

    def tag(self, upload: str | None, recording: str | None, language: str, tracks: str, form: str,
            label_lang: str, visit: Visit | None, request: gr.Request,
            progress: gr.Progress = TRACKED) -> tuple[Any, ...]:
        """The Start button: copy the media in, tag it with the shared models, write every text export."""
        lang = self.lang(request)
        visit = self.visit(visit, request)
        source = chosen_media(upload, recording, lang)
        try:
            visit.media = self.adopt(visit, source, lang)
            visit.preset = visitor_preset(self.tagger.preset, form, label_lang)
            tagger = self.tagger.variant(visit.preset, language=language)
            chosen: Any = "all" if tracks == "all" else int(tracks or 0)
            visit.result = tagger.tag(visit.media, chosen, reporter(progress))
            api.export(visit.result, visit.out, text_formats(), visit.preset, force=True)
        except MediaTaggerError as exc:
            raise fail(exc, visit) from None
        return (visit, *shown(visit, form, label_lang), *players(visit.media))

    def retune(self, visit: Visit | None, form: str, label_lang: str, min_ms: float, gap_ms: float,
               *levels: float) -> tuple[Any, ...]:
        """The sliders: spans re-derived from the stored curves (no model), the exports rewritten."""
        if visit is None or visit.result is None:
            return (visit, gr.update(), gr.update(), gr.update(), gr.update())
        on = dict(zip(tags.EVENTS + tags.EMOTIONS, levels))
        preset = visitor_preset(self.tagger.preset, form, label_lang)
        visit.preset = presets.override(preset, "spans", source="the page", on_by_label=on,
                                        min_duration_ms=int(min_ms), merge_gap_ms=int(gap_ms))
        visit.result = document.rederive(visit.result, visit.preset.spans)
        try:
            api.export(visit.result, visit.out, text_formats(), visit.preset, force=True)
        except MediaTaggerError as exc:
            raise fail(exc, visit) from None
        return (visit, *shown(visit, form, label_lang))

    def analysed(self, visit: Visit | None, request: gr.Request | None) -> Visit:
        if visit is None or visit.result is None or visit.media is None:
            raise gr.Error(TEXT[self.lang(request)]["no_analysis"], print_exception=False)
        return visit

    def reel(self, visit: Visit | None, labels: list[str], target_s: float, crossfade_ms: float,
             request: gr.Request, progress: gr.Progress = TRACKED) -> tuple[Any, Any]:
        """The reel button: clips of ``labels`` joined, previewed and offered for download."""
        visit = self.analysed(visit, request)
        assert visit.result is not None
        clip = replace(visit.preset.clips, labels=tuple(labels) or visit.preset.clips.labels,
                       target_ms=int(target_s * 1000), crossfade_ms=int(crossfade_ms))
        try:
            written = api.export(visit.result, visit.out, ["reel"], replace(visit.preset, clips=clip), force=True,
                                 progress=reporter(progress))
        except MediaTaggerError as exc:
            raise fail(exc, visit) from None
        path = next(str(w.path) for w in written if w.path.name.endswith(".reel.mp4"))
        return path, path

    def burn(self, visit: Visit | None, request: gr.Request,
             progress: gr.Progress = TRACKED) -> tuple[Any, Any]:
        """The burn button: the styled ASS burned into the visitor's media."""
        visit = self.analysed(visit, request)
        assert visit.result is not None and visit.media is not None
        out = visit.out / f"{visit.media.stem}.subtitled.mp4"
        try:
            path = api.burn(visit.media, out, result=visit.result, preset=visit.preset, force=True,
                            progress=reporter(progress))
        except MediaTaggerError as exc:
            raise fail(exc, visit) from None
        return str(path), str(path)

    def tag_for_client(self, upload: str | None, language: str, request: gr.Request,
                       progress: gr.Progress = TRACKED) -> tuple[str, str]:
        """``Client(url).predict(handle_file("talk.mp4"), "auto", api_name="/tag")``: the analysis JSON
        file and the rich text (labels, English)."""
        done: Visit = self.tag(upload, None, language or "auto", "0", "labels", "en", None, request, progress)[0]
        assert done.result is not None and done.media is not None
        return str(EXPORTERS["json"].path(done.out, done.media.stem)), api.rich_text(done.result)
