"""Resolve marker EDL: line format, colours, notes, frame count, start timecode, FCM per rate."""

import dataclasses

import pytest

from mediatagger import analysis, presets
from mediatagger.errors import UsageError
from mediatagger.exporters import edl
from mediatagger.presets import RESOLVE_COLORS
from mediatagger.timecode import is_drop_frame
from tests.exporters.test_markers import at_rate
from tests.readers import resolve_edl
from tests.test_timecode import RATES


def with_start(start_tc: str = "01:00:00:00", timecode: str = "auto") -> presets.Preset:
    preset = presets.load()
    return dataclasses.replace(preset, edl=dataclasses.replace(preset.edl, start_tc=start_tc, timecode=timecode))


def test_resolve_marker_format_drop_frame(fixed_analysis):
    header, events = resolve_edl(edl.to_string(fixed_analysis, with_start(timecode="df")))
    assert header == {"TITLE": "talk", "FCM": "DROP FRAME"}
    assert len(events) == 6  # 3 events + 3 emotions, in time order
    laugh = events[1]
    # the laugh at 4000 ms is frame 119 of 29.97: 01:00:00;00 + 119 frames = 01:00:03;29
    assert (laugh.number, laugh.tc_in, laugh.tc_out, laugh.rec_in, laugh.rec_out) == \
        ("002", "01:00:03;29", "01:00:04;00", "01:00:03;29", "01:00:04;00")
    assert (laugh.color, laugh.name, laugh.frames, laugh.note) == ("Yellow", "Laughter", 194 - 119, "score 0.93")
    assert [e.name for e in events] == ["Happy", "Laughter", "Neutral", "Applause", "Music", "Happy"]
    assert events[0].note == "So I told him no, {absolutely} not. — score 0.81"
    assert all(e.color in RESOLVE_COLORS for e in events)


@pytest.mark.parametrize("fps", RATES, ids=str)
@pytest.mark.parametrize("mode,source_tc", [("df", None), ("ndf", None), ("auto", None), ("auto", "00:59:59;28"),
                                            ("auto", "00:59:59:28")])
def test_fcm_and_separator_follow_the_rate_and_the_mode(fixed_analysis, fps, mode, source_tc):
    doc = at_rate(fixed_analysis, fps)
    if source_tc and is_drop_frame(fps):
        doc = dataclasses.replace(doc, source=dataclasses.replace(doc.source, start_timecode=source_tc))
    header, events = resolve_edl(edl.to_string(doc, with_start(timecode=mode)))
    drop = is_drop_frame(fps) and (mode == "df" or (mode == "auto" and ";" in (doc.source.start_timecode or "")))
    assert header["FCM"] == ("DROP FRAME" if drop else "NON-DROP FRAME")
    assert all((";" in e.rec_in) == drop for e in events)
    assert events[0].rec_in.startswith("01:00:00")


def test_non_drop_rate_and_custom_start(fixed_analysis):
    text = edl.to_string(at_rate(fixed_analysis, 25), with_start("00:00:10:00"))
    first = resolve_edl(text)[1][0]
    assert first.rec_in == "00:00:10:12" and first.frames == 55  # frames 12 (500 ms) to 67 (2700 ms)


def test_start_tc_source_uses_the_files_own_timecode(fixed_analysis):
    doc = at_rate(fixed_analysis, 25)
    doc = dataclasses.replace(doc, source=dataclasses.replace(doc.source, start_timecode="10:00:00:00"))
    assert resolve_edl(edl.to_string(doc, with_start("source")))[1][0].rec_in == "10:00:00:12"
    no_tc = at_rate(fixed_analysis, 25)
    assert resolve_edl(edl.to_string(no_tc, with_start("source")))[1][0].rec_in == "00:00:00:12"


def test_start_tc_that_does_not_fit_the_rate_is_a_usage_error(fixed_analysis):
    with pytest.raises(UsageError, match="start timecode.*01:00:00:29"):
        edl.to_string(at_rate(fixed_analysis, 25), with_start("01:00:00:29"))


def test_one_frame_minimum_duration(fixed_analysis):
    doc = analysis.to_dict(fixed_analysis)
    doc["tracks"][0]["events"] = [{"start_ms": 1000, "end_ms": 1010, "label": "COUGH", "score": None}]
    doc["tracks"][0]["emotions"] = []
    (event,) = resolve_edl(edl.to_string(analysis.from_dict(doc), presets.load()))[1]
    assert (event.color, event.name, event.frames) == ("Sand", "Cough", 1)
    assert event.note == "So I told him no, {absolutely} not."  # said during the cough; no score
