"""A batch on a real local Ray cluster (started here, two CPUs): the same outputs as a local run, and
a worker killed in the middle of a file costs that file a retry, not the batch."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from mediatagger import batch
from tests.conftest import TALK, run_cli

pytest.importorskip("ray", reason="Ray tests need Ray: pip install 'mediatagger[ray]'")
pytestmark = pytest.mark.slow


def inputs(root, count: int):
    folder = root / "in"
    folder.mkdir()
    for n in range(count):
        shutil.copy(TALK, folder / f"take{n}.mp4")
    return folder


def test_a_ray_batch_writes_what_a_local_batch_writes(cluster, tiny_model, tmp_path):
    folder = inputs(tmp_path, 3)
    common = ["tag", folder, "--model", tiny_model, "--vad", "silero", "--export", "json,edl", "-q", "--threads", "1"]
    local, remote = run_cli(*common, "-o", tmp_path / "local"), run_cli(*common, "-o", tmp_path / "ray",
                                                                          "--ray", cluster)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert remote.stderr.splitlines()[-1] == "mediatagger: 3 done, 0 failed, 0 skipped"
    for n in range(3):
        for suffix in (".edl", ".analysis.json"):
            ours = (tmp_path / "ray" / f"take{n}{suffix}").read_text()
            assert ours == (tmp_path / "local" / f"take{n}{suffix}").read_text()


def test_a_worker_killed_mid_file_costs_a_retry_not_the_batch(cluster, tiny_model, tmp_path):
    folder = inputs(tmp_path, 6)
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "mediatagger", "tag", folder, "--model", tiny_model, "--vad",
                            "silero", "--export", "json", "-o", out, "-q", "--ray", cluster],
                           stderr=subprocess.PIPE, text=True)
    killed = None
    while run.poll() is None and killed is None:
        found = subprocess.run(["pgrep", "-f", "ray::RayWorker.run"], capture_output=True, text=True).stdout.split()
        if found:
            killed = int(found[0])
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    _, err = run.communicate(timeout=600)
    assert killed, "no worker was caught in the middle of a file"
    assert run.returncode == 0 and err.splitlines()[-1] == "mediatagger: 6 done, 0 failed, 0 skipped", err
    journal = batch.Journal(out)
    assert all(journal.state(i) == "done" for i in batch.discover([folder], out))
