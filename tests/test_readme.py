"""The README's Quick start, run as a new user runs it: its set-up is two commands, `.ci/run` runs
exactly those, and the commands after them work on a fresh folder and again after themselves."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import textwrap

from mediatagger import presets
from tests.conftest import REPO
from tests.test_audioset import installed

README = (REPO / "README.md").read_text(encoding="utf-8")


def quick_start() -> list[list[str]]:
    """The bash blocks of the Quick start, each a list of its command lines."""
    section = README[README.index("## Quick start"):README.index("\n## ", README.index("## Quick start") + 3)]
    return [[line for line in block.strip().splitlines() if line and not line.startswith("#")]
            for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_the_set_up_is_two_commands_and_ci_runs_them():
    set_up = quick_start()[0]
    assert len(set_up) == 2 and set_up[1] == 'python -m pytest -m "not slow"'
    ci = (REPO / ".ci" / "run").read_text()
    install = set_up[0].replace('".[test]"', '".[test,blender]"')  # CI adds Blender's extra, nothing else
    assert install in ci and f"\n{set_up[1]}\n" in ci and "\npython -m pytest -m slow\n" in ci


def test_the_quick_start_commands_work_and_work_again(tmp_path):
    """Every mediatagger command of the Quick start, in its order, from a folder holding the samples;
    each run a second time at once keeps what is the same and says so (exit 0, nothing written)."""
    (tmp_path / "samples").symlink_to(REPO / "samples")
    commands = [shlex.split(line) for block in quick_start()[1:] for line in block]
    commands = [c for c in commands if c[0] == "mediatagger" and ("audioset" not in c or installed())]
    assert len(commands) >= 4
    for command in commands:
        for round_ in ("first", "again"):
            done = subprocess.run([sys.executable, "-m", "mediatagger", *command[1:]], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0 and "Traceback" not in done.stderr, (round_, command, done.stderr)
            if round_ == "again":
                assert done.stdout == "" and done.stderr and all(
                    line.startswith("unchanged: ") for line in done.stderr.splitlines()), (command, done.stderr)
    assert (tmp_path / "out" / "talk.subtitled.mp4").exists() and (tmp_path / "out" / "talk.reel.mp4").exists()


def test_every_preset_in_the_readme_loads(tmp_path):
    """The README's YAML blocks are presets a reader may copy: each loads, as written."""
    blocks = [textwrap.dedent(b) for b in re.findall(r"```yaml\n(.*?)```", README, re.S)]
    assert blocks
    for k, block in enumerate(blocks):
        path = tmp_path / f"readme{k}.yaml"
        path.write_text(block, encoding="utf-8")
        presets.load(str(path))
