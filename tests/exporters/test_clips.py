"""The clips export: file names, the plan document, stale clips, and clips with burned subtitles."""

import json

import pytest

from mediatagger import presets
from mediatagger.exporters import clips, parse_list

pytestmark = pytest.mark.slow


def test_clip_files_and_plan(fixed_analysis, tmp_path):
    written = clips.EXPORTER.export(fixed_analysis, tmp_path, presets.load())
    assert [p.name for p in written] == ["talk_01_laughter_applause.mp4", "talk.clips.json"]
    plan = json.loads(written[-1].read_text())
    assert plan["schema"] == "mediatagger.clips/1" and plan["cut"] == "accurate" and plan["fps"] == "30000/1001"
    (entry,) = plan["clips"]
    # laugh 4-6.5 s and applause 10.5-13.5 s, padded 4 s before and 1 s after, run together
    assert (entry["in_ms"], entry["in_frame"], entry["out_frame"]) == (0, 0, 434)  # 14.5 s lies in frame 434
    assert entry["frames"] == 434 and [s["label"] for s in entry["spans"]] == ["LAUGHTER", "APPLAUSE"]
    assert not list(tmp_path.glob("clips/.*"))  # no temp files left


def test_existing_finds_only_this_stems_clips(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("talk_01_laughter.mp4", "talk_12_applause_laughter.mp4", "talkshow_01_laughter.mp4",
                 "[x]_01_laughter.mp4", "talk_01_notes.txt"):
        (folder / name).touch()
    assert [p.name for p in clips.existing(tmp_path, "talk")] == \
        ["talk_01_laughter.mp4", "talk_12_applause_laughter.mp4"]
    assert [p.name for p in clips.existing(tmp_path, "[x]")] == ["[x]_01_laughter.mp4"]


def test_reel_stands_in_for_clips():
    assert [e.name for e in parse_list("clips,reel,edl")] == ["json", "reel", "edl"]
