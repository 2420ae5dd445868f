"""What each NLE format must say beyond the shared markers: headers, start times, colours, metadata."""

import dataclasses
from fractions import Fraction

import opentimelineio as otio_lib
import pytest
from lxml import etree

from mediatagger import presets
from mediatagger.exporters import edl_loc, fcpxml, markers, otio, xmeml
from mediatagger.presets import RESOLVE_COLORS
from tests import readers
from tests.exporters.test_edl import with_start
from tests.exporters.test_markers import at_rate


def with_source_tc(doc, fps, tc):
    doc = at_rate(doc, fps)
    return dataclasses.replace(doc, source=dataclasses.replace(doc.source, start_timecode=tc))


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), Fraction(60000, 1001)], ids=str)
def test_locator_edl_counts_non_drop_at_drop_frame_rates(fixed_analysis, fps):
    text = edl_loc.to_string(at_rate(fixed_analysis, fps), presets.load())
    assert "FCM: NON-DROP FRAME" in text and ";" not in text
    locs = [line for line in text.splitlines() if line.startswith("* LOC: ")]
    assert len(locs) == 6 and locs[1].startswith("* LOC: 01:00:0")
    # OpenTimelineIO reads every locator (it skips ';' ones silently), on the right frames
    assert [m.frame for m in readers.locator_edl(text, fps)] == [m.frame for m in markers.markers(
        at_rate(fixed_analysis, fps))]


def test_locator_edl_event_spans_the_source_and_uses_avid_colours(fixed_analysis):
    text = edl_loc.to_string(fixed_analysis, presets.load())
    timeline = otio_lib.adapters.read_from_string(text, "cmx_3600", rate=30000 / 1001)
    (clip,) = timeline.find_clips()
    assert clip.name == "talk.mp4" and clip.source_range.duration.to_frames() == markers.media_frames(fixed_analysis)
    colors = [m.color for m in clip.markers]
    assert colors == ["YELLOW", "YELLOW", "YELLOW", "GREEN", "MAGENTA", "YELLOW"]
    assert {markers.avid_color(c) for c in RESOLVE_COLORS} <= {"RED", "GREEN", "BLUE", "CYAN", "MAGENTA", "YELLOW",
                                                                "BLACK", "WHITE"}


def test_fcpxml_markers_sit_in_the_clips_source_time(fixed_analysis):
    doc = with_source_tc(fixed_analysis, 25, "10:00:00:00")
    text = fcpxml.to_string(doc, presets.load())
    root = etree.fromstring(text.encode())
    clip = root.find(".//spine/asset-clip")
    assert root.find("resources/asset").get("start") == clip.get("start") == f"{36000 * 25}/25s"
    assert clip.get("offset") == root.find(".//sequence").get("tcStart") == f"{3600 * 25}/25s"  # 01:00:00:00
    assert clip.find("marker").get("start") == f"{36000 * 25 + 12}/25s"
    assert root.find(".//sequence").get("tcFormat") == "NDF"
    assert root.find("resources/asset/media-rep").get("src") == "file://" + str(fixed_analysis.source.path)
    assert [m.frame for m in readers.fcpxml(text)] == [m.frame for m in markers.markers(doc)]


def test_fcpxml_drop_frame_sequence(fixed_analysis):
    root = etree.fromstring(fcpxml.to_string(fixed_analysis, with_start("01:00:00:00", "df")).encode())
    sequence = root.find(".//sequence")
    assert sequence.get("tcFormat") == "DF" and sequence.get("tcStart") == "107999892/30000s"  # 01:00:00;00
    assert root.find("resources/format").get("frameDuration") == "1001/30000s"


def test_xmeml_sequence_starts_at_the_start_timecode_and_keeps_comments(fixed_analysis):
    doc = with_source_tc(fixed_analysis, 25, "10:00:00:00")
    timeline = otio_lib.adapters.read_from_string(xmeml.to_string(doc, with_start("source")), "fcp_xml")
    assert timeline.global_start_time.to_frames() == 36000 * 25
    first = timeline.tracks.markers[1]
    assert (first.name, first.metadata["fcp_xml"]["comment"]) == ("Laughter", "score 0.93")
    clips = timeline.find_clips()
    assert len(clips) == 2  # video, and the one audio track
    assert {c.media_reference.target_url for c in clips} == {"file://localhost" + str(fixed_analysis.source.path)}


def test_otio_markers_have_colours_and_mediatagger_metadata(fixed_analysis):
    timeline = otio_lib.adapters.read_from_string(otio.to_string(fixed_analysis, presets.load()), "otio_json")
    assert timeline.global_start_time.to_frames() == 108000  # 01:00:00:00, non-drop-frame by default
    (clip,) = timeline.find_clips()
    assert clip.media_reference.target_url == "file://" + str(fixed_analysis.source.path)
    laugh = clip.markers[1]
    assert laugh.color == "YELLOW" and laugh.comment == "score 0.93"
    assert dict(laugh.metadata["mediatagger"]) == {"label": "LAUGHTER", "score": 0.93, "track": 0, "text": ""}
    happy = clip.markers[0]
    assert happy.metadata["mediatagger"]["text"] == "So I told him no, {absolutely} not."
    assert {markers.otio_color(c) for c in RESOLVE_COLORS} <= {c for c in dir(otio_lib.schema.MarkerColor) if
                                                                c.isupper()}
