"""Processes killed from outside: ffmpeg in the middle of an extract, a cut, a reel and a burn; the
worker process holding the model in the middle of a file (``--jobs``)."""

from __future__ import annotations

import json

import pytest

from tests.faults.conftest import (
    descendants,
    find_ffmpeg,
    kill_when,
    last_states,
    leftovers,
    mediatagger,
    one_error,
    parent_of,
    short_take,
    silent_wav,
    start,
    state,
)
from tests.reliability import case

LONG_S = 30 * 60  # half an hour of silence: its extract lasts long enough to be caught


@pytest.mark.slow
@case("Killed processes", "ffmpeg is killed in the middle of an extract",
      "exit 1, `<input>: cannot decode audio track 0: ffmpeg was stopped by SIGKILL`; no output, no temp file")
def test_ffmpeg_killed_mid_extract(tiny_model, tmp_path):
    long = silent_wav(tmp_path / "in" / "long.wav", LONG_S)
    inputs, out = state(long.parent), tmp_path / "out"
    run = start("tag", long, "--model", tiny_model, "--vad", "silero", "-o", out, "-q")
    killed = kill_when(run, lambda: find_ffmpeg(run, "pcm_f32le", "long.wav"))
    _, err = run.communicate(timeout=600)

    assert killed, "no extract was caught"
    assert run.returncode == 1
    one_error(err, rf"{long}: cannot decode audio track 0: ffmpeg was stopped by SIGKILL$")
    assert state(out) == {} and state(long.parent) == inputs


@pytest.mark.slow
@case("Killed processes", "ffmpeg is killed in the middle of a clip's cut",
      "exit 1, `<source>: cannot cut <clip>: ffmpeg was stopped by SIGKILL`; no temp file, the plan marked "
      "incomplete; a rerun cuts the clip")
@case("Killed processes", "ffmpeg is killed while it joins the reel",
      "exit 1, `<source>: cannot join the reel: ffmpeg was stopped by SIGKILL`; no temp file, the clips kept; "
      "a rerun joins the reel")
@pytest.mark.parametrize("output, needles, problem", [
    ("clips", ("libx264", "talk_01_laughter_applause"), "cannot cut talk_01_laughter_applause.mp4"),
    ("reel", ("filter_complex", ".talk.reel."), "cannot join the reel")], ids=["cut", "reel"])
def test_ffmpeg_killed_mid_cut(analysed, output, needles, problem):
    work = analysed.parent
    before = state(work)
    run = start("export", analysed, "--export", output, "-q")
    killed = kill_when(run, lambda: find_ffmpeg(run, *needles))
    _, err = run.communicate(timeout=600)

    assert killed, f"no {output} ffmpeg was caught"
    assert run.returncode == 1
    one_error(err, rf"{work / 'talk.mp4'}: {problem}: ffmpeg was stopped by SIGKILL$")
    assert leftovers(work) == [] and {k: v for k, v in state(work).items() if k in before} == before
    assert json.loads((work / "talk.clips.json").read_text())["status"] == "incomplete"
    assert not (work / "talk.reel.mp4").exists()

    again = mediatagger("export", analysed, "--export", output, "-q")
    assert again.returncode == 0, again.stderr
    assert json.loads((work / "talk.clips.json").read_text())["status"] == "complete"
    assert (work / "clips" / "talk_01_laughter_applause.mp4").exists() and leftovers(work) == []
    assert (work / "talk.reel.mp4").exists() == (output == "reel")


@case("Killed processes", "ffmpeg is killed in the middle of a burn",
      "exit 1, `<source>: cannot burn <subs> into <output>: ffmpeg was stopped by SIGKILL`; no output, no temp file")
def test_ffmpeg_killed_mid_burn(analysed):
    work = analysed.parent
    before = state(work)
    run = start("burn", work / "talk.mp4", "--analysis", analysed, "-o", work / "talk.burned.mp4", "-q")
    killed = kill_when(run, lambda: find_ffmpeg(run, "subtitles", ".talk.burned."))
    _, err = run.communicate(timeout=600)

    assert killed, "no burn was caught"
    assert run.returncode == 1
    one_error(err, rf"{work / 'talk.mp4'}: cannot burn talk.ass into talk.burned.mp4: ffmpeg was stopped by SIGKILL$")
    assert state(work) == before


@pytest.mark.slow
@case("Killed processes", "the worker process holding the model is killed (local --jobs)",
      "the file it held is tried once more on a new worker; killed again: `<input>: its worker process died "
      "while tagging it (killed by SIGKILL), 2 times; ...`, the journal says failed, the other files are done, "
      "exit 1")
def test_a_worker_killed_twice_fails_its_file_and_the_batch_goes_on(tiny_model, tmp_path):
    folder = tmp_path / "in"
    long = silent_wav(folder / "long.wav", LONG_S)   # the largest: handed out first
    for name in ("a", "b"):
        short_take(folder / f"{name}.mp4", 3)
    inputs, out = state(folder), tmp_path / "out"
    run = start("tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out,
                "--jobs", "2", "--threads", "1")

    def worker_extracting_long():
        # An ffmpeg whose worker was just killed is orphaned before it ends: its parent is then init or
        # the batch itself, never a worker, so only a parent still below the batch counts.
        found = find_ffmpeg(run, "pcm_f32le", "long.wav")
        parent = parent_of(found) if found else None
        return parent if parent != run.pid and parent in descendants(run.pid) else None

    killed = kill_when(run, worker_extracting_long, times=2)
    _, err = run.communicate(timeout=900)

    assert len(killed) == 2, err
    assert run.returncode == 1, err
    one_error(err, rf"^mediatagger: error: {long}: its worker process died while tagging it \(killed by SIGKILL\), "
                   "2 times")
    assert err.splitlines()[-1] == "mediatagger: 2 done, 1 failed, 0 skipped"
    assert last_states(out) == {"in/long.wav": "failed", "in/a.mp4": "done", "in/b.mp4": "done"}
    assert all((out / f"{n}.srt").exists() for n in "ab") and not (out / "long.analysis.json").exists()
    assert leftovers(out) == [] and state(folder) == inputs
