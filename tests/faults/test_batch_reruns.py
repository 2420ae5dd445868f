"""Batches that never lose work silently (issue 21): a rerun redoes what changed, a skipped failure is
still a failure, busy is not failed, workers die with their parent, camera footage in a ``clips`` folder
is footage, an output folder around the input folder, a damaged journal line. Each through the real
command line, real ffmpeg and the tiny model, checking the exit code, the message, that nothing outside
``-o`` was written and that no work is lost."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediatagger.clips import PLAN_SCHEMA
from tests.conftest import REPO
from tests.faults.conftest import (
    command,
    descendants,
    find_ffmpeg,
    journal_lines,
    last_states,
    leftovers,
    mediatagger,
    short_take,
    silent_wav,
    start,
    state,
)
from tests.reliability import case

slow = pytest.mark.slow


def takes(folder: Path, *names: str) -> Path:
    for name in names:
        short_take(folder / name, 3)
    return folder


def batch_args(folder: Path, out: Path, model: Path, *more: str | Path) -> list[str | Path]:
    return ["tag", folder, "--model", model, "--vad", "silero", "-o", out, *more]


def summary_status(out: Path) -> dict[str, str]:
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        return {row["input"]: row["status"] for row in csv.DictReader(fh)}


def outside(root: Path, out: Path) -> dict[str, str]:
    """Every file under ``root`` but not under ``out``, with its hash: what a batch must leave as it was."""
    skip = out.relative_to(root).as_posix() + "/"
    return {name: digest for name, digest in state(root).items() if not name.startswith(skip)}


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text and "BrokenPipeError" not in text, text


@slow
@case("Batches and reruns", "a rerun asks for more outputs (`--export json,edl`, then `json,edl,srt`)",
      "each input is tagged again (`<input> is tagged again: the settings or outputs asked for changed`), its "
      "analysis reused, the SRT written, the JSON and EDL left as they were; exit 0; a third run skips both")
def test_a_rerun_that_asks_for_more_outputs_writes_them(tiny_model, tmp_path):
    folder, out = takes(tmp_path / "in", "a.mp4", "b.mp4"), tmp_path / "out"
    around = outside(tmp_path, out)
    assert mediatagger(*batch_args(folder, out, tiny_model, "--export", "json,edl", "-q")).returncode == 0
    before = state(out)

    more = mediatagger(*batch_args(folder, out, tiny_model, "--export", "json,edl,srt"))
    no_traceback(more.stderr)
    assert more.returncode == 0, more.stderr
    assert "mediatagger: in/a.mp4 is tagged again: the settings or outputs asked for changed" in more.stderr
    assert more.stderr.splitlines()[-1] == "mediatagger: 2 done, 0 failed, 0 skipped"
    after = state(out)
    for stem in "ab":
        assert f"{stem}.srt" in after and f"{stem}.srt" not in before
        for kept in (f"{stem}.analysis.json", f"{stem}.edl"):  # the analysis reused, its outputs unchanged
            assert after[kept] == before[kept]

    third = mediatagger(*batch_args(folder, out, tiny_model, "--export", "json,edl,srt"))
    assert third.returncode == 0 and third.stderr.splitlines()[-1] == "mediatagger: 0 done, 0 failed, 2 skipped"
    assert outside(tmp_path, out) == around


@slow
@case("Batches and reruns", "an input's outputs are deleted, then the batch is run again",
      "the input is tagged again (`<input> is tagged again: <output> is missing` / `its analysis is missing`), "
      "every output back, the summary says done; exit 0")
def test_deleted_outputs_are_made_again(tiny_model, tmp_path):
    folder, out = takes(tmp_path / "in", "a.mp4", "b.mp4"), tmp_path / "out"
    around = outside(tmp_path, out)
    args = batch_args(folder, out, tiny_model, "--export", "json,edl,srt")
    assert mediatagger(*args, "-q").returncode == 0
    made = state(out)
    (out / "a.edl").unlink()
    for name in ("b.analysis.json", "b.srt", "b.edl"):
        (out / name).unlink()

    again = mediatagger(*args)
    no_traceback(again.stderr)
    assert again.returncode == 0, again.stderr
    assert "mediatagger: in/a.mp4 is tagged again: a.edl is missing" in again.stderr
    assert "mediatagger: in/b.mp4 is tagged again: its analysis is missing or another one" in again.stderr
    assert again.stderr.splitlines()[-1] == "mediatagger: 2 done, 0 failed, 0 skipped"
    now = state(out)
    assert {k for k in made if not k.startswith("summary.")} <= set(now)
    assert now["a.edl"] == made["a.edl"] and now["b.srt"] == made["b.srt"]
    assert summary_status(out) == {"in/a.mp4": "done", "in/b.mp4": "done"}
    assert outside(tmp_path, out) == around


@slow
@case("Batches and reruns", "a rerun skips an input that failed before (no --retry-failed)",
      "`skipped <input>: it failed before (...); --retry-failed tries again`, the last line "
      "`... N skipped; 1 still failed from before: --retry-failed tries again`, exit 1 (never 0 while the "
      "summary lists a failure)")
def test_a_skipped_failure_still_fails_the_run(tiny_model, tmp_path):
    folder, out = takes(tmp_path / "in", "a.mp4"), tmp_path / "out"
    (folder / "broken.mp4").write_text("not a video")
    around = outside(tmp_path, out)
    args = batch_args(folder, out, tiny_model, "--export", "json")
    assert mediatagger(*args, "-q").returncode == 1
    again = mediatagger(*args, "-q")
    no_traceback(again.stderr)
    assert again.returncode == 1
    assert again.stderr.splitlines()[-1] == ("mediatagger: 0 done, 0 failed, 2 skipped; 1 still failed from "
                                             "before: --retry-failed tries again")
    assert summary_status(out) == {"in/a.mp4": "done", "in/broken.mp4": "failed"}
    assert outside(tmp_path, out) == around


def hold_lock(out: Path, stem: str, until: Path | None = None) -> subprocess.Popen:
    """Another process holding the lock on ``out/<stem>.*`` (as a second run would): until its stdin
    closes, or until ``until`` exists."""
    code = ("import sys, time, pathlib\nfrom mediatagger.files import OutputLock\n"
            f"with OutputLock(pathlib.Path({str(out)!r}), {stem!r}):\n"
            "    print('held', flush=True)\n"
            + (f"    while not pathlib.Path({str(until)!r}).exists(): time.sleep(0.05)\n" if until else
               "    sys.stdin.read()\n"))
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=REPO)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


@slow
@case("Batches and reruns", "another run holds an input's outputs for the whole batch",
      "`mediatagger: busy: <out>/<stem>: another mediatagger run is writing these outputs (pid N); ...; left for "
      "the next run`, journal and summary say busy (never failed), the others done, exit 75; the next run tags it "
      "without --retry-failed")
def test_a_busy_input_is_left_busy_not_failed(tiny_model, tmp_path):
    folder, out = takes(tmp_path / "in", "a.mp4", "b.mp4"), tmp_path / "out"
    args = batch_args(folder, out, tiny_model, "--export", "json,edl")
    around = outside(tmp_path, out)
    holder = hold_lock(out, "a")
    try:
        held = mediatagger(*args, "--busy-wait", "1", "-q")
    finally:
        holder.communicate("")
    no_traceback(held.stderr)
    assert held.returncode == 75, held.stderr
    assert f"mediatagger: busy: {out / 'a'}: another mediatagger run is writing these outputs (pid {holder.pid})" \
        in held.stderr and "left for the next run" in held.stderr
    assert held.stderr.splitlines()[-1] == "mediatagger: 1 done, 0 failed, 0 skipped, 1 busy"
    assert last_states(out) == {"in/a.mp4": "busy", "in/b.mp4": "done"}
    assert summary_status(out) == {"in/a.mp4": "busy", "in/b.mp4": "done"}
    assert not (out / "a.analysis.json").exists() and leftovers(out) == []

    freed = mediatagger(*args, "-q")
    assert freed.returncode == 0, freed.stderr
    assert freed.stderr.splitlines()[-1] == "mediatagger: 1 done, 0 failed, 1 skipped"
    assert last_states(out) == {"in/a.mp4": "done", "in/b.mp4": "done"} and (out / "a.edl").exists()
    assert outside(tmp_path, out) == around


@slow
@case("Batches and reruns", "another run holds an input's outputs and lets go while the batch runs",
      "the input is tried again at the end of the batch and tagged: every input done, exit 0")
def test_a_busy_input_is_tagged_once_the_other_run_lets_go(tiny_model, tmp_path):
    folder, out = takes(tmp_path / "in", "a.mp4", "b.mp4"), tmp_path / "out"
    around = outside(tmp_path, out)
    holder = hold_lock(out, "a", until=out / "b.analysis.json")  # lets go once b is done: a was found busy
    run = mediatagger(*batch_args(folder, out, tiny_model, "--export", "json,edl", "--busy-wait", "120", "-q"))
    holder.wait(30)
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines()[-1] == "mediatagger: 2 done, 0 failed, 0 skipped"
    assert [e["status"] for e in journal_lines(out) if e["input"] == "in/a.mp4"][-1] == "done"
    assert (out / "a.edl").exists() and summary_status(out) == {"in/a.mp4": "done", "in/b.mp4": "done"}
    assert outside(tmp_path, out) == around


def alive(pid: int) -> bool:
    """A process that still runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@slow
@case("Killed processes", "the parent of a `--jobs 2` batch is killed outright (SIGKILL: an OOM killer, a scheduler)",
      "its workers, their ffmpeg and the resource tracker end within seconds, write nothing more and print no "
      "traceback; an immediate rerun tags everything (nothing busy), exit 0")
def test_workers_die_with_their_parent(tiny_model, tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    silent_wav(folder / "long.wav", 10 * 3600)   # 30 s of work or more for the worker that takes it, if it went on
    takes(folder, "a.mp4", "b.mp4")
    around = outside(tmp_path, out)
    run = start(*batch_args(folder, out, tiny_model, "--export", "json,edl", "--jobs", "2", "--threads", "1"))
    deadline = time.monotonic() + 300
    while find_ffmpeg(run, "pcm_f32le", "long.wav") is None:  # a worker is at work on the long file
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.01)
    below = descendants(run.pid)
    assert len(below) >= 3  # two workers, the resource tracker, ffmpeg
    os.kill(run.pid, 9)

    deadline = time.monotonic() + 20  # not waiting for their output: they must end by themselves, and soon
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [" ".join(Path(f"/proc/{p}/cmdline").read_text().split("\0")) for p in below if alive(p)]
    _, err = run.communicate(timeout=60)
    no_traceback(err)
    settled = state(out)
    time.sleep(3)
    assert state(out) == settled and leftovers(out) == []  # nothing written after the parent died
    assert "long.analysis.json" not in settled

    assert outside(tmp_path, out) == around
    silent_wav(folder / "long.wav", 10)  # (shorter now, to keep the test quick: it is tagged again, as changed)
    again = mediatagger(*batch_args(folder, out, tiny_model, "--export", "json,edl", "--jobs", "2", "-q"))
    no_traceback(again.stderr)
    assert again.returncode == 0, again.stderr
    assert "busy" not in again.stderr
    assert set(last_states(out).values()) == {"done"} and len(last_states(out)) == 3


@slow
@case("Batches and reruns", "camera footage in a folder named `clips` (`shoot/clips/scene_01_wide.mp4`), beside "
      "our own clips and reel of an earlier run",
      "the footage is tagged; our clips and reel are passed over, each named with `skipped <file>: written by "
      "mediatagger (listed in <stem>.clips.json)`, other files counted (`skipped N files that are not media (...)`)")
def test_footage_in_a_clips_folder_is_tagged_and_skipped_files_are_listed(tiny_model, tmp_path):
    shoot, out = tmp_path / "shoot", tmp_path / "out"
    takes(shoot / "clips", "scene_01_wide.mp4")
    takes(shoot, "old_01_laughter.mp4")   # footage too: named like a clip, but no plan lists it
    takes(shoot / "clips", "old_02_laughter.mp4")
    takes(shoot, "old.reel.mp4")
    (shoot / "old.clips.json").write_text(json.dumps(
        {"schema": PLAN_SCHEMA, "reel": "old.reel.mp4", "clips": [{"file": "clips/old_02_laughter.mp4"}]}))
    (shoot / "notes.txt").write_text("call sheet")
    around = outside(tmp_path, out)

    run = mediatagger(*batch_args(shoot, out, tiny_model, "-r", "--export", "json"))
    no_traceback(run.stderr)
    assert run.returncode == 0, run.stderr
    told = run.stderr.splitlines()
    assert f"mediatagger: skipped {shoot / 'clips' / 'old_02_laughter.mp4'}: written by mediatagger (listed in " \
           "old.clips.json)" in told
    assert f"mediatagger: skipped {shoot / 'old.reel.mp4'}: written by mediatagger (listed in old.clips.json)" in told
    assert "mediatagger: skipped 2 files that are not media (1 .json, 1 .txt)" in told
    assert set(last_states(out)) == {"shoot/clips/scene_01_wide.mp4", "shoot/old_01_laughter.mp4"}
    assert (out / "clips" / "scene_01_wide.analysis.json").exists()
    assert outside(tmp_path, out) == around


@slow
@case("Batches and reruns", "`tag rushes -o .`: the output folder holds the input folder",
      "the media in rushes/ is tagged into ., nothing in rushes/ changes; exit 0 (was: `no media files in rushes`)")
def test_an_output_folder_around_the_input_folder(tiny_model, tmp_path):
    rushes = takes(tmp_path / "rushes", "a.mp4", "b.mp4")
    inputs = state(rushes)
    run = subprocess.run(command("tag", "rushes", "-o", ".", "--model", tiny_model, "--vad", "silero", "--export",
                                 "json,edl", "-q"), capture_output=True, text=True, cwd=tmp_path, timeout=600)
    no_traceback(run.stderr)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "a.edl").exists() and (tmp_path / "b.analysis.json").exists()
    assert state(rushes) == inputs
    again = subprocess.run(command("tag", "rushes", "-o", ".", "--model", tiny_model, "--vad", "silero", "--export",
                                   "json,edl"), capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert again.returncode == 0 and again.stderr.splitlines()[-1] == "mediatagger: 0 done, 0 failed, 2 skipped"


@slow
@case("Batches and reruns", "a damaged journal line (200,000 `[`, or garbage in place of an input's line)",
      "`mediatagger: warning: <journal>: line N is damaged ('[[[...'); skipped: the input it was about is looked at "
      "again`, no traceback; the inputs whose lines are whole are skipped, the other is tagged again; exit 0")
def test_a_damaged_journal_line_is_reported_and_skipped(tiny_model, tmp_path):
    folder, out = takes(tmp_path / "in", "a.mp4", "b.mp4"), tmp_path / "out"
    args = batch_args(folder, out, tiny_model, "--export", "json,edl")
    around = outside(tmp_path, out)
    assert mediatagger(*args, "-q").returncode == 0
    journal = out / "mediatagger.journal.jsonl"
    lines = journal.read_text().splitlines()
    b_done = max(n for n, line in enumerate(lines) if '"in/b.mp4"' in line and '"done"' in line)
    lines[b_done] = '{"input": "in/b.mp4", "status": 7}'
    journal.write_text("\n".join(lines) + "\n" + "[" * 200_000 + "\n")

    again = mediatagger(*args)
    no_traceback(again.stderr)
    assert again.returncode == 0, again.stderr
    warned = [line for line in again.stderr.splitlines() if line.startswith("mediatagger: warning: ")]
    assert warned == [f"mediatagger: warning: {journal}: line {b_done + 1} is damaged "
                      """('{"input": "in/b.mp4", "status": 7}'); skipped: the input it was about is looked at again""",
                      f"mediatagger: warning: {journal}: line {len(lines) + 1} is damaged ('{'[' * 40}...'); "
                      "skipped: the input it was about is looked at again"]
    assert again.stderr.splitlines()[-1] == "mediatagger: 1 done, 0 failed, 1 skipped"
    appended = journal.read_text().splitlines()[len(lines) + 1:]  # what this run wrote after the damage
    assert [json.loads(line)["status"] for line in appended if '"in/b.mp4"' in line][-1] == "done"
    assert not any('"in/a.mp4"' in line for line in appended)
    assert outside(tmp_path, out) == around
