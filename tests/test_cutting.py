"""Clips and reels cut by real ffmpeg and measured by a real ffprobe, at common rates, from awkward sources."""

import dataclasses
import json
from fractions import Fraction

import pytest

from mediatagger import analysis, clips, media, presets
from mediatagger.errors import UsageError
from tests.conftest import TALK, ffmpeg, ffprobe, gray_frame, load_fixed
from tests.reliability import case

pytestmark = pytest.mark.slow

EVENTS = [(2000, 3000, "LAUGHTER", 0.9), (6000, 7500, "APPLAUSE", 0.8), (11000, 12000, "LAUGHTER", 0.7),
          (15500, 17000, "APPLAUSE", 0.6)]


def cut_paths(doc, out_dir, preset, reel=False):
    """The files the clips (or reel) job writes, the plan last."""
    return [w.path for w in clips.run(doc, out_dir, preset, reel=reel)]


def reel_preset(**changes) -> presets.Preset:
    clip_opts = dict(pad_before_ms=500, pad_after_ms=500, merge_gap_ms=0, min_clip_ms=0, crossfade_ms=500,
                     x264_preset="ultrafast")
    return presets.override(presets.load(), "clips", **{**clip_opts, **changes})


def doc_for(source, events=EVENTS) -> analysis.Analysis:
    data = analysis.to_dict(load_fixed())
    info = media.probe(source)
    data["source"].update(path=str(source), fps=info.fps_text, duration_ms=info.duration_ms,
                          variable_fps=info.variable_fps, start_ms=info.start_ms)
    data["tracks"][0]["events"] = [{"start_ms": s, "end_ms": e, "label": label, "score": score, "track": 0}
                                   for s, e, label, score in events]
    return analysis.from_dict(data)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """talk.mp4 re-encoded at 23.976 and 59.94 fps (keyframe every second), as MPEG-TS (non-zero start)
    and with a variable frame rate."""
    folder = tmp_path_factory.mktemp("sources")
    out = {"29.97": TALK}
    for name, rate in (("23.976", "24000/1001"), ("59.94", "60000/1001")):
        out[name] = folder / f"talk_{name}.mp4"
        ffmpeg("-i", TALK, "-vf", f"fps={rate}", "-c:v", "libx264", "-preset", "ultrafast", "-g",
               str(round(Fraction(rate))), "-c:a", "copy", out[name])
    out["ts"] = folder / "talk.ts"
    ffmpeg("-i", TALK, "-c", "copy", out["ts"])
    out["late-video"] = folder / "talk_late_video.mp4"  # the picture starts 0.5 s after the sound
    ffmpeg("-itsoffset", "0.5", "-i", TALK, "-i", TALK, "-map", "0:v", "-map", "1:a", "-c", "copy", out["late-video"])
    out["vfr"] = folder / "talk_vfr.mp4"
    ffmpeg("-i", TALK, "-vf", "select='not(between(n,60,300)*eq(mod(n,3),0))'", "-fps_mode", "vfr", "-c:v",
           "libx264", "-preset", "ultrafast", "-c:a", "copy", out["vfr"])
    return out


def within_one_frame(a: float, b: float, fps: Fraction) -> bool:
    return abs(a - b) <= 1 / fps + 1e-6


def check_accurate_clips(doc, out_dir, written_plan):
    plan = json.loads(written_plan.read_text())
    fps = doc.source.fps
    for entry in plan["clips"]:
        probe = ffprobe(out_dir / entry["file"])
        video, (audio,) = probe["video"], probe["audio"]
        assert int(video["nb_read_packets"]) == entry["frames"]
        assert within_one_frame(float(video["duration"]), entry["frames"] / fps, fps)
        assert within_one_frame(float(audio["duration"]), float(video["duration"]), fps)  # A/V together
        assert video["r_frame_rate"] == video["avg_frame_rate"] == doc.source.fps_text  # constant rate
        # the first frame is the planned source frame: nearer to it than to its neighbours
        first = gray_frame(out_dir / entry["file"], 0)
        diffs = [abs(first - gray_frame(doc.source.path, entry["in_frame"] + d)).mean() for d in (-1, 0, 1)]
        assert diffs[1] < min(diffs[0], diffs[2]), diffs
    return plan


@case("Media at the edges", "A video whose picture starts 0.5 s after its sound: clips and reel",
      "each clip starts on its planned picture frame: spans are on the picture's clock, seeks add the offset")
@pytest.mark.parametrize("rate", ["23.976", "29.97", "59.94", "ts", "late-video"])
def test_accurate_clips_and_reel_land_on_their_frames(sources, rate, tmp_path):
    doc = doc_for(sources[rate])
    written = cut_paths(doc, tmp_path, reel_preset(), reel=True)
    plan = check_accurate_clips(doc, tmp_path, written[-1])
    assert len(plan["clips"]) == 4 and plan["reel"] == f"{doc.stem}.reel.mp4"
    fps = doc.source.fps
    overlap = round(Fraction(1, 2) * fps) / fps
    expected = sum(c["frames"] for c in plan["clips"]) / fps - 3 * overlap
    reel = ffprobe(tmp_path / plan["reel"])
    assert within_one_frame(float(reel["video"]["duration"]), expected, fps)
    assert within_one_frame(float(reel["audio"][0]["duration"]), expected, fps)


def test_hard_cuts_sum_the_clips(tmp_path):
    doc = doc_for(TALK)
    written = cut_paths(doc, tmp_path, reel_preset(crossfade_ms=0), reel=True)
    plan = json.loads(written[-1].read_text())
    fps = doc.source.fps
    reel = ffprobe(tmp_path / plan["reel"])
    assert int(reel["video"]["nb_read_packets"]) == sum(c["frames"] for c in plan["clips"])
    assert within_one_frame(float(reel["audio"][0]["duration"]), float(reel["video"]["duration"]), fps)


def test_variable_frame_rate_is_normalised_or_refused(sources, tmp_path):
    doc = doc_for(sources["vfr"])
    assert doc.source.variable_fps
    written = cut_paths(doc, tmp_path, reel_preset())
    plan = json.loads(written[-1].read_text())
    for entry in plan["clips"]:
        video = ffprobe(tmp_path / entry["file"])["video"]
        assert video["r_frame_rate"] == video["avg_frame_rate"] == "30000/1001"
        assert int(video["nb_read_packets"]) == entry["frames"]
    with pytest.raises(UsageError, match="variable frame rate.*cut='accurate'"):
        cut_paths(doc, tmp_path / "fast", reel_preset(cut="fast"))


@pytest.mark.parametrize("rate", ["29.97", "23.976", "late-video"])
def test_fast_cuts_record_the_keyframes_they_start_and_end_on(sources, rate, tmp_path):
    doc = doc_for(sources[rate])
    keys = media.keyframes(doc.source.path)  # the file's times; frames count from the first picture
    fps = doc.source.fps
    key_frames = {round((k - doc.source.origin) * fps) for k in keys}
    written = cut_paths(doc, tmp_path, reel_preset(cut="fast"), reel=True)
    plan = json.loads(written[-1].read_text())
    assert plan["cut"] == "fast"
    from mediatagger import highlights

    planned = highlights.plan(doc, reel_preset().clips)
    for entry, want in zip(plan["clips"], planned):
        assert entry["in_frame"] in key_frames and entry["in_frame"] <= want.first_frame  # starts on a keyframe
        total = int(ffprobe(doc.source.path)["video"]["nb_read_packets"])
        assert entry["out_frame"] >= want.first_frame + want.frames  # holds all it was cut for
        assert entry["out_frame"] in key_frames or entry["out_frame"] == total  # ends on a keyframe or the end
        video = ffprobe(tmp_path / entry["file"])["video"]
        assert int(video["nb_read_packets"]) == entry["frames"]
        first = gray_frame(tmp_path / entry["file"], 0)
        assert abs(first - gray_frame(doc.source.path, entry["in_frame"])).mean() < 1  # the very frame, copied
    reel = ffprobe(tmp_path / plan["reel"])
    overlap = round(Fraction(1, 2) * fps) / fps
    assert within_one_frame(float(reel["video"]["duration"]),
                            sum(c["frames"] for c in plan["clips"]) / fps - 3 * overlap, fps)


def test_each_clip_holds_the_span_it_was_cut_for(tmp_path):
    doc = doc_for(TALK)
    plan = json.loads(cut_paths(doc, tmp_path, reel_preset())[-1].read_text())
    for entry in plan["clips"]:
        for span in entry["spans"]:
            assert entry["in_ms"] <= span["start_ms"] and span["end_ms"] <= entry["out_ms"]


def test_burned_subtitles_need_accurate_cuts(tmp_path):
    with pytest.raises(UsageError, match="burned subtitles need re-encoding"):
        cut_paths(doc_for(TALK), tmp_path, reel_preset(cut="fast", burn="badges"))
    assert not list(tmp_path.glob("clips/*.mp4"))


def test_audio_only_reel(tmp_path):
    wav = tmp_path / "talk.m4a"
    ffmpeg("-i", TALK, "-vn", "-c:a", "copy", wav)
    doc = dataclasses.replace(doc_for(wav), source=dataclasses.replace(doc_for(wav).source, fps=None))
    plan = json.loads(cut_paths(doc, tmp_path, reel_preset(), reel=True)[-1].read_text())
    reel = ffprobe(tmp_path / plan["reel"])
    lengths = [(c["out_ms"] - c["in_ms"]) / 1000 for c in plan["clips"]]
    assert reel["video"] is None and abs(float(reel["audio"][0]["duration"]) - (sum(lengths) - 1.5)) < 0.05


def test_fast_hard_cut_reel_is_a_stream_copy_of_its_clips(sources, tmp_path):
    doc = doc_for(sources["29.97"])
    tmp_path = tmp_path / "it's [a], b;c é"  # the clip list quotes names for ffmpeg's concat demuxer
    written = cut_paths(doc, tmp_path, reel_preset(cut="fast", crossfade_ms=0), reel=True)
    plan = json.loads(written[-1].read_text())
    reel = ffprobe(tmp_path / plan["reel"])
    assert int(reel["video"]["nb_read_packets"]) == sum(c["frames"] for c in plan["clips"])
    first_clip = gray_frame(tmp_path / plan["clips"][1]["file"], 0)
    at = plan["clips"][0]["frames"]  # the second clip starts right after the first, frame for frame
    assert abs(gray_frame(tmp_path / plan["reel"], at) - first_clip).max() == 0
