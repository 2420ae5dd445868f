"""A batch three ways, side by side: one process, --jobs 2, and a local Ray cluster with 2 workers.

    python bench/batch.py [--files 20] [--model samples/model]

Copies samples/talk.mp4 (20 s) into FILES inputs and tags them with `mediatagger tag DIR` in each mode
(fsmn-vad, json + edl), then prints each mode's wall time, files per minute and the share of it that
loading the models takes (one cold load, timed on its own in a fresh process: every worker pays it
once, in parallel). The Ray head is started before its run and not counted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed_cli(*args: str) -> float:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mediatagger", *args], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    return time.perf_counter() - began


def load_seconds(model: str) -> float:
    code = ("import sys, time; t = time.perf_counter(); import mediatagger\n"
            "mediatagger.Tagger(model=sys.argv[1], vad='fsmn').models(); print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code, model], capture_output=True, text=True, cwd=REPO, check=True)
    return float(done.stdout.split()[-1])


def ray_head(port: int) -> list[str]:
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    subprocess.run([*ray, "start", "--head", "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
                    "--disable-usage-stats"], check=True, capture_output=True,
                   env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    return ray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--model", default=str(REPO / "samples" / "model"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for n in range(args.files):
            shutil.copy(REPO / "samples" / "talk.mp4", folder / f"take{n:02d}.mp4")
        common = ["tag", str(folder), "--model", args.model, "--vad", "fsmn", "--export", "json,edl", "-q"]
        load = load_seconds(args.model)
        rows = [("one process", timed_cli(*common, "-o", f"{tmp}/one")),
                ("--jobs 2", timed_cli(*common, "-o", f"{tmp}/jobs", "--jobs", "2"))]
        ray = ray_head(6390)
        try:
            rows.append(("Ray, 2 workers", timed_cli(*common, "-o", f"{tmp}/ray", "--ray", "127.0.0.1:6390")))
        finally:
            subprocess.run([*ray, "stop", "--force"], capture_output=True)
    print(f"{args.files} inputs of 20 s, model {Path(args.model).name}; one cold model load: {load:.1f} s")
    for name, seconds in rows:
        print(f"  {name:16s} {seconds:6.1f} s  {60 * args.files / seconds:5.1f} files/min  "
              f"{rows[0][1] / seconds:4.2f}x one process  loading {100 * load / seconds:3.0f} % of the time")


if __name__ == "__main__":
    main()
