import re

import pysubs2
import pytest

from mediatagger import presets
from mediatagger.exporters import ass


@pytest.fixture
def subs(fixed_analysis) -> pysubs2.SSAFile:
    return pysubs2.SSAFile.from_string(ass.to_string(fixed_analysis, presets.load()))


def test_script_info_matches_video(subs):
    assert subs.info["PlayResX"] == "640" and subs.info["PlayResY"] == "360"
    assert subs.info["ScaledBorderAndShadow"] == "yes"


def test_dialogue_bottom_in_emotion_styles(subs):
    dialogue = [e for e in subs if e.style != "Badge"]
    assert [e.style for e in dialogue] == ["HAPPY", "NEUTRAL", "HAPPY"]
    assert all(subs.styles[e.style].alignment == pysubs2.Alignment.BOTTOM_CENTER for e in dialogue)
    assert subs.styles["HAPPY"].primarycolor == pysubs2.Color(255, 230, 0, 0)  # &H0000E6FF
    assert dialogue[0].text == "So I told him no, \\{absolutely\\} not."  # libass's literal braces


def test_escape_keeps_text_literal():
    assert ass.escape("a\\Nb {\\i1}\nc") == "a\\\u2060Nb \\{\\\u2060i1\\}\\Nc"


def test_badges_on_top_layer_with_fades(subs):
    badges = [e for e in subs if e.style == "Badge"]
    assert [e.plaintext for e in badges] == ["[Laughter]", "[Applause]", "[Music]"]
    assert subs.styles["Badge"].alignment == pysubs2.Alignment.TOP_CENTER
    assert all(e.layer > 0 and e.text.startswith("{\\an8\\fad(150,150)}") for e in badges)


def test_times_land_on_frame_starts(subs):
    """4000 ms at 29.97 lies in frame 119 (from 3970.6 ms), 6500 ms in frame 194 (from 6473.1 ms):
    cues start and end at those frame starts, floored to centiseconds so no frame is lost."""
    laugh = next(e for e in subs if e.plaintext == "[Laughter]")
    assert (laugh.start, laugh.end) == (3970, 6470)


def test_rich_text_labels_in_dialogue(fixed_analysis):
    preset = presets.override(presets.load(), "text", rich="labels", label_lang="zh")
    subs = pysubs2.SSAFile.from_string(ass.to_string(fixed_analysis, preset))
    dialogue = [e.text for e in subs if e.style != "Badge"]
    assert dialogue[0] == "[开心] So I told him no, \\{absolutely\\} not."
    assert dialogue[2] == "[开心] Thank you all so much. [音乐]"  # speech over music
    assert "[笑声]" in [e.plaintext for e in subs if e.style == "Badge"]


def with_words(doc):
    from mediatagger import analysis

    data = analysis.to_dict(doc)
    data["tracks"][0]["segments"][1]["words"] = [  # "And that is when the music started." 7000-9100 ms
        {"start_ms": 7060, "end_ms": 7300, "text": "And"}, {"start_ms": 7300, "end_ms": 7540, "text": "that"},
        {"start_ms": 7600, "end_ms": 7780, "text": "is"}, {"start_ms": 7780, "end_ms": 8080, "text": "when"},
        {"start_ms": 8080, "end_ms": 8200, "text": "the"}, {"start_ms": 8200, "end_ms": 8500, "text": "music"},
        {"start_ms": 8500, "end_ms": 9000, "text": "started."}]
    return analysis.from_dict(data)


def test_karaoke_times_each_word(fixed_analysis):
    preset = presets.override(presets.load(), "ass", karaoke=True)
    subs = pysubs2.SSAFile.from_string(ass.to_string(with_words(fixed_analysis), preset))
    line = next(e for e in subs if e.style == "NEUTRAL")
    assert line.plaintext == "And that is when the music started."
    ks = [int(k) for k in re.findall(r"\\k(\d+)", line.text)]
    # line starts at frame 209's start (6973.6 ms -> 6970 ms): 9 cs of silence, then the words
    assert ks == [9, 24, 24, 6, 18, 30, 12, 30, 50]
    assert line.start + 10 * sum(ks) == 9000  # the highlight ends when the last word does
    assert subs.styles["NEUTRAL"].secondarycolor == pysubs2.Color(160, 160, 160, 0)


def test_karaoke_joins_cjk_without_spaces():
    words = tuple(ass.Word(1000 + 200 * i, 1200 + 200 * i, w) for i, w in enumerate(["你", "好", "OK", "go"]))
    assert ass.karaoke(words, 1000) == "{\\k20}你{\\k20}好{\\k20}OK {\\k20}go"
