"""Markers that survive every importer, found by loading our files in real consumers: no two markers
of a file on one frame, drop-frame only when the timeline counts it, and the clip as long as its video.
"""

import dataclasses
from fractions import Fraction

import opentimelineio as otio
import pytest
from lxml import etree

from mediatagger import analysis, api, media, presets
from mediatagger.exporters import EXPORTERS, markers
from mediatagger.timecode import ms_to_frame
from tests import readers
from tests.conftest import TALK, frame_count, load_fixed, run_cli
from tests.exporters.test_edl import with_start
from tests.exporters.test_markers import at_rate, read_back

NTSC = Fraction(30000, 1001)
pytestmark = pytest.mark.slow


def test_bgm_and_neutral_on_one_frame_no_longer_overlap_in_otios_edl_reader(tagged):
    doc = api.load(tagged["two_tracks"])
    fps = doc.source.fps
    starts = [ms_to_frame(s.start_ms, fps) for kind in ("events", "emotions") for s in doc.spans(kind)]
    assert len(starts) > len(set(starts)), "the sample no longer has two spans starting on one frame"
    text = EXPORTERS["edl"].to_string(doc, presets.load())
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(fps))  # raised "Overlapping record"
    placed = markers.markers(doc)
    assert len(timeline.find_clips()) == len(placed) == len(starts)
    assert len({m.frame for m in placed}) == len(placed)
    moved = [m for m in placed if ms_to_frame(m.span.start_ms, fps) != m.frame]
    assert moved and all(m.note.endswith(f"starts {m.span.start_ms / 1000:.3f} s") for m in moved)
    for fmt in ("edl", "edl-loc", "fcpxml", "xmeml", "otio"):
        frames = [r.frame for r in read_back(fmt, doc, presets.load())]
        assert frames == [m.frame for m in placed], fmt


def test_markers_crowding_the_last_frame_step_back():
    doc = analysis.to_dict(at_rate(load_fixed(), Fraction(25)))
    doc["tracks"][0]["events"] = [{"start_ms": 19_990, "end_ms": 20_000, "label": label, "score": 0.5}
                                  for label in ("LAUGHTER", "APPLAUSE", "BGM")]
    doc["tracks"][0]["emotions"] = []
    placed = markers.markers(analysis.from_dict(doc))
    assert [m.frame for m in placed] == [497, 498, 499]   # 500 frames: the last is 499
    assert all(m.frame + m.frames <= 500 for m in placed)


def ten_minutes_and_an_hour(source_tc: str | None = None) -> analysis.Analysis:
    doc = analysis.to_dict(load_fixed())
    doc["source"].update(duration_ms=3_700_000, start_timecode=source_tc)
    doc["tracks"][0]["events"] = [{"start_ms": ms, "end_ms": ms + 1000, "label": "LAUGHTER", "score": 0.9}
                                  for ms in (600_000, 3_600_000)]
    doc["tracks"][0]["emotions"] = []
    return analysis.from_dict(doc)


@pytest.mark.parametrize("mode,source_tc,drop", [("ndf", None, False), ("df", None, True), ("auto", None, False),
                                                 ("auto", "00:00:00;00", True), ("auto", "00:00:00:00", False)])
def test_timecode_mode_lands_each_marker_on_its_frame(mode, source_tc, drop):
    doc = ten_minutes_and_an_hour(source_tc)
    preset = with_start("01:00:00:00", mode)
    _, events = readers.resolve_edl(EXPORTERS["edl"].to_string(doc, preset))
    start = otio.opentime.from_timecode("01:00:00" + (";00" if drop else ":00"), float(NTSC)).to_frames()
    for event, ms in zip(events, (600_000, 3_600_000)):
        assert (";" in event.rec_in) == drop
        # OpenTimelineIO reads ; as drop-frame and : as non-drop, as an NLE timeline set that way does
        frame = otio.opentime.from_timecode(event.rec_in, float(NTSC)).to_frames() - start
        assert frame == ms_to_frame(ms, NTSC)
    fcp = etree.fromstring(EXPORTERS["fcpxml"].to_string(doc, preset).encode())
    assert fcp.find(".//sequence").get("tcFormat") == ("DF" if drop else "NDF")
    xml = etree.fromstring(EXPORTERS["xmeml"].to_string(doc, preset).encode())
    assert xml.find("sequence/timecode/displayformat").text == ("DF" if drop else "NDF")


def test_drop_frame_digits_read_as_non_drop_land_late():
    """Why the mode matters: the same marker, its DF digits read on a non-drop timeline."""
    _, events = readers.resolve_edl(EXPORTERS["edl"].to_string(ten_minutes_and_an_hour(), with_start(timecode="df")))
    start = otio.opentime.from_timecode("01:00:00:00", float(NTSC)).to_frames()
    late = [otio.opentime.from_timecode(e.rec_in.replace(";", ":"), float(NTSC)).to_frames() - start
            - ms_to_frame(ms, NTSC) for e, ms in zip(events, (600_000, 3_600_000))]
    assert late == [18, 108]


def test_timecode_flag_on_the_command_line(tmp_path):
    source = tmp_path / "doc.analysis.json"
    source.write_text(analysis.dumps(analysis.to_dict(ten_minutes_and_an_hour())))
    for mode, fcm in (("df", "FCM: DROP FRAME"), ("ndf", "FCM: NON-DROP FRAME")):
        out = tmp_path / mode
        done = run_cli("export", source, "-o", out, "--export", "edl", "--timecode", mode)
        assert done.returncode == 0, done.stderr
        assert fcm in (out / "talk.edl").read_text()
    done = run_cli("export", source, "-o", tmp_path / "x", "--export", "edl", "--timecode", "drop")
    assert done.returncode == 2 and "--timecode" in done.stderr and "Traceback" not in done.stderr


def test_the_clip_is_as_long_as_its_video_stream(tagged):
    info = media.with_frame_count(media.probe(TALK))   # counted once per analysis, not at every probe
    assert info.video_frames == frame_count(TALK)[0] == 599 and info.duration_ms == 20_000
    assert media.probe(TALK).video_frames is None
    doc = api.load(tagged["talk"])
    assert doc.source.video_frames == 599 and markers.media_frames(doc) == 599
    preset = presets.load()
    fcp = EXPORTERS["fcpxml"].to_string(doc, preset)
    readers.fcpxml(fcp)  # valid against the DTD
    root = etree.fromstring(fcp.encode())
    assert root.find("resources/asset").get("duration") == root.find(".//spine/asset-clip").get("duration") \
        == f"{599 * 1001}/30000s"
    xml = otio.adapters.read_from_string(EXPORTERS["xmeml"].to_string(doc, preset), "fcp_xml")
    assert {c.source_range.duration.to_frames() for c in xml.find_clips()} == {599}
    timeline = otio.adapters.read_from_string(EXPORTERS["otio"].to_string(doc, preset), "otio_json")
    (clip,) = timeline.find_clips()
    assert clip.media_reference.available_range.duration.to_frames() == 599
    loc = otio.adapters.read_from_string(EXPORTERS["edl-loc"].to_string(doc, preset), "cmx_3600", rate=float(NTSC))
    assert loc.find_clips()[0].source_range.duration.to_frames() == 599


def test_an_analysis_without_the_frame_count_still_reads():
    doc = analysis.to_dict(load_fixed())
    del doc["source"]["video_frames"]
    assert markers.media_frames(analysis.from_dict(doc)) == 600  # from the duration, as before
    doc["source"]["video_frames"] = 0
    with pytest.raises(ValueError, match="source.video_frames"):
        analysis.from_dict(doc)


def test_a_variable_rate_source_counts_frames_from_its_duration():
    doc = load_fixed()
    vfr = dataclasses.replace(doc, source=dataclasses.replace(doc.source, video_frames=480, variable_fps=True))
    assert markers.media_frames(vfr) == 600
