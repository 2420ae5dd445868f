"""Folders that will not take outputs (read-only, removed in the middle of a batch) and inputs that
change or vanish while they are tagged."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from tests.faults.conftest import (
    as_user,
    journal_lines,
    last_states,
    leftovers,
    mediatagger,
    one_error,
    short_take,
    start,
    state,
)
from tests.reliability import case


@pytest.fixture
def read_only(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nfrom an earlier run\n")
    out.chmod(0o555)
    yield out
    out.chmod(0o755)


@case("Disk and folders", "the output folder is read-only (one file)",
      "exit 1, `<out>: cannot be written: Permission denied` before the model loads; nothing changed")
@case("Disk and folders", "the output folder is read-only (a batch)",
      "exit 1, `<out>/mediatagger.journal.jsonl: cannot be written: Permission denied` before anything is "
      "tagged; nothing changed")
@pytest.mark.parametrize("batch", [False, True], ids=["one file", "batch"])
def test_a_read_only_output_folder_is_refused_before_any_work(tiny_model, tmp_path, read_only, batch):
    take = short_take(tmp_path / "in" / "take.mp4", 2)
    inputs, before = state(take.parent), state(read_only)

    began = time.monotonic()
    done = mediatagger("tag", take.parent if batch else take, "--model", tiny_model, "--vad", "silero",
                       "-o", read_only, "-q", preexec=as_user)

    assert done.returncode == 1
    where = read_only / "mediatagger.journal.jsonl" if batch else read_only
    one_error(done.stderr, rf"{where}: cannot be written: Permission denied")
    assert state(read_only) == before and state(take.parent) == inputs
    assert time.monotonic() - began < 10  # refused before the model was loaded


def wait_for(check, limit_s: float = 300, run=None) -> None:
    end = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < end, "timed out"
        assert run is None or run.poll() is None, run.communicate()
        time.sleep(0.01)


@pytest.mark.slow
@case("Disk and folders", "the output folder is removed in the middle of a batch",
      "exit 1, `<out>: the output folder was removed or replaced while the batch ran ...` at the next journal "
      "line; no temp file; a rerun redoes what was lost and finishes the batch")
def test_an_output_folder_removed_mid_batch_stops_it_and_a_rerun_finishes(tiny_model, tmp_path):
    folder = tmp_path / "in"
    for name, seconds in (("a", 3), ("b", 20), ("c", 3)):  # b is tagged long enough for the folder to go
        short_take(folder / f"{name}.mp4", seconds)
    inputs, out = state(folder), tmp_path / "out"
    run = start("tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out, "-q")
    journal = out / "mediatagger.journal.jsonl"
    wait_for(lambda: journal.exists() and '"done"' in journal.read_text(), run=run)
    shutil.rmtree(out)
    _, err = run.communicate(timeout=600)

    assert run.returncode == 1
    one_error(err, rf"{out}: the output folder was removed or replaced while the batch ran")
    assert leftovers(out) == [] and state(folder) == inputs

    again = mediatagger("tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out,
                        "-q")
    assert again.returncode == 0, again.stderr
    assert last_states(out) == {f"in/{n}.mp4": "done" for n in "abc"}
    assert all((out / f"{n}.analysis.json").exists() and (out / f"{n}.srt").exists() for n in "abc")
    assert leftovers(out) == []


@pytest.mark.slow
@case("Disk and folders", "an input changes while it is tagged",
      "its line in the batch: `<input>: changed while it was being tagged; nothing was written (tag it again)`; "
      "no output of it, the batch goes on, exit 1")
@case("Disk and folders", "an input disappears while it is tagged",
      "its line in the batch: `<input>: disappeared while it was being tagged; nothing was written`; no output "
      "of it, the batch goes on, exit 1")
def test_an_input_that_changes_or_goes_while_tagged_writes_nothing(tiny_model, tmp_path):
    folder = tmp_path / "in"
    changed, gone = short_take(folder / "changed.mp4", 3), short_take(folder / "gone.mp4", 90)  # still tagged 0.5 s on
    out = tmp_path / "out"
    run = start("tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out, "-q")
    # inside the output lock the content key is taken at once; then the model loads and the file is read
    wait_for(lambda: (out / ".changed.lock").exists(), run=run)
    time.sleep(0.5)
    with open(changed, "ab") as fh:
        fh.write(b"\0" * 4096)
    wait_for(lambda: (out / ".gone.lock").exists(), run=run)
    time.sleep(0.5)
    os.unlink(gone)
    _, err = run.communicate(timeout=600)

    assert run.returncode == 1, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("mediatagger: error: ")]
    assert errors == [f"mediatagger: error: {changed}: changed while it was being tagged; nothing was written "
                      "(tag it again)",
                      f"mediatagger: error: {gone}: disappeared while it was being tagged; nothing was written"], err
    assert last_states(out) == {"in/changed.mp4": "failed", "in/gone.mp4": "failed"}
    assert [e for e in journal_lines(out) if e["status"] == "failed"][0]["error"].startswith(str(changed))
    assert sorted(state(out)) == ["mediatagger.journal.jsonl", "summary.csv", "summary.html"]
