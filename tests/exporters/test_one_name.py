"""One name per label: every format shows a label as ``tags.label_name`` does (Music, Crying), never
as the analysis holds it (BGM, CRY), which stays in the JSON document and in metadata.

Each output is read by its consumer (pysubs2, OpenTimelineIO, lxml); a format added to ``EXPORTERS``
without a reader here fails ``test_every_format_has_a_reader``.
"""

import csv
import io
import json
import re

import opentimelineio as otio
import pysubs2
import pytest
from lxml import etree

from mediatagger import analysis, presets
from mediatagger.exporters import EXPORTERS, markers
from tests import readers
from tests.conftest import load_fixed

TOKEN = re.compile(r"\b(BGM|CRY)\b")


def music_and_crying() -> analysis.Analysis:
    """The fixed analysis (its music from 14 s, and a segment SenseVoice heard over music) and a cry at
    40 s, in a minute (long enough for chapters, and the cry a chapter of its own)."""
    doc = analysis.to_dict(load_fixed())
    doc["source"]["duration_ms"] = 60_000
    doc["tracks"][0]["events"].append({"start_ms": 40_000, "end_ms": 41_500, "label": "CRY", "score": 0.8, "track": 0})
    return analysis.from_dict(doc)


def chapter_titles(text: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in text.splitlines()]


def subtitles(fmt: str):
    return lambda text: [e.plaintext for e in pysubs2.SSAFile.from_string(text, format_=fmt)]


def marker_names(read):
    return lambda text: [s for m in read(text) for s in (m.name, m.note)]


def mlt_properties(text: str) -> list[str]:
    return [p.text or "" for p in etree.fromstring(text.encode("utf-8")).iter("property")]


def kdenlive_guides(text: str) -> list[str]:
    (guides,) = [p.text for p in etree.fromstring(text.encode("utf-8")).iter("property")
                 if p.get("name") == "kdenlive:docproperties.guides"]
    return [g["comment"] for g in json.loads(guides)]


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


FPS = load_fixed().source.fps
# what a user sees of each format, as its consumer reads it
SHOWN = {
    "ass": subtitles("ass"), "srt": subtitles("srt"), "vtt": subtitles("vtt"),
    "edl": marker_names(lambda text: readers.resolve_markers(text, FPS, 0)),
    "edl-loc": marker_names(lambda text: readers.locator_edl(text, FPS)),
    "fcpxml": marker_names(readers.fcpxml), "xmeml": marker_names(readers.xmeml),
    "otio": marker_names(readers.otio_json), "csv": csv_cells,
    "shotcut": mlt_properties, "kdenlive": kdenlive_guides, "chapters": chapter_titles,
}


def test_every_format_has_a_reader():
    assert set(SHOWN) == set(EXPORTERS) - {"json"}


@pytest.mark.parametrize("rich", ["plain", "labels"])
@pytest.mark.parametrize("fmt", sorted(SHOWN))
def test_music_and_crying_are_named_so_in_every_format(fmt, rich):
    preset = presets.override(presets.load(), "text", rich=rich)
    text = EXPORTERS[fmt].to_string(music_and_crying(), preset)
    shown = SHOWN[fmt](text)
    assert not [s for s in shown if TOKEN.search(s)], fmt
    if fmt != "otio":   # OpenTimelineIO keeps the label in the markers' metadata, as the JSON does
        assert not TOKEN.search(text), fmt
    said = " ".join(shown)
    if fmt in ("srt", "vtt"):   # SDH cues: music is ♪, a cry [crying]
        assert "♪" in said and "[crying]" in said
        assert ("[Music]" in said) == (rich == "labels")   # the segment over music, in the labels form
    elif fmt == "ass":
        assert "[Music]" in said and "[Crying]" in said
    else:
        assert re.search(r"\bMusic\b", said) and re.search(r"\bCrying\b", said), said


def test_the_labels_stay_in_the_json_and_the_otio_metadata():
    doc, preset = music_and_crying(), presets.load()
    held = json.loads(EXPORTERS["json"].to_string(doc, preset))["tracks"][0]["events"]
    assert {"BGM", "CRY"} <= {e["label"] for e in held}
    (clip,) = otio.adapters.read_from_string(EXPORTERS["otio"].to_string(doc, preset), "otio_json").find_clips()
    assert {(m.name, m.metadata["mediatagger"]["label"]) for m in clip.markers} >= {("Music", "BGM"),
                                                                                   ("Crying", "CRY")}


def test_a_marker_name_reads_back_to_its_label():
    doc = analysis.to_dict(music_and_crying())
    doc["tracks"].append({**doc["tracks"][0], "index": 1, "events": [
        {"start_ms": 1000, "end_ms": 2000, "label": "GUNSHOT_GUNFIRE", "score": 0.5, "track": 1}]})
    placed = markers.markers(analysis.from_dict(doc))
    names = [m.name for m in placed]
    assert f"Crying ({doc['source']['audio_tracks'][0]['title']})" in names and "Gunshot, gunfire (track 1)" in names
    assert [markers.label_of(m.name) for m in placed] == [m.span.label for m in placed]


WIND = "WIND_NOISE_MICROPHONE"   # an AudioSet class whose own name ends in brackets


@pytest.mark.parametrize("name,label", [("BGM", "BGM"), ("CRY (track 1)", "CRY"), ("音乐", "BGM"), ("哭声", "CRY"),
                                        ("LAUGHTER", "LAUGHTER"), ("Music (track 12)", "BGM"),
                                        ("Music (Audience)", "BGM"), ("Wind noise (microphone)", WIND),
                                        ("Wind noise (microphone) (Audience)", WIND)])
def test_names_earlier_versions_and_other_languages_wrote_read_back(name, label):
    assert markers.label_of(name) == label


@pytest.mark.parametrize("name", ["theirs", "music", "Music (a) (b)", "Music(Audience)", "Speech", "",
                                  "Music (track 1) "])
def test_other_names_are_not_ours(name):
    assert markers.label_of(name) is None
