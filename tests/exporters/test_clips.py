"""Clips are cut by real ffmpeg from samples/talk.mp4 and measured by decoding them."""

from fractions import Fraction

import pytest

from mediatagger import presets
from mediatagger.exporters import clips
from mediatagger.timecode import frame_to_ms
from tests.conftest import frame_count

pytestmark = pytest.mark.slow
NTSC = Fraction(30000, 1001)


def test_plan_pads_and_snaps_to_frames(fixed_analysis, tmp_path):
    cuts = clips.plan(fixed_analysis, tmp_path, presets.load().clips)
    assert [c.span.label for c in cuts] == ["LAUGHTER", "APPLAUSE"]  # BGM is not a clip label
    laugh = cuts[0]
    assert laugh.path == tmp_path / "clips" / "talk_01_laughter.mp4"
    assert laugh.start_ms == 0  # 4000 - 4000 pre-roll
    # 6500 + 1000 post-roll = 7500 ms lies in frame 224 (7474.1 ms)
    assert laugh.frames == 224 and laugh.end_ms == frame_to_ms(224, NTSC)
    applause = cuts[1]
    assert applause.start_ms == frame_to_ms(194, NTSC)  # 6500 ms lies in frame 194
    assert applause.seek == Fraction(194 * 1001, 30000)  # ffmpeg seeks to the exact frame start
    assert clips._seconds(applause.seek) == "6.473133"  # floored, never just after the frame


def test_clips_hold_exactly_the_planned_frames(fixed_analysis, tmp_path):
    written = clips.EXPORTER.export(fixed_analysis, tmp_path, presets.load())
    cuts = clips.plan(fixed_analysis, tmp_path, presets.load().clips)
    assert written == [c.path for c in cuts]
    for cut in cuts:
        frames, _ = frame_count(cut.path, "v:0")
        _, audio_seconds = frame_count(cut.path, "a:0")
        assert frames == cut.frames
        assert abs(audio_seconds - cut.frames / NTSC) < 1 / NTSC  # within one frame
    assert not list(tmp_path.glob("clips/.*"))  # no temp files left


def test_existing_finds_only_this_stems_clips(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("talk_01_laughter.mp4", "talk_12_applause.mp4", "talkshow_01_laughter.mp4",
                 "[x]_01_laughter.mp4"):
        (folder / name).touch()
    assert [p.name for p in clips.existing(tmp_path, "talk")] == \
        ["talk_01_laughter.mp4", "talk_12_applause.mp4"]
    assert [p.name for p in clips.existing(tmp_path, "[x]")] == ["[x]_01_laughter.mp4"]
