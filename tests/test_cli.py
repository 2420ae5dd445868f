"""The command line end to end: real ffmpeg, real silero-vad, funasr's SenseVoice path."""

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pysubs2
import pytest

from mediatagger.exporters import EXPORTERS
from tests.conftest import TALK, TWO_TRACKS, ffmpeg, frame_count, run_cli, truth

slow = pytest.mark.slow


def one_line_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mediatagger: error: ") and "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_help_does_not_import_torch_or_funasr():
    code = ("import sys, runpy; sys.argv = ['mediatagger', 'tag', '--help']\n"
            "try:\n    runpy.run_module('mediatagger', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'funasr') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--track" in done.stdout and done.stdout.strip().endswith("[]")


def test_export_choices_come_from_the_registry():
    done = run_cli("tag", "--help")
    assert f"Comma list of: {', '.join(EXPORTERS)}" in " ".join(done.stdout.split())
    bad = run_cli("tag", TALK, "--export", "json,pdf")
    assert bad.returncode == 2 and "unknown export format 'pdf'" in bad.stderr and "clips" in bad.stderr


def best_truth(seg: dict, items: list[dict]) -> dict:
    """The ground-truth item a segment matches best (intersection over union: speech over a music bed
    matches the speech, not the longer bed)."""
    def iou(item: dict) -> float:
        inter = min(seg["end_ms"], item["end_ms"]) - max(seg["start_ms"], item["start_ms"])
        union = max(seg["end_ms"], item["end_ms"]) - min(seg["start_ms"], item["start_ms"])
        return inter / union
    return max(items, key=iou)


def tagged_right(seg: dict, item: dict) -> bool:
    if item["label"] == "SPEECH":
        return (seg["language"], seg["emotion"]) == (item["language"], item["emotion"]) \
            and seg["event"] in ("SPEECH", "BGM") and bool(seg["text"])
    return seg["event"] == item["label"] and seg["emotion"] is None


def assert_tagged_right(segments: list[dict], items: list[dict], misses: int = 0) -> None:
    """Whatever the VAD passed on is tagged as what is really there (up to ``misses`` mistakes)."""
    wrong = [(seg, best_truth(seg, items)) for seg in segments if not tagged_right(seg, best_truth(seg, items))]
    assert len(wrong) <= misses, wrong


def test_tag_writes_all_four_outputs(tiny_model, tmp_path):
    done = run_cli("tag", TALK, "--model", tiny_model, "--vad", "silero", "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "talk.analysis.json").read_text())
    assert doc["schema"] == "mediatagger.analysis/3" and doc["model"]["precision"] == "int8"
    assert doc["source"]["fps"] == "30000/1001" and doc["model"]["vad"] == "silero"
    (track,) = doc["tracks"]
    items = truth(TALK)
    assert_tagged_right(track["segments"], items)
    speech = [s for s in track["segments"] if s["event"] != "LAUGHTER"]
    assert len(speech) == 3 and [s["emotion"] for s in speech] == ["HAPPY", "NEUTRAL", "HAPPY"]
    # silero passes on only the laugh's first syllables: the window scan times the events
    assert [e["label"] for e in track["events"]] == ["LAUGHTER", "APPLAUSE", "BGM"]
    for event in track["events"]:
        item = next(i for i in items if i["label"] == event["label"])
        assert abs(event["start_ms"] - item["start_ms"]) <= 300 and abs(event["end_ms"] - item["end_ms"]) <= 300
    event = track["events"][0]
    assert [e["label"] for e in track["emotions"]] == ["HAPPY", "NEUTRAL", "HAPPY"]

    subs = pysubs2.load(str(tmp_path / "talk.ass"))
    assert subs.info["PlayResY"] == "360"
    badge = next(e for e in subs if e.style == "Badge")
    assert badge.plaintext == "[Laughter]" and abs(badge.start - event["start_ms"]) < 40
    assert [e.style for e in subs if e.style != "Badge"] == ["HAPPY", "NEUTRAL", "HAPPY"]
    edl = (tmp_path / "talk.edl").read_text()
    assert edl.startswith("TITLE: talk\nFCM: NON-DROP FRAME\n")  # talk.mp4 has no timecode: auto is non-drop
    assert edl.count("|M:Laughter |D:") == 1 and edl.count("|M:Happy |D:") == 2
    # the laugh's clip (4 s pre-roll, 1 s post-roll) runs into the applause's: one clip holds both
    (clip,) = sorted((tmp_path / "clips").iterdir())
    plan = json.loads((tmp_path / "talk.clips.json").read_text())
    assert clip.name == "talk_01_laughter_applause.mp4" and plan["clips"][0]["file"] == f"clips/{clip.name}"
    applause = track["events"][1]
    expected = (min(applause["end_ms"] + 1000, 20000) - max(event["start_ms"] - 4000, 0)) * 30000 / 1001 / 1000
    frames, _ = frame_count(clip)
    assert frames == plan["clips"][0]["frames"] and abs(frames - expected) <= 2
    for item in (i for i in items if i["label"] in ("LAUGHTER", "APPLAUSE")):  # the truth it was cut for
        assert plan["clips"][0]["in_ms"] <= item["start_ms"] and item["end_ms"] <= plan["clips"][0]["out_ms"]
    assert done.stdout.splitlines()[0] == str(tmp_path / "talk.analysis.json")


@slow
def test_track_all_analyses_both_tracks_of_the_mov(tiny_model, tmp_path):
    done = run_cli("tag", TWO_TRACKS, "--model", tiny_model, "--vad", "silero", "--track", "all",
                   "--export", "json", "-o", tmp_path, "-q")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "two_tracks.analysis.json").read_text())
    assert [t["index"] for t in doc["tracks"]] == [0, 1]
    assert doc["source"]["start_timecode"] == "10:00:00:00"
    items = truth(TWO_TRACKS)
    dialogue, audience = doc["tracks"]
    # the tiny model hears "good evening everyone" as zh over music: one miss allowed on this track
    assert_tagged_right(dialogue["segments"], [i for i in items if i["track"] == 0], misses=1)
    assert len(dialogue["segments"]) == 2 and dialogue["segments"][1]["language"] == "zh"
    assert_tagged_right(audience["segments"], [i for i in items if i["track"] == 1])
    assert [(e["label"], e["track"]) for e in audience["events"]] == [("LAUGHTER", 1), ("APPLAUSE", 1)]
    assert "LAUGHTER" not in {e["label"] for e in dialogue["events"]}  # the laugh is the audience's


def test_unreachable_default_model_is_one_line(tmp_path):
    done = run_cli("tag", TALK, "-o", tmp_path, "--vad", "none", env={"MEDIATAGGER_MODEL": ""})
    one_line_error(done, "iic/SenseVoiceSmall", "--model DIR")
    assert done.returncode == 1 and not any(tmp_path.iterdir())


def bad_inputs(tmp: Path) -> dict[str, tuple[Path, list[str], str]]:
    empty, text, silent = tmp / "empty.mp4", tmp / "notes.mp4", tmp / "silent.mp4"
    empty.touch()
    text.write_text("not a video")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", silent)
    return {"missing": (tmp / "nope.mp4", [], "no such file"),
            "zero-byte": (empty, [], "file is empty"),
            "text as mp4": (text, [], "not a media file"),
            "no audio": (silent, [], "has no audio stream"),
            "track 5": (TALK, ["--track", "5"], "no audio track 5: the file has 1 audio track (0)")}


@pytest.mark.parametrize("case", ["missing", "zero-byte", "text as mp4", "no audio", "track 5"])
def test_bad_input_one_line_nonzero_and_nothing_written(case, tmp_path):
    (tmp_path / "in").mkdir()
    path, extra, problem = bad_inputs(tmp_path / "in")[case]
    out = tmp_path / "out"
    before = path.read_bytes() if path.exists() else None
    done = run_cli("tag", path, "-o", out, "--vad", "none", *extra)
    one_line_error(done, str(path), problem)
    assert not out.exists()
    assert (path.read_bytes() if path.exists() else None) == before


def test_bad_preset_is_a_usage_error(tmp_path):
    preset = tmp_path / "mine.yaml"
    preset.write_text("vad: {treshold: 0.3}\n")
    done = run_cli("tag", TALK, "--preset", preset, "-o", tmp_path / "out")
    one_line_error(done, str(preset), "'vad.treshold'", "silero_threshold")
    assert done.returncode == 2


def test_version_and_module_entry():
    done = run_cli("--version")
    assert done.returncode == 0 and "mediatagger" in done.stdout


def on_terminal(*args: str | Path) -> tuple[int, str]:
    """Run the CLI with stderr on a terminal (a 100x30 pty); returns its exit code and what it showed."""
    import fcntl
    import os
    import pty
    import struct
    import termios
    import threading

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    done = subprocess.run([sys.executable, "-m", "mediatagger", *map(str, args)], stderr=slave,
                          stdout=subprocess.PIPE, timeout=300)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return done.returncode, b"".join(chunks).decode("utf-8", "replace")


def assert_stages_finish(shown: str, *stages: str) -> None:
    """Each stage's bar reached 100 % and showed an ETA ([elapsed<remaining])."""
    for stage in stages:
        assert re.search(re.escape(stage) + r": 100%\|.*\[\d\d:\d\d<\d\d:\d\d\]", shown), (stage, shown)


@slow
def test_progress_bars_on_a_terminal(tiny_model, tmp_path):
    """Progress with ETA goes to stderr on a terminal for every long command; --quiet shows nothing."""
    code, shown = on_terminal("tag", TALK, "--model", tiny_model, "--vad", "silero", "--export", "json", "-o",
                              tmp_path)
    assert code == 0
    assert_stages_finish(shown, "load models", "tag track 0")
    doc = tmp_path / "talk.analysis.json"
    code, shown = on_terminal("burn", TALK, "--analysis", doc, "-o", tmp_path / "burned.mp4")
    assert code == 0
    assert_stages_finish(shown, "burn")
    code, shown = on_terminal("reel", doc, "--labels", "LAUGHTER,APPLAUSE,BGM", "--cut", "fast")
    assert code == 0
    assert_stages_finish(shown, "cut clips", "join reel")
    quiet = run_cli("tag", TALK, "--model", tiny_model, "--vad", "none", "--export", "json", "-o",
                    tmp_path / "q", "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    quiet = run_cli("burn", TALK, "--analysis", doc, "-o", tmp_path / "q" / "burned.mp4", "-q")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert (tmp_path / "q" / "burned.mp4").is_file()


@slow
def test_awkward_file_names_work_end_to_end(tiny_model, tmp_path):
    """Names starting with '-' or holding ':', brackets, quotes, commas and non-ASCII reach ffmpeg intact."""
    name = "-take 1: 'best' [final], café;.mp4"
    src = tmp_path / name
    src.write_bytes(TALK.read_bytes())
    out = tmp_path / "out: [x]"
    done = run_cli("tag", src, "--model", tiny_model, "--vad", "silero", "-o", out, "-q")
    assert done.returncode == 0, done.stderr
    stem = src.stem
    assert {p.name for p in out.iterdir()} == {f"{stem}.analysis.json", f"{stem}.ass", f"{stem}.edl", "clips",
                                               f"{stem}.clips.json"}
    clips = sorted((out / "clips").iterdir())
    assert clips and all(p.name.startswith(f"{stem}_0") and frame_count(p)[0] > 0 for p in clips)
    assert src.read_bytes() == TALK.read_bytes()


@slow
def test_flags_override_env_overrides_preset(tiny_model, tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text("model: {name: /no/such/model, vad: silero, language: zh}\n")
    done = run_cli("tag", TALK, "--preset", preset, "--vad", "none", "--export", "json", "-o", tmp_path, "-q",
                   env={"MEDIATAGGER_MODEL": str(tiny_model)})
    assert done.returncode == 0, done.stderr
    model = json.loads((tmp_path / "talk.analysis.json").read_text())["model"]
    assert model == {"name": str(tiny_model), "vad": "none", "language": "zh", "itn": True, "precision": "int8"}


@slow
def test_one_bad_input_among_several(tiny_model, tmp_path):
    missing = tmp_path / "gone.mov"
    done = run_cli("tag", missing, TALK, "--model", tiny_model, "--vad", "none", "--export", "json",
                   "-o", tmp_path / "out", "-q")
    error, summary = done.stderr.strip().splitlines()
    assert error.startswith("mediatagger: error: ") and str(missing) in error and "no such file" in error
    assert summary == "mediatagger: 1 done, 1 failed, 0 skipped" and done.returncode == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mediatagger.journal.jsonl", "summary.csv",
                                                                    "summary.html", "talk.analysis.json"]


def write_analysis(tmp_path: Path, fps: str, start_timecode: str | None) -> Path:
    from mediatagger import analysis
    from tests.conftest import load_fixed

    doc = analysis.to_dict(load_fixed())
    doc["source"].update(fps=fps, start_timecode=start_timecode)
    path = tmp_path / "talk.analysis.json"
    path.write_text(json.dumps(doc))
    return path


def test_export_every_marker_format_from_the_files_own_timecode(tmp_path):
    from tests.readers import resolve_edl

    doc = write_analysis(tmp_path, "25", "10:00:00:00")
    out = tmp_path / "out"
    done = run_cli("export", doc, "-o", out, "--export", "edl,edl-loc,fcpxml,xmeml,otio,csv", "--start-tc", "source")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["talk.analysis.json", "talk.edl", "talk.fcpxml",
                                                    "talk.loc.edl", "talk.markers.csv", "talk.otio", "talk.xml"]
    assert resolve_edl((out / "talk.edl").read_text())[1][0].rec_in == "10:00:00:12"
    assert "* LOC: 10:00:00:12 " in (out / "talk.loc.edl").read_text()


def test_start_tc_errors_are_one_line_and_write_nothing(tmp_path):
    doc = write_analysis(tmp_path, "25", None)
    out = tmp_path / "out"
    done = run_cli("export", doc, "-o", out, "--export", "edl,fcpxml", "--start-tc", "01:00:00:29")
    one_line_error(done, "start timecode", "01:00:00:29", "25 fps")
    assert done.returncode == 2 and not out.exists()
    bad = run_cli("export", doc, "-o", out, "--start-tc", "1 hour")
    assert bad.returncode == 2 and "'1 hour' is not HH:MM:SS:FF or 'source'" in bad.stderr and not out.exists()


def test_rich_text_and_label_flags_reach_every_subtitle(tmp_path):
    doc = write_analysis(tmp_path, "30000/1001", None)
    out = tmp_path / "out"
    done = run_cli("export", doc, "-o", out, "--export", "ass,srt,vtt", "--rich-text", "labels", "--label-lang", "zh")
    assert done.returncode == 0, done.stderr
    for name in ("talk.ass", "talk.srt", "talk.vtt"):
        text = (out / name).read_text()
        assert "[开心] So I told him no" in text and "[笑声]" in text, name
    assert '"rich": "[开心] So I told him no, {absolutely} not."' in (out / "talk.analysis.json").read_text()
    bad = run_cli("export", doc, "-o", tmp_path / "o2", "--rich-text", "bbcode")
    assert bad.returncode == 2 and "bbcode" in bad.stderr and not (tmp_path / "o2").exists()


def test_reel_from_media_and_from_an_analysis(tiny_model, tmp_path):
    done = run_cli("reel", TALK, "--model", tiny_model, "--vad", "silero", "--labels", "laughter", "-o", tmp_path,
                   "--cut", "fast", "-q")
    assert done.returncode == 0, done.stderr
    plan = json.loads((tmp_path / "talk.clips.json").read_text())
    assert plan["cut"] == "fast" and [s["label"] for c in plan["clips"] for s in c["spans"]] == ["LAUGHTER"]
    assert (tmp_path / "talk.reel.mp4").is_file() and (tmp_path / "talk.analysis.json").is_file()
    again = run_cli("reel", tmp_path / "talk.analysis.json", "--labels", "LAUGHTER,APPLAUSE,BGM", "--min-score",
                    "0.3", "--target", "10s", "--order", "score", "--crossfade", "0", "--force", "-q")
    assert again.returncode == 0, again.stderr
    plan = json.loads((tmp_path / "talk.clips.json").read_text())
    assert plan["cut"] == "accurate" and len(plan["clips"]) == 1  # the best clip alone passes 10 s
    assert len(list((tmp_path / "clips").iterdir())) == 1  # the old run's clips were replaced, not added to


def test_reel_usage_errors(tmp_path):
    doc = write_analysis(tmp_path, "30000/1001", None)
    for args, needle in ((["--target", "soon"], "not a duration"), (["--labels", "HAPPY"], "choose event labels"),
                         (["--min-score", "2"], "--min-score")):
        done = run_cli("reel", doc, "-o", tmp_path / "out", *args)
        assert done.returncode == 2 and needle in done.stderr, done.stderr
        assert not (tmp_path / "out").exists()


def test_presets_lists_each_with_one_line_and_shows_one_in_full(tmp_path):
    from mediatagger import presets

    done = run_cli("presets")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names == ["default", "laughter-reel", "markers", "subtitles", "triage"]
    assert all(len(line.split(None, 1)) == 2 for line in done.stdout.splitlines())  # a description each
    shown = run_cli("presets", "show", "laughter-reel")
    assert shown.returncode == 0
    copy = tmp_path / "mine.yaml"
    copy.write_text(shown.stdout)
    assert presets.load(str(copy)) == presets.load("laughter-reel")
    missing = run_cli("presets", "show", "nonesuch")
    one_line_error(missing, "unknown preset 'nonesuch'", "laughter-reel")
    assert missing.returncode == 2


def test_a_presets_exports_are_what_export_writes(tmp_path):
    from tests.conftest import DATA

    done = run_cli("export", DATA / "talk.analysis.json", "--preset", "markers", "-o", tmp_path, "-q")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.analysis.json", "talk.edl", "talk.fcpxml",
                                                         "talk.kdenlive", "talk.loc.edl", "talk.markers.csv",
                                                         "talk.mlt", "talk.otio", "talk.xml"]


def test_a_bug_is_one_line_and_never_exit_0():
    """An exception no code raises on purpose still ends the command with one line and exit 70."""
    from click.testing import CliRunner

    from mediatagger.cli import reports_errors

    @click.command()
    @click.option("--debug", is_flag=True)
    @reports_errors
    def broken(debug: bool) -> int:
        return {}["no such key"]

    done = CliRunner().invoke(broken, [])
    assert done.exit_code == 70
    assert done.output.splitlines() == [
        "mediatagger: error: internal error, please report it: KeyError: 'no such key' (--debug shows where)"]
    assert isinstance(CliRunner().invoke(broken, ["--debug"]).exception, KeyError)
