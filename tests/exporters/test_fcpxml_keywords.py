"""FCPXML for Final Cut's browser: keyword ranges per event span (a keyword collection each), emotion
markers and the reel's clips as chapter markers; valid against Apple's FCPXML 1.10 DTD and read back
with lxml (OpenTimelineIO's FCPXML reader reads neither keywords nor chapter markers of 1.10)."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest
from lxml import etree

from mediatagger import analysis, highlights, presets
from mediatagger.exporters import fcpxml
from mediatagger.timecode import ms_to_frame
from tests import readers
from tests.conftest import DATA, repeated

FPS = Fraction(30000, 1001)


def written(doc) -> etree._Element:
    text = fcpxml.to_string(doc, presets.load())
    readers.fcpxml(text)   # valid against the FCPXML 1.10 DTD, markers on the frame grid
    return etree.fromstring(text.encode("utf-8"))


def frames(value: str) -> int:
    exact = readers.seconds(value) * FPS
    assert exact.denominator == 1, f"{value} is off the frame grid"
    return int(exact)


def ranges(clip: etree._Element) -> list[tuple[str, int, int]]:
    return [(k.get("value"), frames(k.get("start")), frames(k.get("duration"))) for k in clip.findall("keyword")]


def test_event_spans_are_keyword_ranges_on_the_browser_clip_and_the_timeline(fixed_analysis):
    root = written(fixed_analysis)
    event = root.find("library/event")
    assert [c.get("name") for c in event.findall("keyword-collection")] == ["Laughter", "Applause", "Music"]
    browser, timeline = event.find("asset-clip"), root.find(".//spine/asset-clip")
    expected = [(fcpxml.keyword_of(s.label), ms_to_frame(s.start_ms, FPS), ms_to_frame(s.end_ms, FPS)
                 - ms_to_frame(s.start_ms, FPS)) for s in sorted(fixed_analysis.spans("events"))]
    assert ranges(browser) == ranges(timeline) == expected
    # emotions are markers on the browser clip; the keywords are not markers there
    assert [m.get("value") for m in browser.findall("marker")] == ["Happy", "Neutral", "Happy"]


def test_opentimelineio_still_reads_the_timeline_and_its_markers(fixed_analysis):
    """OpenTimelineIO's FCPXML reader reads the project (the browser clip beside it is not in its way);
    it reads no keywords or chapter markers of FCPXML 1.10 (only ``marker``, and keywords only of a
    pre-1.9 asset's ``src``), so those are read here with lxml against the DTD."""
    text = fcpxml.to_string(fixed_analysis, presets.load())
    (timeline,) = otio.adapters.read_from_string(text, "fcpx_xml")
    (clip,) = timeline.find_clips()
    assert [m.name for m in clip.markers] == ["Happy", "Laughter", "Neutral", "Applause", "Music", "Happy"]


def test_the_reels_clips_are_chapter_markers_in_reel_order():
    doc = repeated(analysis.load(DATA / "talk.analysis.json"), 6)   # two minutes, several clips
    root = written(doc)
    planned = highlights.plan(doc, presets.load().clips)
    assert len(planned) > 1
    for clip in (root.find("library/event/asset-clip"), root.find(".//spine/asset-clip")):
        chapters = clip.findall("chapter-marker")
        assert [frames(c.get("start")) for c in chapters] == [ms_to_frame(p.start_ms, FPS) for p in planned]
        assert [c.get("value").split(":")[0] for c in chapters] == [f"Highlight {k}" for k in
                                                                    range(1, len(planned) + 1)]


@pytest.mark.parametrize("label", ["Music, live", "<Loud & \"clear\">"])
def test_a_keyword_is_one_keyword_and_escaped(fixed_analysis, label):
    doc = analysis.to_dict(fixed_analysis)
    doc["tracks"][0]["events"].append({"start_ms": 1000, "end_ms": 2000, "label": label, "score": 0.5, "track": 0})
    root = written(analysis.from_dict(doc))
    values = [k.get("value") for k in root.find("library/event/asset-clip").findall("keyword")]
    assert fcpxml.keyword_of(label) in values and all("," not in v for v in values)
    assert fcpxml.keyword_of(label).replace(" ", "").lower() == label.replace(",", "").replace(" ", "").lower()

