"""The Ray actor holding the model is killed in the middle of a file: Ray restarts it and the file is
tried once more; killed again, the file is reported failed and the batch finishes. Uses the Ray
cluster of the test session (tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.faults.conftest import (
    cmdline,
    find_ffmpeg,
    kill_when,
    last_states,
    leftovers,
    one_error,
    parent_of,
    short_take,
    silent_wav,
    start,
    state,
)
from tests.reliability import case

pytest.importorskip("ray", reason="Ray tests need Ray: pip install 'mediatagger[ray]'")

pytestmark = pytest.mark.slow


@case("Killed processes", "the worker holding the model is killed (Ray)",
      "Ray restarts the actor and the file is tried once more; killed again: `<input>: its worker process died "
      "while tagging it (its Ray actor was lost), 2 times; ...`, the journal says failed, the other files are "
      "done, exit 1")
def test_a_ray_actor_killed_twice_fails_its_file_and_the_batch_goes_on(cluster, tiny_model, tmp_path):
    folder = tmp_path / "in"
    long = silent_wav(folder / "long.wav", 30 * 60)
    short_take(folder / "a.mp4", 3)
    inputs, out = state(folder), tmp_path / "out"
    run = start("tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,srt", "-o", out, "-q",
                "--ray", cluster)

    def actor_extracting_long():  # an ffmpeg a killed actor left (soon gone) has another parent: never that
        found = find_ffmpeg(None, "pcm_f32le", str(long))
        actor = parent_of(found) if found else None
        return actor if actor and "ray::RayWorker" in " ".join(cmdline(actor)) else None

    killed = kill_when(run, actor_extracting_long, times=2)
    _, err = run.communicate(timeout=900)

    assert len(killed) == 2, err
    assert run.returncode == 1, err
    one_error(err, rf"^mediatagger: error: {long}: its worker process died while tagging it "
                   r"\(its Ray actor was lost\), 2 times")
    assert err.splitlines()[-1] == "mediatagger: 1 done, 1 failed, 0 skipped"
    assert last_states(out) == {"in/long.wav": "failed", "in/a.mp4": "done"}
    assert (out / "a.srt").exists() and not (out / "long.analysis.json").exists()
    assert leftovers(out) == [] and state(folder) == inputs
