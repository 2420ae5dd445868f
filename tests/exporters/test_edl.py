import dataclasses
import re

from mediatagger import analysis, presets
from mediatagger.exporters import edl

EVENT = re.compile(r"^(\d{3})  001      V     C        (\S+) (\S+) (\S+) (\S+)  $")
MARKER = re.compile(r"^ \|C:ResolveColor(\w+) \|M:([^|\n]+) \|D:(\d+)$")


def parse(text: str) -> list[tuple]:
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if m := EVENT.match(line):
            marker = MARKER.match(lines[i + 1])
            assert marker, lines[i + 1]
            assert lines[i + 2] == ""
            out.append((*m.groups(), *marker.groups()))
    return out


def test_resolve_marker_format_drop_frame(fixed_analysis):
    text = edl.to_string(fixed_analysis, presets.load())
    assert text.startswith("TITLE: talk\nFCM: DROP FRAME\n\n")
    events = parse(text)
    assert len(events) == 6  # 3 events + 3 emotions, in time order
    number, src_in, src_out, rec_in, rec_out, color, name, frames = events[1]
    # the laugh at 4000 ms is frame 119 of 29.97: 01:00:00;00 + 119 frames = 01:00:03;29
    assert (number, src_in, src_out, rec_in, rec_out) == \
        ("002", "01:00:03;29", "01:00:04;00", "01:00:03;29", "01:00:04;00")
    assert (color, name, frames) == ("Yellow", "LAUGHTER", str(194 - 119))
    assert [e[6] for e in events] == ["HAPPY", "LAUGHTER", "NEUTRAL", "APPLAUSE", "BGM", "HAPPY"]
    assert all(int(e[7]) >= 1 for e in events)


def test_non_drop_rate_and_custom_start(fixed_analysis):
    doc = analysis.to_dict(fixed_analysis)
    doc["source"]["fps"] = "25"
    preset = presets.load()
    preset = dataclasses.replace(preset, edl=dataclasses.replace(preset.edl, start_tc="00:00:10:00"))
    text = edl.to_string(analysis.from_dict(doc), preset)
    assert "FCM: NON-DROP FRAME" in text
    first = parse(text)[0]
    assert first[1] == "00:00:10:12" and first[7] == "55"  # frames 12 (500 ms) to 67 (2700 ms)


def test_one_frame_minimum_duration(fixed_analysis):
    doc = analysis.to_dict(fixed_analysis)
    doc["tracks"][0]["events"] = [{"start_ms": 1000, "end_ms": 1010, "label": "COUGH", "score": None}]
    doc["tracks"][0]["emotions"] = []
    (event,) = parse(edl.to_string(analysis.from_dict(doc), presets.load()))
    assert event[5:] == ("Sand", "COUGH", "1")
