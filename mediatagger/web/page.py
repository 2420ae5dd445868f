"""The console's layout and event wiring (``build``); what each event does is in ``app``."""

from __future__ import annotations

from typing import Any

import gradio as gr

from mediatagger import presets, tags
from mediatagger.errors import UnknownChoiceError
from mediatagger.presets.options import DETECTORS
from mediatagger.web import app
from mediatagger.web.app import Console
from mediatagger.web.guard import MAX_EXTRA_LABELS, checked, extra_label_choices, extra_labels_problem, named, unpathed
from mediatagger.web.strings import TEXT, UI_LANGUAGES
from mediatagger.web.uploads import media_file

HEADERS = ["col_track", "col_in", "col_out", "col_label", "col_kind", "col_score", "col_said"]
# each header on one line (a narrow "track" wrapped to "tr/ac/k"); what was said wraps in the rest
# (Gradio's "auto" is the text's unwrapped width, past the table's edge)
COLUMN_WIDTHS: list[str | int] = ["72px", "80px", "80px", "110px", "84px", "72px", "38%"]


def i18n(console: Console) -> gr.I18n:
    """The page's words: the browser's language, or every browser the ``--ui-lang`` one."""
    if console.ui_lang:
        return gr.I18n(**{lang: TEXT[console.ui_lang] for lang in UI_LANGUAGES})
    return gr.I18n(**{lang: TEXT[lang] for lang in UI_LANGUAGES})


def theme() -> gr.themes.Base:
    """Gradio's default look with the machine's own fonts: nothing is fetched from the internet."""
    system = ["system-ui", "-apple-system", "Segoe UI", "Noto Sans CJK SC", "sans-serif"]
    return gr.themes.Default(font=system, font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"])


def inputs(t: gr.I18n, console: Console) -> dict[str, Any]:
    with gr.Column(scale=1):
        parts = {
            "upload": named(media_file(label=t("upload"), file_types=app.MEDIA_TYPES, type="filepath",
                                       elem_id="mt-upload"), "media file"),
            "recording": named(gr.Audio(label=t("record"), sources=["microphone"], type="filepath"), "recording"),
            "language": named(gr.Dropdown(list(tags.LANGUAGES), value="auto", label=t("language"),
                                          elem_id="mt-language"), "language"),
            "tracks": named(gr.Dropdown(["all", "0"], value="all", label=t("tracks"), elem_id="mt-tracks"),
                            "audio track"),
            "form": named(gr.Dropdown(list(tags.RICH_FORMS), value="labels", label=t("form"), elem_id="mt-form"),
                          "rich text form"),
            "label_lang": named(gr.Dropdown(list(tags.LABEL_LANGUAGES), value="en", label=t("label_lang"),
                                            elem_id="mt-label-lang"), "label language"),
            **detectors(t, console),
        }
        parts["start"] = gr.Button(t("start"), variant="primary", elem_id="mt-start")
        parts["progress"] = progress_line("mt-progress")
    return parts


def progress_line(elem_id: str) -> gr.HTML:
    """The one line that says what a job is doing (``views.progress_html``): a job's events show no
    progress of Gradio's own over their outputs, each of which would repeat it."""
    return gr.HTML("", elem_id=elem_id, padding=False)


def detectors(t: gr.I18n, console: Console) -> dict[str, Any]:
    """The event detector (the server's to start with) and AudioSet classes as labels of their own: a
    filtered list that also takes a typed name, checked by ``guard`` when Start is pressed."""
    events = console.tagger.preset.events
    return {
        "detector": named(gr.Dropdown(list(DETECTORS), value=events.detector, label=t("detector"),
                                      info=t("detector_info"), elem_id="mt-detector"), "event detector"),
        "extras": checked(named(gr.Dropdown(extra_label_choices(), value=app.extra_names(events.audioset_labels),
                                            multiselect=True, allow_custom_value=True, filterable=True,
                                            max_choices=MAX_EXTRA_LABELS, label=t("extra_labels"),
                                            info=t("extra_labels_info"), elem_id="mt-extras"),
                                "extra AudioSet label"), extra_labels_problem),
    }


def results(t: gr.I18n, words: dict[str, str]) -> dict[str, Any]:
    with gr.Column(scale=2):
        parts = {
            "video": gr.Video(label=t("player"), interactive=False, elem_id="mt-player"),
            "audio": gr.Audio(label=t("player"), interactive=False, visible=False, elem_id="mt-audio"),
            "rich": gr.HTML(elem_id="mt-rich", label=t("rich")),
            "timeline": gr.HTML(elem_id="mt-timeline", label=t("timeline")),
            "table": gr.Dataframe(headers=[words[h] for h in HEADERS], label=t("spans"), interactive=False,
                                  wrap=True, column_widths=COLUMN_WIDTHS, elem_id="mt-spans"),
            "seek": named(gr.Number(visible=False, value=-1), "seek time"),
        }
    return parts


def sliders(t: gr.I18n, console: Console) -> dict[str, Any]:
    spans = console.tagger.preset.spans
    with gr.Accordion(t("tune"), open=True, elem_id="mt-tune"):
        with gr.Row():
            levels = []
            for family, labels in (("events", tags.EVENTS), ("emotions", tags.EMOTIONS)):  # app.SLIDER_LABELS
                with gr.Column(), gr.Accordion(t(family), open=family == "events"):
                    levels += [named(gr.Slider(0.05, 0.95, value=spans.thresholds(label)[0], step=0.01,
                                               label=tags.label_name(label), elem_id=f"mt-level-{label.lower()}"),
                                     f"{tags.label_name(label)} on-level") for label in labels]
                    if family == "events":  # one level for whichever AudioSet classes the analysis has
                        extra = named(gr.Slider(0.05, 0.95, value=spans.on_level, step=0.01, label=t("extra_level"),
                                                elem_id="mt-level-extra"), "AudioSet class on-level")
            with gr.Column():
                minimum = named(gr.Slider(0, 5000, value=spans.min_duration_ms, step=50, label=t("min_duration"),
                                          elem_id="mt-min-duration"), "minimum duration (ms)")
                gap = named(gr.Slider(0, 5000, value=spans.merge_gap_ms, step=50, label=t("merge_gap"),
                                      elem_id="mt-gap"), "merge gap (ms)")
    return {"levels": levels, "extra": extra, "min": minimum, "gap": gap}


def media_jobs(t: gr.I18n, console: Console) -> dict[str, Any]:
    clips = console.tagger.preset.clips
    with gr.Accordion(t("reel"), open=True), gr.Row():
        with gr.Column():
            labels = named(gr.CheckboxGroup(app.label_choices(tags.EVENTS, console.tagger.preset.text.label_lang),
                                            value=list(clips.labels), label=t("reel_labels"),
                                            elem_id="mt-reel-labels"), "reel label")
            target = named(gr.Slider(0, 600, value=clips.target_ms / 1000, step=5, label=t("reel_target")),
                           "reel target length (s)")
            fade = named(gr.Slider(0, 2000, value=clips.crossfade_ms, step=50, label=t("crossfade")), "crossfade (ms)")
            rank = named(gr.Radio(list(presets.choices("clips", "rank")), value=clips.rank, label=t("reel_rank"),
                                  elem_id="mt-reel-rank"), "reel rank rule")
            make = gr.Button(t("make_reel"), elem_id="mt-make-reel")
            burn = gr.Button(t("burn"), elem_id="mt-burn")
            progress = progress_line("mt-job-progress")
        with gr.Column():
            preview = gr.Video(label=t("preview"), interactive=False, elem_id="mt-preview")
            made = gr.File(label=t("downloads"), elem_id="mt-made")
            why = gr.HTML(elem_id="mt-reel-why")
    return {"labels": labels, "target": target, "fade": fade, "rank": rank, "make": make, "burn": burn,
            "preview": preview, "made": made, "why": why, "progress": progress}


def build(console: Console) -> gr.Blocks:
    t = i18n(console)
    max_age = int(console.sessions.max_age)  # s: Gradio's own cache of uploads goes as the folders do
    with gr.Blocks(title="mediatagger", analytics_enabled=False, delete_cache=(min(max_age, 3600), max_age)) as demo:
        visit = gr.State(None, time_to_live=console.sessions.max_age,
                         delete_callback=lambda v: console.sessions.drop(getattr(v, "folder", None)))
        gr.Markdown(f"## {TEXT['en']['title']}")
        gr.Markdown(t("intro"))
        status = gr.Markdown(t("loading"), elem_id="mt-status")
        with gr.Row():
            ins, outs = inputs(t, console), results(t, TEXT[console.ui_lang or "en"])
        tune = sliders(t, console)
        files = gr.File(label=t("downloads"), file_count="multiple", interactive=False, elem_id="mt-downloads")
        jobs = media_jobs(t, console)
        wire(demo, console, t, visit, status, ins, outs, tune, files, jobs)
        if console.recordings is not None:
            shown = [outs["rich"], outs["timeline"], outs["table"], files]
            wire_follow(console, visit, following(t, console), ins, shown)
    demo.i18n_instance = t  # type: ignore[attr-defined]
    return demo


def wire(demo: gr.Blocks, console: Console, t: gr.I18n, visit: gr.State, status: gr.Markdown,
         ins: dict[str, Any], outs: dict[str, Any], tune: dict[str, Any], files: gr.File,
         jobs: dict[str, Any]) -> None:
    shown = [outs["rich"], outs["timeline"], outs["table"], files]
    ready = gr.Timer(0.5)
    ready.tick(lambda: model_status(console, t), outputs=[status, ready], queue=False, api_visibility="private")
    ins["upload"].change(app.track_choices, inputs=ins["upload"], outputs=ins["tracks"], queue=False,
                         show_progress="hidden", api_visibility="private")
    ins["start"].click(console.tag, concurrency_id="model", concurrency_limit=1,
                       inputs=[ins["upload"], ins["recording"], ins["language"], ins["tracks"], ins["form"],
                               ins["label_lang"], ins["detector"], ins["extras"], visit],
                       outputs=[ins["progress"], visit, *shown, outs["video"], outs["audio"], tune["min"], tune["gap"],
                                *tune["levels"], tune["extra"], jobs["labels"]],
                       show_progress="hidden", api_name="start",
                       api_visibility="private")
    sliders = [tune["min"], tune["gap"], *tune["levels"], tune["extra"]]
    knobs = [visit, ins["form"], ins["label_lang"], *sliders]
    for knob in [ins["form"], ins["label_lang"], *sliders]:
        event = knob.release if isinstance(knob, gr.Slider) else knob.change
        event(console.retune, inputs=knobs, outputs=[visit, *shown],
              concurrency_limit=None, api_visibility="private")
    outs["table"].select(app.seek, inputs=visit, outputs=outs["seek"], queue=False,
                         api_visibility="private").then(None, inputs=outs["seek"], js=app.SEEK_JS)
    jobs["make"].click(console.reel, concurrency_id="media", concurrency_limit=1,
                       inputs=[visit, jobs["labels"], jobs["target"], jobs["fade"], jobs["rank"]],
                       outputs=[jobs["progress"], jobs["preview"], jobs["made"], jobs["why"]], show_progress="hidden",
                       api_visibility="private")
    jobs["burn"].click(console.burn, concurrency_id="media", concurrency_limit=1, inputs=visit,
                       outputs=[jobs["progress"], jobs["preview"], jobs["made"], jobs["why"]], show_progress="hidden",
                       api_visibility="private")
    client_api(console)
    demo.unload(console.leave)


def following(t: gr.I18n, console: Console) -> dict[str, Any]:
    """Follow a recording of the server's recordings folder (``serve --recordings DIR``) as it is written."""
    from mediatagger.web.following import recordings

    def known(what: str, value: Any) -> str | None:
        names = recordings(console.recordings)
        return None if value is None or value in names else UnknownChoiceError(what, value, names).message

    names = recordings(console.recordings)
    with gr.Accordion(t("follow_title"), open=True), gr.Row():
        pick = checked(named(gr.Dropdown(names, value=names[0] if names else None, label=t("follow_pick"),
                                         allow_custom_value=True, elem_id="mt-follow-pick"), "recording"), known)
        with gr.Column():
            listed = gr.Button(t("follow_list"), size="sm", elem_id="mt-follow-list")
            start = gr.Button(t("follow"), variant="primary", elem_id="mt-follow")
            stop = gr.Button(t("follow_stop"), elem_id="mt-follow-stop")
    return {"pick": pick, "list": listed, "start": start, "stop": stop, "progress": progress_line("mt-follow-progress")}


def wire_follow(console: Console, visit: gr.State, parts: dict[str, Any], ins: dict[str, Any],
                shown: list[Any]) -> None:
    from mediatagger.web.following import Follows, listing

    follows = Follows(console)
    parts["list"].click(lambda: listing(console), outputs=parts["pick"], queue=False, api_visibility="private")
    parts["start"].click(follows.start, concurrency_id="model", concurrency_limit=1,
                         inputs=[parts["pick"], ins["form"], ins["label_lang"], ins["detector"], visit],
                         outputs=[parts["progress"], visit, *shown], show_progress="hidden",
                         api_visibility="private")
    parts["stop"].click(follows.stop, queue=False, api_visibility="private")


def client_api(console: Console) -> None:
    """``/tag`` for gradio_client: a file and a language in, the analysis JSON and rich text out."""
    upload = named(media_file(visible=False, type="filepath"), "media file")
    language = named(gr.Dropdown(list(tags.LANGUAGES), value="auto", visible=False), "language")
    json_file, rich = gr.File(visible=False), gr.Textbox(visible=False)
    button = gr.Button(visible=False)
    button.click(console.tag_for_client, inputs=[upload, language],
                 outputs=[json_file, rich], api_name="tag", concurrency_id="model", concurrency_limit=1)


def model_status(console: Console, t: gr.I18n) -> tuple[Any, Any]:
    if console.load_error:
        return f"{TEXT['en']['failed']}: {unpathed(console.load_error)}", gr.Timer(active=False)
    if console.tagger.loaded:
        return t("ready"), gr.Timer(active=False)
    return t("loading"), gr.Timer(active=True)
