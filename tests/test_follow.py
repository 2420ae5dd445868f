"""``tag --follow``: a recording tagged while ffmpeg writes it in real time (``-re``, Matroska with a cluster a
second, as OBS writes), from standard input and from a named pipe; a writer that dies or hangs mid-file;
Ctrl-C. Real ffmpeg, the real tiny model, real silero-vad; the outputs read back with their own parsers."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import opentimelineio as otio
import pysubs2
import pytest

from mediatagger import analysis, follow, media
from tests.conftest import TALK, TWO_TRACKS, run_cli

pytestmark = pytest.mark.slow

EXPORTS = "edl,ass,csv"
TEXTS = ("analysis.json", "edl", "ass", "markers.csv")


def writer(source: Path, dest: str | Path, *, loops: int = 0, realtime: bool = True, fmt: str = "matroska",
           stdout: int | None = None) -> subprocess.Popen:
    """ffmpeg recording ``source`` (``loops`` more times) into ``dest`` as a recorder does: in real time,
    H.264 and AAC, every audio track, a Matroska cluster a second."""
    return subprocess.Popen([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
                             *(["-re"] if realtime else []), "-stream_loop", str(loops), "-i", str(source),
                             "-map", "0:v", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                             "-flush_packets", "1", "-cluster_time_limit", "1000", "-f", fmt, str(dest)],
                            stdout=stdout, stdin=subprocess.DEVNULL)


def follower(*args: str | Path, stdin: int | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mediatagger", "tag", "--follow", *map(str, args)], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(check, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"no {what} within {timeout} s")


def live_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def same_outputs(a: Path, b: Path, stem: str) -> None:
    """Every text output of the follow run is byte for byte that of ``tag`` of the finished file."""
    for suffix in TEXTS:
        assert (a / f"{stem}.{suffix}").read_bytes() == (b / f"{stem}.{suffix}").read_bytes(), suffix


def test_a_recording_is_tagged_while_it_is_written_and_ends_as_tag_of_the_finished_file(tmp_path, tiny_model):
    rec, out, again = tmp_path / "rec.mkv", tmp_path / "out", tmp_path / "tag"
    recording = writer(TWO_TRACKS, rec, loops=2)   # 42 s, two audio tracks
    exports = EXPORTS + ",chapters"   # written from 30 s on (a shorter video has none)
    run = follower(rec, "-o", out, "--model", tiny_model, "--vad", "silero", "--export", exports, "--refresh", "1")
    try:
        # mid-show: the markers so far import, and finished spans are in the live file, while ffmpeg still writes
        edl = wait_for(lambda: (out / "rec.edl").exists() and recording.poll() is None and (out / "rec.edl"),
                       35, "live EDL")
        assert otio.adapters.read_from_string(edl.read_text(), "cmx_3600", rate=30) is not None
        lines = wait_for(lambda: [x for x in live_lines(out / "rec.live.jsonl") if "label" in x], 35, "live span")
        assert recording.poll() is None, "the recording ended before a span was told"
        assert not (out / "rec.analysis.json").exists()   # written once, at the end
        recording.wait(60)
        stopped = time.monotonic()
        _, err = run.communicate(timeout=60)
        assert time.monotonic() - stopped <= 10, "the outputs came more than 10 s after the writer stopped"
    finally:
        recording.kill()
        run.kill()
    assert run.returncode == 0, err
    done = run_cli("tag", rec, "-o", again, "--model", tiny_model, "--vad", "silero", "--export", exports)
    assert done.returncode == 0, done.stderr
    same_outputs(out, again, "rec")
    assert (out / "rec.chapters.txt").read_bytes() == (again / "rec.chapters.txt").read_bytes()
    doc = analysis.load(out / "rec.analysis.json")
    assert [t.index for t in doc.tracks] == [0, 1] and doc.spans("events") and "follow" not in doc.settings
    told = live_lines(out / "rec.live.jsonl")
    assert told[-1]["ended"] == "finished" and told[-1]["complete"] is True
    spans = {(s.track, s.label, s.start_ms, s.end_ms) for k in ("events", "emotions") for s in doc.spans(k)}
    assert {(x["track"], x["label"], x["start_ms"], x["end_ms"]) for x in told if "label" in x} == spans
    assert lines[0]["label"] in {label for _, label, _, _ in spans}
    assert pysubs2.load(str(out / "rec.ass")).events
    assert "Laughter" in err or "Applause" in err   # each span is shown as it is found


def test_standard_input_is_followed_and_kept_as_the_recording(tmp_path, tiny_model):
    out, again = tmp_path / "out", tmp_path / "tag"
    recording = writer(TALK, "-", stdout=subprocess.PIPE)
    run = follower("-", "--name", "show", "-o", out, "--model", tiny_model, "--vad", "silero", "--export", EXPORTS,
                   stdin=recording.stdout)
    recording.stdout.close()
    _, err = run.communicate(timeout=120)
    recording.wait(10)
    assert run.returncode == 0, err
    kept = out / "show.mkv"
    assert media.probe(kept).audio_tracks and abs(media.probe(kept).duration_ms - 20000) < 500
    assert live_lines(out / "show.live.jsonl")[-1]["ended"] == "ended"
    done = run_cli("tag", kept, "-o", again, "--model", tiny_model, "--vad", "silero", "--export", EXPORTS)
    assert done.returncode == 0, done.stderr
    same_outputs(out, again, "show")


def test_a_named_pipe_is_followed(tmp_path, tiny_model):
    pipe, out = tmp_path / "cam.mkv", tmp_path / "out"
    os.mkfifo(pipe)
    run = follower(pipe, "-o", out, "--model", tiny_model, "--vad", "silero", "--export", "edl,chapters")
    recording = writer(TALK, pipe, realtime=False)
    _, err = run.communicate(timeout=120)
    recording.wait(10)
    assert run.returncode == 0, err
    # 20 s cannot have chapters: the rest is written, and the run says why that one is not
    assert "chapters not written: " in err and "20 s is too short for YouTube chapters" in err
    assert not (out / "cam.chapters.txt").exists()
    doc = analysis.load(out / "cam.analysis.json")
    assert [s.label for s in doc.spans("events")] == ["LAUGHTER", "APPLAUSE", "BGM"]
    assert (out / "cam.mkv").is_file() and otio.adapters.read_from_file(str(out / "cam.edl"), rate=30)


def check_early_end(out: Path, stem: str, ending: str) -> dict:
    """The outputs of a recording that ended early are whole, read back, and say so."""
    doc = analysis.load(out / f"{stem}.analysis.json")
    assert doc.settings["follow"]["ended"] == ending
    assert otio.adapters.read_from_file(str(out / f"{stem}.edl"), rate=30) is not None
    assert pysubs2.load(str(out / f"{stem}.ass")) is not None
    last = live_lines(out / f"{stem}.live.jsonl")[-1]
    assert last["ended"] == ending and last["complete"] is False
    assert not list(out.glob("*.part*"))
    return last


def test_a_writer_that_dies_mid_file_ends_the_follow_at_once_and_says_so(tmp_path, tiny_model):
    rec, out = tmp_path / "rec.mkv", tmp_path / "out"
    recording = writer(TALK, rec, loops=3)
    run = follower(rec, "-o", out, "--model", tiny_model, "--vad", "silero", "--export", EXPORTS, "--idle", "60",
                   "--refresh", "1")
    try:
        wait_for(lambda: (out / "rec.edl").exists(), 40, "live EDL")
        recording.kill()   # SIGKILL: no trailer, the file ends inside a cluster
        killed = time.monotonic()
        _, err = run.communicate(timeout=60)
        assert time.monotonic() - killed < 15   # the writer closing the file ends it, not --idle's 60 s
    finally:
        recording.kill()
        run.kill()
    assert run.returncode == 0, err
    assert "cut short" in err and "Traceback" not in err
    last = check_early_end(out, "rec", follow.CUT_SHORT)
    assert last["duration_ms"] > 5000


def test_a_writer_that_hangs_ends_the_follow_after_idle_seconds(tmp_path, tiny_model):
    rec, out = tmp_path / "rec.mkv", tmp_path / "out"
    recording = writer(TALK, rec, loops=3)
    run = follower(rec, "-o", out, "--model", tiny_model, "--vad", "silero", "--export", EXPORTS, "--idle", "4")
    try:
        wait_for(lambda: rec.exists() and rec.stat().st_size > 200_000, 30, "recording")
        recording.send_signal(signal.SIGSTOP)   # still open, no longer writing
        _, err = run.communicate(timeout=60)
    finally:
        recording.kill()
        run.kill()
    assert run.returncode == 0, err
    assert "stopped growing for 4 s" in err
    check_early_end(out, "rec", follow.IDLE)


def test_ctrl_c_ends_the_follow_and_writes_what_came(tmp_path, tiny_model):
    rec, out = tmp_path / "rec.mkv", tmp_path / "out"
    recording = writer(TALK, rec, loops=3)
    run = follower(rec, "-o", out, "--model", tiny_model, "--vad", "silero", "--export", EXPORTS, "--refresh", "1")
    try:
        wait_for(lambda: (out / "rec.edl").exists(), 40, "live EDL")
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
        assert recording.poll() is None   # the recording goes on; the follow stopped
    finally:
        recording.kill()
        run.kill()
    assert run.returncode == 0, err
    check_early_end(out, "rec", follow.STOPPED)


def test_a_follow_started_late_shows_the_markers_so_far_as_soon_as_it_has_caught_up(tmp_path, tiny_model):
    """Started 20 s into the show with a refresh of 120 s: the markers of those 20 s come once they are
    heard, not at the first refresh."""
    rec, out = tmp_path / "rec.mkv", tmp_path / "out"
    recording = writer(TALK, rec, loops=5)   # 120 s
    try:
        time.sleep(20)
        began = time.monotonic()
        run = follower(rec, "-o", out, "--model", tiny_model, "--vad", "silero", "--export", EXPORTS,
                       "--refresh", "120")
        try:
            wait_for(lambda: (out / "rec.markers.csv").exists(), 60, "markers before the first refresh")
            assert time.monotonic() - began < 60 and recording.poll() is None
            with open(out / "rec.markers.csv", newline="", encoding="utf-8") as fh:
                assert [row for row in csv.DictReader(fh) if row["label"]], "no marker for the first 20 s"
            run.send_signal(signal.SIGINT)
            _, err = run.communicate(timeout=60)
        finally:
            run.kill()
    finally:
        recording.kill()
    assert run.returncode == 0, err


def test_finished_tells_a_recording_under_way_from_a_finished_one(tmp_path):
    for name, fmt in (("rec.mkv", "matroska"), ("rec.mp4", "mp4")):
        rec = tmp_path / name
        extra = [] if fmt == "matroska" else ["-movflags", "frag_keyframe+empty_moov", "-frag_duration", "1000000"]
        recording = subprocess.Popen([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-re", "-i",
                                      str(TALK), "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                                      "-flush_packets", "1", *extra, "-f", fmt, str(rec)])
        try:
            wait_for(lambda rec=rec: rec.exists() and rec.stat().st_size > 50_000, 20, "recording")
            assert follow.finished(rec) is False and follow.writing(rec) is True, name
            recording.wait(30)
        finally:
            recording.kill()
        assert follow.finished(rec) is True and follow.writing(rec) is False, name
    assert follow.finished(TWO_TRACKS) is True   # a whole MOV: its index written
    (tmp_path / "cut.mov").write_bytes(TWO_TRACKS.read_bytes()[:200_000])
    assert follow.finished(tmp_path / "cut.mov") is False
    (tmp_path / "notes.txt").write_text("not media")
    assert follow.finished(tmp_path / "notes.txt") is None


def test_follow_takes_one_recording_and_says_why_not(tmp_path):
    done = run_cli("tag", "--follow", TALK, TWO_TRACKS, "-o", tmp_path)
    assert done.returncode != 0 and "--follow takes one recording" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("tag", "--follow", TALK, "-j", "2", "-o", tmp_path)
    assert done.returncode != 0 and "--jobs: for batches; --follow tags one recording" in done.stderr
    done = run_cli("tag", "--follow", tmp_path / "nothing.mkv", "-o", tmp_path)
    assert done.returncode != 0 and "nothing.mkv: no such file" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == []


def test_standard_input_is_not_read_when_the_outputs_are_there_already(tmp_path):
    """Refused before a byte of the stream is read (standard input is read once): nothing copied."""
    (tmp_path / "show.edl").write_text("TITLE: an earlier show\n")
    done = subprocess.run([sys.executable, "-m", "mediatagger", "tag", "--follow", "-", "--name", "show", "-o",
                           str(tmp_path), "--export", "edl"], input=TALK.read_bytes(), capture_output=True)
    assert done.returncode == 1 and b"show.edl: already exists" in done.stderr and b"Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["show.edl"]
