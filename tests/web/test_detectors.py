"""The console's detectors: a visitor picks SenseVoice, AudioSet or both fused and asks for AudioSet
classes as labels of their own; the timeline draws both detectors' curves; the sliders re-derive spans
from the stored curves of the detector the analysis was made with. Real sound (samples/realsound),
the real models, the real server and browser; the checks of the page's values without a server."""

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mediatagger import analysis as document
from mediatagger import api, presets, tags
from mediatagger.presets import SpanOptions, build
from mediatagger.scan import QUANT, Curves
from mediatagger.web import guard, views
from tests.conftest import SAMPLES
from tests.web.test_browser import Visitor, link, table, visit

CLIPS = SAMPLES / "realsound" / "clips"
LAUGH = CLIPS / "laughter" / "L2-hedgewars-Default-Laugh.ogg"   # YAMNet: Laughter 1.0
LAUGH_AND_CRY = CLIPS / "laughter" / "L10-warmux-theme2.ogg"    # Laughter 0.65, then "Crying, sobbing" 0.43
EXTRA = "Crying, sobbing"
EXTRA_LABEL = tags.audioset_label(EXTRA)   # CRYING_SOBBING
# its on-level here: the cry peaks at 0.91 at the clip's own level, at 0.43 once the clip is brought to the
# loudness the detector hears every clip at (audioset.TARGET_DB), under the default 0.5
EXTRA_LEVEL = 0.3


def needs(clip: Path) -> Path:
    if not clip.is_file():
        pytest.skip(f"{clip.relative_to(SAMPLES)} is not here (samples/realsound)")
    return clip


# --- the page's checks and the timeline, without a server --------------------------------------------

CLASS_NAME = '(an AudioSet class name, such as Crowd, Dog or "Gunshot, gunfire")'


@pytest.mark.parametrize(("sent", "said"), [
    (["Crowd", "gunshot, gunfire", EXTRA], None),
    (["Dgo"], f"unknown extra AudioSet label 'Dgo' {CLASS_NAME}"),
    (["Laughter"], "extra AudioSet label: 'Laughter' is one of mediatagger's own labels already"),
    (["Speech"], "extra AudioSet label: 'Speech' is one of mediatagger's own labels already"),
    ("Crowd", "extra AudioSet label: expected a list of AudioSet class names, got 'Crowd'"),
    ([None], f"unknown extra AudioSet label None {CLASS_NAME}"),
    (["Dog"] * 21, "extra AudioSet label: 21 classes asked for, 20 at most"),
])
def test_extra_labels_are_audioset_classes_that_are_not_ours(sent, said):
    assert guard.extra_labels_problem("extra AudioSet label", sent) == said


def test_the_offered_classes_are_every_class_but_ours():
    offered = guard.extra_label_choices()
    assert {"Crowd", "Dog", "Clapping", "Gunshot, gunfire", EXTRA} <= set(offered)
    assert not {"Laughter", "Applause", "Music", "Speech"} & set(offered)
    assert len(offered) > 500 and offered == sorted(offered, key=str.lower)


@pytest.fixture(scope="module")
def fused(tiny_model) -> document.Analysis:
    """A laugh, then crying, tagged by both detectors fused with "Crying, sobbing" as a label (real models)."""
    preset = presets.override(presets.load(), "spans", on_by_label={EXTRA_LABEL: EXTRA_LEVEL})
    tagger = api.Tagger(preset, model=str(tiny_model), vad="silero", detector="fused", audioset_labels=[EXTRA])
    return tagger.tag(needs(LAUGH_AND_CRY))


def test_the_timeline_draws_both_detectors_curves_and_the_extra_label(fused):
    svg = views.timeline_svg(fused)
    solid, dashed = svg.count('class="mt-curve mt-sensevoice"'), svg.count('class="mt-curve mt-audioset"')
    assert solid == len(tags.EVENTS) and dashed == len(tags.EVENTS) + 1   # AudioSet's: ours and the extra label
    assert svg.count('stroke-dasharray="5 3"') == dashed + 1              # and the legend's line
    assert ">SenseVoice</span>" in svg.replace("</svg> ", ">") and "AudioSet</span>" in svg
    extra = tags.RGB_COLORS[tags.color_of(EXTRA_LABEL)]
    assert f'data-label="{EXTRA_LABEL}" x=' in svg and f'fill="{extra}"' in svg   # its bars, in its colour
    assert f'<span class="mt-key" style="color:{extra}">■ {EXTRA}</span>' in svg


def test_labels_from_a_document_are_escaped_in_the_timeline(fused):
    """A document can name any label in its AudioSet curves: it stays text."""
    hostile = '<img src=x onerror=alert(1)>'
    track = fused.tracks[0]
    heard = Curves(track.audioset.grid_ms, {**track.audioset.values, hostile: np.full(8, QUANT, np.uint8)})
    svg = views.timeline_svg(replace(fused, tracks=(replace(track, audioset=heard),)))
    assert "<img" not in svg and "&lt;img src=x onerror=alert(1)&gt;" in svg


def test_a_fused_analysis_re_derives_from_both_stored_curves(fused):
    """What the sliders call: spans from the curves the stored detector picks, no model. Fused, SenseVoice
    can only lift AudioSet, so the laugh AudioSet hears at 0.65 (a score of 0.81) stays at an on-level of
    0.75; re-derived as SenseVoice alone (its own stored curves) the spans differ, and the AudioSet class is gone."""
    spans = replace(stored_spans(fused), on_by_label={"LAUGHTER": 0.75})
    laughs = lambda doc: [s for s in doc.spans("events") if s.label == "LAUGHTER"]  # noqa: E731
    assert laughs(fused) and laughs(document.rederive(fused, spans))
    alone = document.rederive(fused, stored_spans(fused), replace(document.event_options(fused), detector="sensevoice"))
    assert events(alone) != events(fused) and EXTRA_LABEL not in {label for label, _, _ in events(alone)}
    assert EXTRA_LABEL in {label for label, _, _ in events(fused)}


def stored_spans(doc: document.Analysis) -> SpanOptions:
    return build(SpanOptions, doc.settings["spans"], "the document", "spans")


def events(doc: document.Analysis) -> list[tuple[str, int, int]]:
    return [(s.label, s.start_ms, s.end_ms) for s in doc.spans("events")]


# --- the console, in the browser ---------------------------------------------------------------------

def choose(visitor: Visitor, box: str, *values: str) -> None:
    """Pick ``values`` in the dropdown ``box`` by typing each and pressing Enter, as a visitor does."""
    field = visitor.page.locator(f"{box} input")
    for value in values:
        field.click()
        field.fill(value)
        field.press("Enter")
    visitor.page.locator("body").click(position={"x": 5, "y": 5})


def tag(visitor: Visitor, media: Path, detector: str, *extras: str) -> float:
    page = visitor.page
    choose(visitor, "#mt-detector", detector)
    choose(visitor, "#mt-extras", *extras)
    page.locator("#mt-upload input[type=file]").set_input_files(str(media))
    page.locator("#mt-upload").get_by_text(media.suffix, exact=False).first.wait_for()
    clicked = time.monotonic()
    page.locator("#mt-start").click()
    page.locator("#mt-timeline .mt-timeline").wait_for()   # (AudioSet alone: no transcript, no rich text)
    return time.monotonic() - clicked


def slide_to_the_end(visitor: Visitor, slider: str) -> None:
    slide(visitor, slider, None)


def slide(visitor: Visitor, slider: str, value: float | None) -> None:
    """A click on the slider's track where ``value`` is (None: its end), as a visitor moves it."""
    track = visitor.page.locator(f"{slider} input[type=range]")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    low, high = (float(track.get_attribute(k)) for k in ("min", "max"))
    x = box["width"] - 1 if value is None else box["width"] * (value - low) / (high - low)
    visitor.page.mouse.click(box["x"] + x, box["y"] + box["height"] / 2)


def labels(visitor: Visitor) -> list[str]:
    return [row[3] for row in table(visitor)]


@pytest.fixture(scope="module")
def fused_page(browser, server):
    visitor = visit(browser, server)
    seconds = tag(visitor, needs(LAUGH_AND_CRY), "fused", EXTRA)
    print(f"\nfused with {EXTRA!r}: click-to-result {seconds:.1f} s")
    slide(visitor, "#mt-level-extra", EXTRA_LEVEL)
    visitor.page.wait_for_function(f"() => [...document.querySelectorAll('#mt-spans [role=gridcell]')]"
                                   f".some(c => c.innerText.trim() === '{EXTRA}')")
    yield visitor
    visitor.page.context.close()


@pytest.mark.slow
def test_a_visitor_picks_audioset_and_a_real_laugh_is_laughter(browser, server):
    visitor = visit(browser, server)
    assert visitor.page.locator("#mt-detector input").input_value() == "sensevoice"   # the server's, to start
    tag(visitor, needs(LAUGH), "audioset")
    assert labels(visitor) == ["Laughter"]
    timeline = visitor.page.locator("#mt-timeline")
    assert timeline.locator("polyline.mt-audioset").count() >= len(tags.EVENTS)
    assert timeline.locator("polyline.mt-sensevoice").count() == 0      # AudioSet alone: no SenseVoice curves
    visitor.page.context.close()


@pytest.mark.slow
def test_fused_shows_both_curves_and_the_extra_label_in_its_colour(fused_page):
    page = fused_page.page
    assert set(labels(fused_page)) == {"Laughter", "Crying", EXTRA}
    timeline = page.locator("#mt-timeline")
    assert timeline.locator("polyline.mt-sensevoice").count() == len(tags.EVENTS)
    assert timeline.locator("polyline.mt-audioset").count() == len(tags.EVENTS) + 1
    assert "SenseVoice" in timeline.inner_text() and "AudioSet" in timeline.inner_text()
    bar = timeline.locator(f"rect.mt-bar[data-label='{EXTRA_LABEL}']").first
    assert bar.get_attribute("fill") == tags.RGB_COLORS[tags.color_of(EXTRA_LABEL)]
    reel = page.locator("#mt-reel-labels")
    assert reel.get_by_label(EXTRA).count() == 1      # the reel can be cut from the extra label too, by its name


@pytest.mark.slow
def test_the_sliders_re_derive_from_both_stored_curves(fused_page):
    """Laughter's on-level to 0.75: fused, SenseVoice can only lift AudioSet, which hears this laugh at
    0.65 (a score of 0.81), so it stays at 0.75; the AudioSet classes' level to the end: "Crying, sobbing"
    (0.43 at most) goes.
    The analysis offered for download is the one the page shows, re-derived from its stored curves."""
    page = fused_page.page
    slide(fused_page, "#mt-level-laughter", 0.75)
    slide_to_the_end(fused_page, "#mt-level-extra")
    page.wait_for_function(f"() => ![...document.querySelectorAll('#mt-spans [role=gridcell]')]"
                           f".some(c => c.innerText.trim() === '{EXTRA}')")
    assert "Laughter" in set(labels(fused_page)) and EXTRA not in set(labels(fused_page))
    doc = document.from_dict(json.loads(link(fused_page, "#mt-downloads", ".analysis.json")))
    spans = stored_spans(doc)
    assert 0.7 <= spans.thresholds("LAUGHTER")[0] <= 0.8 and spans.thresholds(EXTRA_LABEL)[0] == 0.95
    assert events(document.rederive(doc, spans)) == events(doc)    # the page's spans: from the stored curves
    assert document.event_options(doc).detector == "fused" and doc.tracks[0].curves is not None
    assert doc.tracks[0].audioset.probability("LAUGHTER").max() > 0.6   # AudioSet alone hears it


@pytest.mark.slow
def test_a_bad_label_name_is_one_line_in_the_page(browser, server):
    visitor = visit(browser, server)
    tag_started = visitor.page.locator("#mt-start")
    choose(visitor, "#mt-detector", "fused")
    choose(visitor, "#mt-extras", "Dgo")
    visitor.page.locator("#mt-upload input[type=file]").set_input_files(str(needs(LAUGH)))
    visitor.page.locator("#mt-upload").get_by_text(".ogg", exact=False).first.wait_for()
    tag_started.click()
    toast = visitor.page.locator(".toast-body").first
    toast.wait_for()
    text = toast.inner_text()
    assert "unknown extra AudioSet label 'Dgo' (an AudioSet class name" in text and "Traceback" not in text
    assert visitor.page.locator("#mt-timeline .mt-timeline").count() == 0
    visitor.page.context.close()


@pytest.mark.slow
def test_extra_labels_with_sensevoice_alone_are_one_line_in_the_page(browser, server):
    visitor = visit(browser, server)
    choose(visitor, "#mt-extras", "Crowd")
    visitor.page.locator("#mt-upload input[type=file]").set_input_files(str(needs(LAUGH)))
    visitor.page.locator("#mt-upload").get_by_text(".ogg", exact=False).first.wait_for()
    visitor.page.locator("#mt-start").click()
    toast = visitor.page.locator(".toast-body").first
    toast.wait_for()
    assert "Extra AudioSet labels need the audioset or fused detector." in toast.inner_text()
    visitor.page.context.close()
