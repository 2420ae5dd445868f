"""SRT, VTT and CSV marker list: golden files, real parsers, hostile text."""

import csv
import html
import io
import json

import pysubs2
import pytest

from mediatagger import analysis, presets
from mediatagger.exporters import csv as csv_export
from mediatagger.exporters import json as json_export
from mediatagger.exporters import srt, vtt
from tests.conftest import DATA

HOSTILE = "a & b < c > d --> e\n\nsecond | line {brace} \\N مرحبا 你好 \"quoted\""


@pytest.fixture
def golden_doc() -> analysis.Analysis:
    return analysis.load(DATA / "talk.analysis.json")


@pytest.mark.parametrize("module,fmt,braces", [(srt, "srt", "｛absolutely｝"), (vtt, "vtt", "")])
def test_subtitles_read_back_with_sdh_cues(golden_doc, module, fmt, braces):
    subs = pysubs2.SSAFile.from_string(module.to_string(golden_doc, presets.load()), format_=fmt)
    texts = [e.plaintext for e in subs]
    # pysubs2 reads {...} in VTT as an ASS override, as libass-based players would not: see the raw test
    assert texts[:5] == [f"So I told him no, {braces} not.", "[laughter]",
                         "And that is when the music started.", "[applause]", "♪"]
    laugh = subs[1]
    assert (laugh.start, laugh.end) == (3971, 6473)  # frame starts of frames 119 and 194 at 29.97


def test_chinese_sdh_labels(golden_doc):
    preset = presets.load()
    preset = presets.override(preset, "text", label_lang="zh")
    assert "[笑声]" in srt.to_string(golden_doc, preset) and "[掌声]" in vtt.to_string(golden_doc, preset)


def hostile_doc(golden_doc) -> analysis.Analysis:
    doc = analysis.to_dict(golden_doc)
    doc["tracks"][0]["segments"][0]["text"] = HOSTILE
    return analysis.from_dict(doc)


def test_hostile_text_cannot_break_an_srt_cue(golden_doc):
    subs = pysubs2.SSAFile.from_string(srt.to_string(hostile_doc(golden_doc), presets.load()), format_="srt")
    assert len(subs) == 6  # no cue split, lost or invented
    assert subs[0].plaintext.splitlines() == ["a & b ‹ c › d → e", 'second | line ｛brace｝ ⧵N مرحبا 你好 "quoted"']


def test_hostile_text_cannot_break_a_vtt_cue(golden_doc):
    text = vtt.to_string(hostile_doc(golden_doc), presets.load())
    assert len(pysubs2.SSAFile.from_string(text, format_="vtt")) == 6
    block = text.split("\n\n")[1].splitlines()  # the first cue, as a WebVTT parser sees it
    assert block[0] == "00:00:00.467 --> 00:00:02.669"
    assert [html.unescape(line) for line in block[1:]] == \
        ["a & b < c > d → e", 'second | line {brace} \\N مرحبا 你好 "quoted"']
    assert "<" not in "".join(block[1:]) and "-->" not in "".join(block[1:])


def test_csv_marker_list(golden_doc):
    rows = list(csv.DictReader(io.StringIO(csv_export.to_string(golden_doc, presets.load()))))
    assert list(rows[0]) == csv_export.COLUMNS
    laugh = next(r for r in rows if r["label"] == "Laughter")
    assert (laugh["name"], laugh["start_tc"], laugh["duration_frames"], laugh["score"], laugh["track"]) == \
        ("Laughter", "01:00:03:29", "75", "0.93", "0")
    assert len(rows) == 6


def test_rich_text_in_subtitles_and_json(golden_doc):
    preset = presets.override(presets.load(), "text", rich="emoji")
    assert srt.to_string(golden_doc, preset).split("\n\n")[0].endswith("😊 So I told him no, ｛absolutely｝ not.")
    assert "😊 Thank you all so much. 🎼" in vtt.to_string(golden_doc, preset)
    doc = json.loads(json_export.to_string(golden_doc, preset))
    assert [s["rich"] for s in doc["tracks"][0]["segments"]] == [
        "😊 So I told him no, {absolutely} not.", "And that is when the music started.",
        "😊 Thank you all so much. 🎼"]
    assert analysis.from_dict(doc) == golden_doc  # "rich" is derived: reading ignores it
    plain = json.loads(json_export.to_string(golden_doc, presets.load()))
    assert "rich" not in plain["tracks"][0]["segments"][0]
