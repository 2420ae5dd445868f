"""The clips job: file names, the plan document, stale clips, and which outputs it stands for."""

import json

import pytest

from mediatagger import api, clips, presets

slow = pytest.mark.slow


@slow
def test_clip_files_and_plan(fixed_analysis, tmp_path):
    written = clips.run(fixed_analysis, tmp_path, presets.load())
    assert [w.path.name for w in written] == ["talk_01_laughter_applause.mp4", "talk.clips.json"]
    plan = json.loads(written[-1].path.read_text())
    assert plan["schema"] == "mediatagger.clips/1" and plan["cut"] == "accurate" and plan["fps"] == "30000/1001"
    assert plan["status"] == "complete"
    (entry,) = plan["clips"]
    # laugh 4-6.5 s and applause 10.5-13.5 s, padded 4 s before and 1 s after, run together
    assert (entry["in_ms"], entry["in_frame"], entry["out_frame"]) == (0, 0, 434)  # 14.5 s lies in frame 434
    assert entry["frames"] == 434 and [s["label"] for s in entry["spans"]] == ["LAUGHTER", "APPLAUSE"]
    # why it is a highlight: 2.5 s of laughter at 0.93, a second of applause within 5 s after it, the setup
    assert entry["rule"] == "length" and entry["score"] == entry["rank"] == round(2.5 * 0.93 + 3 * 0.88, 3)
    loud = entry["why"].pop("laughter_db")
    assert entry["why"] == {"laughter_s": 2.5, "laughter_score": 0.93, "applause_after_s": 1.0, "swing": 0.0,
                            "setup": "So I told him no, {absolutely} not."}
    assert -60 < loud < 0   # the laugh's level in the source (4-6.5 s), dBFS
    assert not list(tmp_path.glob("clips/.*"))  # no temp files left


def test_existing_finds_only_this_stems_clips(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("talk_01_laughter.mp4", "talk_12_applause_laughter.mp4", "talkshow_01_laughter.mp4",
                 "[x]_01_laughter.mp4", "talk_01_notes.txt"):
        (folder / name).touch()
    assert [p.name for p in clips.existing_clips(tmp_path, "talk")] == \
        ["talk_01_laughter.mp4", "talk_12_applause_laughter.mp4"]
    assert [p.name for p in clips.existing_clips(tmp_path, "[x]")] == ["[x]_01_laughter.mp4"]


def test_a_plan_lists_only_its_own_stems_files(tmp_path):
    plan = {"clips": [{"file": "clips/talk_01_laughter.mp4"}, {"file": "clips/other_01_laughter.mp4"},
                      {"file": "../../etc/passwd"}, {"file": "clips/talk_02_laughter.mp4/../../x.mp4"}],
            "reel": "talk.reel.mp4"}
    assert [p.relative_to(tmp_path).as_posix() for p in clips.listed_files(plan, tmp_path, "talk")] == \
        ["clips/talk_01_laughter.mp4", "talk.reel.mp4"]


def test_reel_stands_in_for_clips():
    assert api.choose("clips,reel,edl", presets.Preset()) == ["reel", "edl"]
    assert api.with_json(api.choose(["edl", "reel"], presets.Preset())) == ["json", "edl", "reel"]
