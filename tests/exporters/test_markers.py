"""Every NLE marker format puts the same markers on the same frames, at every common rate.

Each format is read back by its consumer (tests/readers.py). The frame rule under test: a span's
start maps to the frame on screen at that instant (``timecode.ms_to_frame``), and a marker lasts
at least one frame.
"""

import dataclasses
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediatagger import analysis, presets
from mediatagger.exporters import edl, edl_loc, fcpxml, markers, otio, xmeml
from mediatagger.timecode import frame_to_ms
from tests import readers
from tests.conftest import load_fixed
from tests.test_timecode import RATES


def at_rate(doc: analysis.Analysis, fps: Fraction | None) -> analysis.Analysis:
    return dataclasses.replace(doc, source=dataclasses.replace(doc.source, fps=fps))


def read_back(fmt: str, doc: analysis.Analysis, preset: presets.Preset) -> list[readers.ReadMarker]:
    fps = markers.fps_of(doc)
    if fmt == "edl":
        start = markers.record_clock(doc, preset).start
        return readers.resolve_markers(edl.to_string(doc, preset), fps, start)
    if fmt == "edl-loc":
        return readers.locator_edl(edl_loc.to_string(doc, preset), fps)
    if fmt == "fcpxml":
        return readers.fcpxml(fcpxml.to_string(doc, preset))
    if fmt == "xmeml":
        return readers.xmeml(xmeml.to_string(doc, preset))
    return readers.otio_json(otio.to_string(doc, preset))


FORMATS = ["edl", "edl-loc", "fcpxml", "xmeml", "otio"]


@pytest.mark.parametrize("fps", RATES, ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_the_same_markers(fixed_analysis, fmt, fps):
    doc = at_rate(fixed_analysis, fps)
    expected = markers.markers(doc)
    got = read_back(fmt, doc, presets.load())
    assert len(got) == len(expected) == 6
    assert [g.frame for g in got] == [m.frame for m in expected]
    names = [g.name for g in got]
    if fmt == "edl-loc":  # a locator holds one text: the name, then the note
        assert names == [edl_loc.locator_text(m) for m in expected]
    else:
        assert names == [m.name for m in expected]
        assert [g.note for g in got] == [m.note for m in expected]
    if fmt != "edl-loc":  # locators are points in time
        assert [g.frames for g in got] == [m.frames for m in expected]


def test_laugh_lands_on_the_frame_on_screen_at_its_start(fixed_analysis):
    (laugh,) = [m for m in markers.markers(fixed_analysis) if m.span.label == "LAUGHTER"]
    fps = fixed_analysis.source.fps
    assert frame_to_ms(laugh.frame, fps) <= 4000 < frame_to_ms(laugh.frame + 1, fps)
    assert (laugh.frame, laugh.frames) == (119, 194 - 119)
    assert laugh.note == "score 0.93"


def test_notes_carry_what_was_said_and_the_score(fixed_analysis):
    happy = markers.markers(fixed_analysis)[0]
    assert (happy.name, happy.note) == ("Happy", "So I told him no, {absolutely} not. — score 0.81")


def two_tracks(fixed_analysis, second: dict) -> dict:
    """The fixed analysis with a second track (``second``: its stream's metadata) holding its first event."""
    doc = analysis.to_dict(fixed_analysis)
    doc["source"]["audio_tracks"].append({**doc["source"]["audio_tracks"][0], "index": 1, **second})
    doc["tracks"].append({**doc["tracks"][0], "index": 1,
                          "events": [{**doc["tracks"][0]["events"][0], "track": 1}], "emotions": []})
    return doc


@pytest.mark.parametrize("second,name", [({"title": "Audience", "language": None}, "Audience"),
                                         ({"title": None, "language": "eng"}, "English"),
                                         ({"title": None, "language": None}, "track 1"),
                                         ({"title": "Program", "language": None}, "Program 1")])
def test_several_tracks_name_the_track_by_its_title_or_language(fixed_analysis, second, name):
    doc = two_tracks(fixed_analysis, second)
    first = "Program 0" if name == "Program 1" else "Program"     # two tracks of one title get their numbers
    names = [m.name for m in markers.markers(analysis.from_dict(doc))]
    assert names.count(f"Laughter ({first})") == 1 and names.count(f"Laughter ({name})") == 1
    assert all(markers.label_of(n) for n in names)


def test_one_track_is_not_named(fixed_analysis):
    assert "Laughter" in [m.name for m in markers.markers(fixed_analysis)]


def test_audio_only_source_uses_25_fps(fixed_analysis):
    doc = at_rate(fixed_analysis, None)
    assert [g.frame for g in readers.fcpxml(fcpxml.to_string(doc, presets.load()))][:2] == [12, 100]
    assert readers.otio_json(otio.to_string(doc, presets.load()))[1].frame == 100


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(RATES), st.lists(st.tuples(st.integers(0, 19_990), st.integers(1, 8000)), min_size=1,
                                        max_size=8))
def test_random_spans_land_on_their_frames(fps, spans):
    doc = analysis.to_dict(at_rate(load_fixed(), fps))
    doc["tracks"][0]["events"] = [{"start_ms": s, "end_ms": min(20_000, s + d), "label": "LAUGHTER", "score": 0.5}
                                  for s, d in spans]
    doc["tracks"][0]["emotions"] = []
    doc = analysis.from_dict(doc)
    total, placed = markers.media_frames(doc), markers.markers(doc)
    assert len({m.frame for m in placed}) == len(placed), "two markers share a frame"
    for m in placed:
        on_screen = frame_to_ms(m.frame, fps) <= m.span.start_ms < frame_to_ms(m.frame + 1, fps)
        assert on_screen or m.note.endswith(f"starts {m.span.start_ms / 1000:.3f} s")
        assert m.frames >= 1 and m.frame + m.frames <= max(total, m.frame + 1)
    got = readers.otio_json(otio.to_string(doc, presets.load()))
    assert [g.frame for g in got] == [m.frame for m in markers.markers(doc)]
