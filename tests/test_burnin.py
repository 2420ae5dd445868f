"""Burning subtitles: two-level escaping, awkward paths, frames that show cues only while they last."""

import json
import os
import shutil
import subprocess

import pytest

from mediatagger import burnin as burn
from mediatagger import media, presets
from mediatagger.timecode import ms_to_frame
from tests.conftest import DATA, TALK, ffmpeg, gray_frame, load_fixed, run_cli
from tests.test_cli import one_line_error

NTSC = load_fixed().source.fps
BOTTOM, TOP = slice(70, 90), slice(0, 20)   # rows of a 160x90 frame: dialogue and badge areas


def test_escaping_follows_ffmpegs_two_levels():
    # FFmpeg's "Quoting and escaping" example, level by level
    value = "this is a 'string': may contain one, or more, special characters"
    assert burn.escape_value(value) == r"this is a \'string\'\: may contain one, or more, special characters"
    assert burn.escape_graph(burn.escape_value(value)) == \
        r"this is a \\\'string\\\'\\: may contain one\, or more\, special characters"
    graph = burn.subtitles_filter(DATA / "talk.ass")
    assert graph.startswith("subtitles=filename=" + str(DATA / "talk.ass")) and "fontsdir=" in graph


def area_diff(a, b, rows):
    """Pixels of an area that differ by more than 40 grey levels: text, not re-encoding noise."""
    return int((abs(a[rows] - b[rows]) > 40).sum())


@pytest.fixture(scope="module")
def short_talk(tmp_path_factory):
    """The first 2 s of talk.mp4 (the first cue shows from 0.47 s)."""
    path = tmp_path_factory.mktemp("short") / "talk.mp4"
    ffmpeg("-i", TALK, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("char", [" ", "'", '"', ":", "[", "]", ",", ";", "é", "\\"],
                         ids=["space", "quote", "dquote", "colon", "lbracket", "rbracket", "comma", "semicolon",
                              "non-ascii", "backslash"])
def test_awkward_characters_in_every_path(short_talk, char, tmp_path):
    folder = tmp_path / f"in{char}dir"
    folder.mkdir()
    source, subs, fonts = folder / f"a{char}b.mp4", folder / f"s{char}t.ass", folder / f"f{char}onts"
    shutil.copy(short_talk, source)
    shutil.copy(DATA / "talk.ass", subs)
    shutil.copytree(burn.FONTS, fonts)
    out = tmp_path / f"out{char}put" / f"o{char}k.mp4"
    done = run_cli("burn", source, "--subs", subs, "-o", out, "--fontsdir", fonts)
    assert done.returncode == 0, done.stderr
    frame = ms_to_frame(1500, NTSC)
    assert area_diff(gray_frame(out, frame), gray_frame(source, frame), BOTTOM) > 20  # the cue is there


@pytest.fixture(scope="module")
def burned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("burned")
    doc = folder / "talk.analysis.json"
    shutil.copy(DATA / "talk.analysis.json", doc)
    out = folder / "talk.burned.mp4"
    done = run_cli("burn", TALK, "--analysis", doc, "-o", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("ms,dialogue,badge", [(1500, True, False), (3300, False, False), (5000, False, True),
                                              (8000, True, False), (9500, False, False), (11000, False, True)])
def test_burned_frames_differ_only_during_cues(burned, ms, dialogue, badge):
    frame = ms_to_frame(ms, NTSC)
    ours, source = gray_frame(burned, frame), gray_frame(TALK, frame)
    assert (area_diff(ours, source, BOTTOM) > 20) == dialogue
    assert (area_diff(ours, source, TOP) > 20) == badge
    assert area_diff(ours, source, slice(30, 60)) < 5  # the picture itself is untouched


@pytest.mark.slow
def test_audio_is_copied(burned):
    def audio_md5(path):  # of the audio packets as stored: equal only if nothing was re-encoded
        done = subprocess.run([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map",
                               "0:a:0", "-c", "copy", "-f", "md5", "-"], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert audio_md5(burned) == audio_md5(TALK)


@pytest.mark.slow
def test_burned_clip_from_the_middle_shows_its_own_cues(tmp_path):
    from mediatagger import clips

    preset = presets.override(presets.load(), "clips", labels=("APPLAUSE",), pad_before_ms=500, pad_after_ms=500,
                              burn="all", x264_preset="ultrafast")
    plan = json.loads(clips.run(load_fixed(), tmp_path, preset)[-1].path.read_text())
    (entry,) = plan["clips"]
    clip = tmp_path / entry["file"]
    assert entry["in_ms"] > 9000  # cut from the middle: 10.5 s applause less 0.5 s pre-roll
    first = gray_frame(clip, 0)  # burning keeps the cut on its frame
    assert area_diff(first, gray_frame(TALK, entry["in_frame"]), slice(30, 60)) < 5
    assert area_diff(first, gray_frame(TALK, entry["in_frame"] + 1), slice(30, 60)) > 20
    for offset in (10, 30, 100):  # the [Applause] badge shows from source frame 314; none after 13.48 s
        at = entry["in_frame"] + offset
        shows = 314 <= at < ms_to_frame(13480, NTSC)
        ours, source = gray_frame(clip, offset), gray_frame(TALK, at)
        assert (area_diff(ours, source, TOP) > 20) == shows, (offset, at)
        assert area_diff(ours, source, BOTTOM) < 5  # no dialogue then (an unshifted cue would show here)


@pytest.mark.slow
def test_a_machine_without_fonts_still_burns_with_the_bundled_font(short_talk, tmp_path):
    empty = tmp_path / "nofonts"
    empty.mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>{empty}</dir><cachedir>{tmp_path}/cache</cachedir>"
                    "</fontconfig>")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    doc = tmp_path / "talk.analysis.json"
    shutil.copy(DATA / "talk.analysis.json", doc)
    ok = run_cli("burn", short_talk, "--analysis", doc, "-o", tmp_path / "ok.mp4", env=env)
    assert ok.returncode == 0, ok.stderr
    frame = ms_to_frame(1500, NTSC)
    assert area_diff(gray_frame(tmp_path / "ok.mp4", frame), gray_frame(short_talk, frame), BOTTOM) > 20
    arial = tmp_path / "arial.ass"
    arial.write_text((DATA / "talk.ass").read_text().replace("DejaVu Sans", "Arial"))
    bad = run_cli("burn", short_talk, "--subs", arial, "-o", tmp_path / "bad.mp4", env=env)
    one_line_error(bad, str(arial), "no font", "'Arial'", "--fontsdir")
    assert not (tmp_path / "bad.mp4").exists()
    chinese = tmp_path / "zh.ass"  # the bundled font has no CJK: say so rather than burn empty boxes
    chinese.write_text((DATA / "talk.ass").read_text().replace("So I told him no", "你好啊"))
    one_line_error(run_cli("burn", short_talk, "--subs", chinese, "-o", tmp_path / "zh.mp4", env=env),
                   "no font for the character '你'", "--fontsdir")


def test_burn_usage_errors(tmp_path):
    cases = [([], "exactly one of --subs"), (["--subs", DATA / "talk.ass", "--analysis", DATA / "talk.analysis.json"],
                                           "exactly one of --subs"),
             (["--subs", tmp_path / "none.ass"], "no such file")]
    for extra, needle in cases:
        done = run_cli("burn", TALK, *extra, "-o", tmp_path / "o.mp4")
        one_line_error(done, needle)
    done = run_cli("burn", TALK, "--subs", DATA / "talk.ass", "-o", tmp_path / "o.avi")
    one_line_error(done, "must end in .mp4")
    done = run_cli("burn", TALK, "--subs", DATA / "talk.ass", "-o", TALK, "--force")
    one_line_error(done, "would overwrite an input")
    garbage = tmp_path / "garbage.ass"
    garbage.write_bytes(b"\xff\xfe\x00garbage")
    one_line_error(run_cli("burn", TALK, "--subs", garbage, "-o", tmp_path / "o.mp4"), str(garbage))
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
def test_audio_mp4_cannot_hold_is_encoded_and_every_track_kept(short_talk, tmp_path):
    from tests.conftest import ffprobe

    mov = tmp_path / "pcm.mov"
    ffmpeg("-i", short_talk, "-map", "0:v", "-map", "0:a", "-map", "0:a", "-c:v", "copy", "-c:a", "pcm_s16le", mov)
    out = tmp_path / "out.mp4"
    done = run_cli("burn", mov, "--subs", DATA / "talk.ass", "-o", out)
    assert done.returncode == 0, done.stderr
    audio = ffprobe(out)["audio"]
    assert [a["codec_name"] for a in audio] == ["aac", "aac"]  # MP4 cannot hold PCM: encoded
    assert all(abs(float(a["duration"]) - 2.0) < 0.05 for a in audio)
    mkv = tmp_path / "out.mkv"  # Matroska takes PCM as it is
    assert run_cli("burn", mov, "--subs", DATA / "talk.ass", "-o", mkv).returncode == 0
    assert [a["codec_name"] for a in ffprobe(mkv)["audio"]] == ["pcm_s16le", "pcm_s16le"]  # copied


@pytest.mark.slow
def test_clips_with_burned_badges_only(tmp_path):
    """The laugh's clip (0-7.5 s) spans dialogue (0.47-2.67 s) and the [Laughter] badge (3.97-6.47 s)."""
    from mediatagger import clips

    preset = presets.override(presets.load(), "clips", labels=("LAUGHTER",), burn="badges", x264_preset="ultrafast")
    plan = json.loads(clips.run(load_fixed(), tmp_path, preset)[-1].path.read_text())
    clip = tmp_path / plan["clips"][0]["file"]
    assert plan["clips"][0]["in_frame"] == 0
    during_dialogue, during_laugh = ms_to_frame(1500, NTSC), ms_to_frame(5000, NTSC)
    assert area_diff(gray_frame(clip, during_dialogue), gray_frame(TALK, during_dialogue), BOTTOM) < 5
    assert area_diff(gray_frame(clip, during_laugh), gray_frame(TALK, during_laugh), TOP) > 20


@pytest.mark.slow
def test_regression_burning_a_late_starting_video_kept_every_frame_in_place(short_talk, tmp_path):
    """MPEG-TS video starts 21 ms after its audio; ffmpeg's default frame-rate mode duplicated the
    first frame to fill the gap, so every burned frame sat one frame late."""
    from tests.conftest import ffprobe

    ts = tmp_path / "talk.ts"
    ffmpeg("-i", short_talk, "-c", "copy", ts)
    out = tmp_path / "burned.mp4"
    assert run_cli("burn", ts, "--subs", DATA / "talk.ass", "-o", out).returncode == 0
    assert ffprobe(out)["video"]["nb_read_packets"] == ffprobe(ts)["video"]["nb_read_packets"]
    for frame, cue in ((10, False), (45, True)):  # the first cue shows from 0.47 s (frame 14)
        ours, source = gray_frame(out, frame), gray_frame(short_talk, frame)
        assert area_diff(ours, source, slice(30, 60)) < 5  # the same frame
        assert (area_diff(ours, source, BOTTOM) > 20) == cue
