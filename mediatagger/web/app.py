"""The Gradio glue of ``mediatagger serve``: components, events and their handlers, each a few lines
over the Python API (``mediatagger.api``) and the page's views (``views``)."""

from __future__ import annotations

import contextlib
import html
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from mediatagger import analysis as document
from mediatagger import api, clips, files, highlights, media, presets, tags
from mediatagger.analysis import Analysis
from mediatagger.errors import MediaTaggerError
from mediatagger.exporters import EXPORTERS
from mediatagger.presets import Preset
from mediatagger.progress import Callback, Progress
from mediatagger.web import views
from mediatagger.web.guard import unpathed
from mediatagger.web.session import Sessions
from mediatagger.web.strings import TEXT, WEB_NAMES

MEDIA_TYPES = [".mp4", ".mov", ".mkv", ".m4v", ".webm", ".wav", ".mp3", ".m4a", ".flac", ".aac", ".ogg"]
PLAYABLE_VIDEO = (".mp4", ".m4v", ".webm", ".mov")
AUDIO_ONLY = (".wav", ".mp3", ".m4a", ".flac", ".aac", ".ogg")
SEEK_JS = """(t) => {
  const el = document.querySelector('#mt-player video') || document.querySelector('#mt-audio audio');
  if (el && t !== null && t >= 0) { el.currentTime = t; } return t; }"""
SLIDER_LABELS = tags.EVENTS + tags.EMOTIONS  # the order of the on-level sliders
TRACKED = gr.Progress()  # a handler with this default gets a progress bar of its own per call (Gradio's rule)
CSS = """.mt-rich { line-height: 1.7; } .mt-rich .event { font-weight: 600; }
.mt-lane { font: 18px sans-serif; fill: #334155; } .mt-track { font-weight: 600; }
.mt-tick { font: 16px sans-serif; fill: #475569; } .mt-bar-name { font: 15px sans-serif; }
.mt-legend { font-size: 13px; } .mt-key { margin-right: 0.8em; white-space: nowrap; display: inline-block; }
#mt-spans th, #mt-spans [role=columnheader] { white-space: nowrap; }
.mt-progress { display: flex; align-items: center; gap: 0.8em; min-height: 1.6em; }
.mt-progress-text { white-space: nowrap; font-weight: 600; }
.mt-progress-bar { flex: 1; height: 8px; border-radius: 4px; background: #e2e8f0; overflow: hidden; }
.mt-progress-bar > span { display: block; height: 100%; background: #f97316; transition: width 0.2s; }"""


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


@contextlib.contextmanager
def failures() -> Iterator[None]:
    """Typed errors and the file system's (disk full, a vanished upload) as one line for the page,
    with the server's folders left out of the paths it names."""
    try:
        yield
    except (MediaTaggerError, OSError) as exc:
        text = exc.describe(WEB_NAMES) if isinstance(exc, MediaTaggerError) else \
            f"{Path(exc.filename).name + ': ' if exc.filename else ''}{exc.strerror or exc}"
        raise refusal(text) from None


def refusal(text: str) -> gr.Error:
    """A message for the visitor: markup escaped, no server folder (``guard`` logs it in one line)."""
    return gr.Error(html.escape(unpathed(text), quote=False), print_exception=False)


def public(result: Analysis) -> Analysis:
    """``result`` as the visitor's downloads give it: the media named by its upload name alone, the model
    by its folder's name, nothing of the server's folders. The name stays absolute (``/talk.mp4``): the
    FCPXML, FCP7 XML and OTIO file URLs make a relative one absolute in the server's working folder."""
    model = result.model
    if Path(model.name).is_absolute():
        model = replace(model, name=Path(model.name).name)
    return replace(result, source=replace(result.source, path=f"/{Path(result.source.path).name}"), model=model)


def reporter(progress: gr.Progress) -> Any:
    return lambda p: progress(p.fraction, desc=views.stage_words(p.stage))


class Job:
    """A handler's work on a thread of its own, so that the handler can show its progress on the
    page's one progress line as it goes (``updates``), then hand back its outcome."""

    def __init__(self, work: Callable[[Callback], Any]):
        self.latest: Progress | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        threading.Thread(target=self.run, args=(work,), daemon=True).start()

    def run(self, work: Callable[[Callback], Any]) -> None:
        try:
            self.result = work(self.report)
        except BaseException as exc:  # noqa: BLE001 -- raised again, in the handler's thread, by outcome()
            self.error = exc
        finally:
            self.done.set()

    def report(self, event: Progress) -> None:
        self.latest = event

    def updates(self, every_s: float = 0.2) -> Iterator[Progress]:
        """The progress while the work runs, at most every ``every_s``, each change of stage or percent once."""
        shown: tuple[str, int] | None = None
        while not self.done.wait(every_s):
            event = self.latest
            if event is not None and (event.stage, round(100 * event.fraction)) != shown:
                shown = event.stage, round(100 * event.fraction)
                yield event

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


def streamed(job: Job, lang: str, outputs: int) -> Iterator[tuple[Any, ...]]:
    """A handler's replies: the progress line (its first output) while ``job`` runs, the other
    ``outputs`` left as they are; then the line emptied and the job's outcome, or its error raised."""
    for event in job.updates():
        yield (views.progress_html(event, lang), *[gr.skip()] * outputs)
    job.done.wait()
    if job.error is not None:
        yield ("", *[gr.skip()] * outputs)
    yield ("", *job.outcome())


# --- what the handlers share ------------------------------------------------------------------------

def chosen_media(upload: str | None, recording: str | None, lang: str) -> Path:
    path = upload or recording
    if not path:
        raise refusal(TEXT[lang]["no_input"])
    return Path(path)


def text_formats(result: Analysis | None = None) -> list[str]:
    """Every text format (that can hold ``result``: a short video has no chapters)."""
    return [name for name, exporter in EXPORTERS.items() if result is None or exporter.fits(result)]


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
    paths = [EXPORTERS[n].path(visit.out, stem) for n in text_formats(visit.result)]
    bundle = visit.out / f"{stem}.exports.zip"
    with files.atomic_path(bundle) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, path.name)
    return [str(p) for p in paths] + [str(bundle)]


def players(path: Path) -> tuple[Any, Any]:
    """The media in the player that can play it: video, audio, or (MKV and the like) neither."""
    suffix = path.suffix.lower()
    video = gr.update(value=str(path), visible=True) if suffix in PLAYABLE_VIDEO else gr.update(visible=False)
    audio = gr.update(value=str(path), visible=True) if suffix in AUDIO_ONLY else gr.update(visible=False)
    return video, audio


def track_choices(upload: str | None) -> Any:
    """The audio tracks of a new upload: all of them (the default), or one, named as the exports name it
    (``1 · Audience``)."""
    try:
        info = media.probe(upload) if upload else None
    except MediaTaggerError:
        info = None
    if info is None or not info.audio_tracks:
        return gr.update(choices=["all", "0"], value="all")
    named = [(f"{t.index} · {info.track_name(t.index)}", str(t.index)) for t in info.audio_tracks]
    return gr.update(choices=[("all", "all"), *named], value="all")


def seek(visit: Visit | None, evt: gr.SelectData) -> float:
    """A table row clicked: its start, in seconds, for the player (-1: no row of this visitor's table)."""
    row = evt.row_value if evt is not None else None
    if visit is None or not isinstance(row, list) or len(row) < 4:
        return -1.0
    key = (row[0], row[1], row[3])
    return visit.starts.get(key, -1) / 1000 if all(isinstance(k, int | float | str) for k in key) else -1.0


def slider_values(preset: Preset, extras: tuple[str, ...] = ()) -> list[float]:
    """The span sliders' values for ``preset``: minimum duration, merge gap, each label's on-level, then
    the AudioSet classes' one (the first of ``extras``' levels, else the general on-level)."""
    spans = preset.spans
    extra = spans.thresholds(extras[0])[0] if extras else spans.on_level
    return [spans.min_duration_ms, spans.merge_gap_ms, *(spans.thresholds(label)[0] for label in SLIDER_LABELS),
            extra]


def extra_names(names: tuple[str, ...] | list[str]) -> list[str]:
    """AudioSet class names as the page offers them (``crowd`` -> ``Crowd``), once each."""
    found = (tags.audioset_labels().get(tags.audioset_label(n) or "") for n in names)
    return list(dict.fromkeys(name for name in found if name))


def reel_choices(result: Analysis, preset: Preset) -> Any:
    """The reel's label boxes: our events and the analysis's AudioSet classes; the preset's ticked."""
    choices = list(tags.EVENTS + views.extra_labels(result))
    return gr.update(choices=label_choices(choices, preset.text.label_lang),
                     value=[label for label in preset.clips.labels if label in choices])


def label_choices(labels: list[str] | tuple[str, ...], lang: str = "en") -> list[tuple[str, str]]:
    """Labels as check boxes offer them: the name people read (Music, not BGM), the label as the value."""
    return [(tags.label_name(label, lang), label) for label in labels]


# what run_tag fills after the progress line: the visit; rich text, timeline, table, downloads; two
# players; minimum duration, merge gap, the on-levels and the AudioSet classes' level; the reel's boxes
TAG_OUTPUTS = 1 + 4 + 2 + 2 + len(SLIDER_LABELS) + 1 + 1


class Console:
    """The server's shared parts: one Tagger (models loaded once, in the background), the session
    folders, the UI language (None: the browser's). Every handler of a visitor holds that visitor's
    lock, so a slider moved during a reel, or the tab closed during a run, waits its turn."""

    def __init__(self, tagger: api.Tagger, sessions: Sessions, ui_lang: str | None = None,
                 recordings: Path | None = None):
        self.tagger, self.sessions, self.ui_lang, self.recordings = tagger, sessions, ui_lang, recordings
        self.folders: dict[str, Path] = {}
        self.locks: dict[Path, threading.Lock] = {}
        self.guard = threading.Lock()
        self.load_error: str | None = None
        self.loader = threading.Thread(target=self.load, daemon=True)

    def load(self) -> None:
        try:
            self.tagger.models()
        except MediaTaggerError as exc:
            self.load_error = exc.describe(WEB_NAMES)
        except Exception as exc:  # noqa: BLE001 -- shown on the page instead of "Loading…" forever
            self.load_error = f"{type(exc).__name__}: {exc}"

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
        with self.guard:
            folder = self.folders.get(key) if key else None
            if folder is None or not self.sessions.owns(folder):
                folder = self.sessions.new()
                if key:
                    self.folders[key] = folder
        return Visit(folder, self.tagger.preset)

    def lock(self, visit: Visit) -> threading.Lock:
        with self.guard:
            return self.locks.setdefault(visit.folder, threading.Lock())

    def leave(self, request: gr.Request) -> None:
        """The visitor closed the page: their folder goes, once whatever they started has finished."""
        with self.guard:
            folder = self.folders.pop(request.session_hash or "", None)
            lock = self.locks.pop(folder, None) if folder else None
        if folder is not None:
            with lock or threading.Lock():
                self.sessions.drop(folder)

    def spans_preset(self, form: str, label_lang: str, min_ms: float, gap_ms: float,
                     levels: tuple[float, ...], extras: tuple[str, ...] = (), base: Preset | None = None) -> Preset:
        """``base`` (the server's preset) with the visitor's rich-text form, label language and span
        sliders: ``levels`` are the on-levels of ``SLIDER_LABELS``, then the one of every label in ``extras``."""
        preset = presets.override(base or self.tagger.preset, "text", source="the page", rich=form,
                                  label_lang=label_lang)
        if not levels:
            return preset
        on = dict(zip(SLIDER_LABELS, levels))
        if len(levels) > len(SLIDER_LABELS):
            on |= dict.fromkeys(extras, levels[len(SLIDER_LABELS)])
        return presets.override(preset, "spans", source="the page", on_by_label=on,
                                min_duration_ms=int(min_ms), merge_gap_ms=int(gap_ms))

    def tag(self, upload: str | None, recording: str | None, language: str, tracks: str, form: str,
            label_lang: str, detector: str, extras: list[str], visit: Visit | None,
            request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """The Start button: ``run_tag`` on a thread of its own, its progress on the page's progress line."""
        job = Job(lambda report: self.run_tag(upload, recording, language, tracks, form, label_lang, detector,
                                              extras, visit, request, report))
        yield from streamed(job, self.lang(request), TAG_OUTPUTS)

    def run_tag(self, upload: str | None, recording: str | None, language: str, tracks: str, form: str,
                label_lang: str, detector: str, extras: list[str], visit: Visit | None, request: gr.Request,
                progress: Callback) -> tuple[Any, ...]:
        """Copy the media in, tag it with the shared models and the detector and AudioSet classes asked
        for, write every text export; the span sliders go back to the preset's levels the spans were
        derived with, the reel's boxes offer the analysis's labels. The visitor's earlier work stays as
        it was if this fails."""
        lang = self.lang(request)
        visit = self.visit(visit, request)
        source = chosen_media(upload, recording, lang)
        if extras and detector == "sensevoice":
            raise refusal(TEXT[lang]["extras_need_audioset"])
        with self.lock(visit), failures():
            media_path = self.adopt(visit, source, lang)
            tagger = self.tagger.variant(self.spans_preset(form, label_lang, 0, 0, ()), language=language,
                                         detector=detector, audioset_labels=extra_names(extras))
            chosen: Any = "all" if tracks == "all" else int(tracks or 0)
            result = tagger.tag(media_path, chosen, progress)
            progress(Progress("export", 0, 1))
            api.export(public(result), visit.out, text_formats(result), tagger.preset, force=True)
            visit.media, visit.preset, visit.result = media_path, tagger.preset, result
            return (visit, *shown(visit, form, label_lang), *players(visit.media),
                    *slider_values(tagger.preset, views.extra_labels(result)), reel_choices(result, tagger.preset))

    def adopt(self, visit: Visit, source: Path, lang: str) -> Path:
        """The upload in the visitor's folder under a safe name; an empty file is refused here."""
        if source.stat().st_size == 0:
            raise refusal(f"{source.name}: {TEXT[lang]['empty']}")
        return self.sessions.adopt(source, visit.folder, source.name)

    def retune(self, visit: Visit | None, form: str, label_lang: str, min_ms: float, gap_ms: float,
               *levels: float) -> tuple[Any, ...]:
        """The sliders: spans re-derived from the stored curves (no model) -- events from the curves of
        the detector the analysis was made with, SenseVoice's, AudioSet's or both fused -- and the
        exports rewritten. The last level is the AudioSet classes' (every extra label of the analysis)."""
        if visit is None or visit.result is None:
            return (visit, gr.update(), gr.update(), gr.update(), gr.update())
        with self.lock(visit), failures():
            preset = self.spans_preset(form, label_lang, min_ms, gap_ms, levels, views.extra_labels(visit.result),
                                       visit.preset)
            result = document.rederive(visit.result, preset.spans)
            api.export(public(result), visit.out, text_formats(result), preset, force=True)
            visit.preset, visit.result = preset, result
            return (visit, *shown(visit, form, label_lang))

    def analysed(self, visit: Visit | None, request: gr.Request | None) -> Visit:
        if visit is None or visit.result is None or visit.media is None:
            raise refusal(TEXT[self.lang(request)]["no_analysis"])
        return visit

    def reel(self, visit: Visit | None, labels: list[str], target_s: float, crossfade_ms: float, rank: str,
             request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """The reel button: clips of ``labels`` joined, previewed and offered for download, and why each
        clip was chosen."""
        job = Job(lambda report: self.run_reel(visit, labels, target_s, crossfade_ms, rank, request, report))
        yield from streamed(job, self.lang(request), 3)

    def run_reel(self, visit: Visit | None, labels: list[str], target_s: float, crossfade_ms: float, rank: str,
                 request: gr.Request, progress: Callback) -> tuple[Any, Any, str]:
        visit = self.analysed(visit, request)
        assert visit.result is not None
        clip = replace(visit.preset.clips, labels=tuple(labels) or visit.preset.clips.labels,
                       target_ms=int(target_s * 1000), crossfade_ms=int(crossfade_ms), rank=rank)
        with self.lock(visit), failures():
            written = api.export(visit.result, visit.out, ["reel"], replace(visit.preset, clips=clip), force=True,
                                 progress=progress)
        path = next((str(w.path) for w in written if not w.removed and w.path.name.endswith(".reel.mp4")), None)
        if path is None:
            raise refusal(TEXT[self.lang(request)]["no_clips"])
        stem = Path(path).name.removesuffix(".reel.mp4")
        planned = clips.measured(highlights.plan(visit.result, clip), clips.previous_plan(Path(path).parent, stem))
        return path, path, views.reel_why_html(visit.result, planned)

    def burn(self, visit: Visit | None, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """The burn button: the styled ASS burned into the visitor's media."""
        yield from streamed(Job(lambda report: self.run_burn(visit, request, report)), self.lang(request), 3)

    def run_burn(self, visit: Visit | None, request: gr.Request, progress: Callback) -> tuple[Any, Any, Any]:
        visit = self.analysed(visit, request)
        assert visit.result is not None and visit.media is not None
        out = visit.out / f"{files.output_stem(visit.media)}.subtitled.mp4"
        with self.lock(visit), failures():
            path = api.burn(visit.media, out, result=visit.result, preset=visit.preset, force=True,
                            progress=progress)
        return str(path), str(path), ""

    def tag_for_client(self, upload: str | None, language: str, request: gr.Request,
                       progress: gr.Progress = TRACKED) -> tuple[str, str]:
        """``Client(url).predict(handle_file("talk.mp4"), "auto", api_name="/tag")``: the analysis JSON
        file and the rich text (labels, English)."""
        events = self.tagger.preset.events
        done: Visit = self.run_tag(upload, None, language or "auto", "0", "labels", "en", events.detector,
                                   list(events.audioset_labels), None, request, reporter(progress))[0]
        assert done.result is not None and done.media is not None
        return str(EXPORTERS["json"].path(done.out, files.output_stem(done.media))), api.rich_text(done.result)
