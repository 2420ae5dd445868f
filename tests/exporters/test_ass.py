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
    assert all(e.layer > 0 and e.text.startswith("{\\fad(150,150)}") for e in badges)


def test_times_land_on_frame_starts(subs):
    """4000 ms at 29.97 lies in frame 119 (from 3970.6 ms), 6500 ms in frame 194 (from 6473.1 ms):
    cues start and end at those frame starts, floored to centiseconds so no frame is lost."""
    laugh = next(e for e in subs if e.plaintext == "[Laughter]")
    assert (laugh.start, laugh.end) == (3970, 6470)
