"""The disk fills: a file size limit (RLIMIT_FSIZE, inherited by ffmpeg) stands in for a full disk
while clips are cut, a video is burned, an analysis is written and the batch journal is appended to.
Each ends in one error line, leaves no temp file and nothing of before changed, and a rerun with
space finishes the job."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import TALK, ffprobe_exe
from tests.faults.conftest import leftovers, limited, mediatagger, one_error, short_take, state
from tests.reliability import case

FULL = r"SIGXFSZ|File too large|No space left"


@pytest.mark.slow
@case("Disk and folders", "the disk fills while clips are cut",
      "exit 1, `<source>: cannot cut <clip>: ffmpeg was stopped by SIGXFSZ`; no temp file, the plan marked "
      "incomplete, earlier outputs intact; a rerun cuts the clips")
def test_the_disk_fills_while_clips_are_cut(analysed):
    work = analysed.parent
    assert mediatagger("export", analysed, "--export", "srt", "-q").returncode == 0
    before = state(work)

    full = mediatagger("export", analysed, "--export", "clips", "-q", preexec=limited(300_000))

    assert full.returncode == 1
    one_error(full.stderr, "talk.mp4: cannot cut talk_01_laughter_applause.mp4: ", FULL)
    assert leftovers(work) == []
    assert {k: v for k, v in state(work).items() if k in before} == before
    assert not (work / "clips" / "talk_01_laughter_applause.mp4").exists()
    assert json.loads((work / "talk.clips.json").read_text())["status"] == "incomplete"

    again = mediatagger("export", analysed, "--export", "clips", "-q")
    assert again.returncode == 0, again.stderr
    assert (work / "clips" / "talk_01_laughter_applause.mp4").stat().st_size > 300_000
    assert json.loads((work / "talk.clips.json").read_text())["status"] == "complete"
    assert {k: v for k, v in state(work).items() if k in before} == before


@pytest.mark.slow
@case("Disk and folders", "the disk fills while a video is burned",
      "exit 1, `<source>: cannot burn <subs> into <output>: ffmpeg was stopped by SIGXFSZ`; no temp file, the "
      "video it was to replace intact; a rerun burns it")
def test_the_disk_fills_while_a_video_is_burned(analysed):
    work = analysed.parent
    target = work / "talk.burned.mp4"
    target.write_bytes(b"an earlier burn, kept until a new one is whole")
    before = state(work)

    full = mediatagger("burn", work / "talk.mp4", "--analysis", analysed, "-o", target, "--force", "-q",
                       preexec=limited(300_000))

    assert full.returncode == 1
    one_error(full.stderr, "talk.mp4: cannot burn talk.ass into talk.burned.mp4: ", FULL)
    assert state(work) == before

    again = mediatagger("burn", work / "talk.mp4", "--analysis", analysed, "-o", target, "--force", "-q")
    assert again.returncode == 0, again.stderr
    assert leftovers(work) == []
    duration = subprocess.run([ffprobe_exe(), "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                               target], capture_output=True, text=True, check=True).stdout
    assert abs(float(duration) - 20.0) < 0.2


@pytest.mark.slow
@case("Disk and folders", "the disk fills while the analysis is written",
      "exit 1, `<out>/<stem>.analysis.json: cannot be written: File too large`; no temp file, no other output "
      "of the input, earlier outputs intact; a rerun writes them all")
def test_the_disk_fills_while_the_analysis_is_written(tiny_model, tmp_path):
    take = short_take(tmp_path / "in" / "take.mp4")
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nfrom an earlier run\n")
    inputs, before = state(take.parent), state(out)

    full = mediatagger("tag", take, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out,
                       "-q", preexec=limited(3500))

    assert full.returncode == 1
    one_error(full.stderr, rf"{out / 'take.analysis.json'}: cannot be written: ", FULL)
    assert state(out) == before and state(take.parent) == inputs

    again = mediatagger("tag", take, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out,
                        "-q")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "take.analysis.json").read_text())["tracks"]
    assert (out / "take.srt").exists() and leftovers(out) == []
    assert {k: v for k, v in state(out).items() if k in before} == before


@pytest.mark.slow
@case("Disk and folders", "the disk fills while the batch journal is written",
      "exit 1, `<out>/mediatagger.journal.jsonl: cannot be written: File too large`; the journal as it was "
      "(whole lines, the torn write cut back off), earlier outputs intact; a rerun finishes the batch")
def test_the_disk_fills_while_the_journal_is_written(tagged, tiny_model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(TALK, folder / "talk.mp4")
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(tagged["talk"], out / "talk.analysis.json")  # an earlier run got this far
    journal = out / "mediatagger.journal.jsonl"
    limit, lines = 64 * 1024, []
    while len("".join(lines)) < limit - 300:   # earlier batches' lines, up to just under the limit
        lines.append(json.dumps({"input": f"old/take{len(lines)}.mp4", "status": "done", "seconds": 1.0}) + "\n")
    text = "".join(lines)
    journal.write_text(text + json.dumps({"input": "old/last.mp4", "status": "done"}).ljust(limit - len(text) - 41)
                       + "\n")
    assert limit - 60 < journal.stat().st_size < limit  # the next line is cut short by the limit
    inputs, before, earlier = state(folder), state(out), journal.read_bytes()

    full = mediatagger("tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out,
                       "-q", preexec=limited(limit))

    assert full.returncode == 1
    one_error(full.stderr, rf"{journal}: cannot be written: ", FULL)
    assert state(out) == before and state(folder) == inputs

    again = mediatagger("tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out,
                        "-q")
    assert again.returncode == 0, again.stderr
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert journal.read_bytes().startswith(earlier)
    assert entries[-1]["input"] == "in/talk.mp4" and entries[-1]["status"] == "done"
    assert (out / "talk.srt").exists() and leftovers(out) == []
    assert state(out)["talk.analysis.json"] == before["talk.analysis.json"]

