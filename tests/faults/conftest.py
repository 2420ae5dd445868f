"""The faults a long batch meets, made for real: a file size limit as a full disk, folders without
write permission, ffmpeg and workers killed from outside, broken model folders.

Helpers: ``mediatagger(...)`` runs the CLI in a subprocess (optionally under ``RLIMIT_FSIZE`` or without
root's power to ignore permissions), ``state(folder)`` fingerprints every file in a folder, ``one_error``
checks stderr for one clean error line, and ``kill_when`` SIGKILLs a process of the run when it appears.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DATA, TALK, ffmpeg

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def limited(size: int) -> Callable[[], None]:
    """For ``preexec_fn``: files of this process and its children (ffmpeg) stop growing at ``size``
    bytes, as on a full disk; SIGXFSZ ignored so Python sees the write fail (EFBIG)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def as_user() -> None:
    """For ``preexec_fn``: root without the capabilities that let it write where permissions say no."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


def command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "mediatagger", *map(str, args)]


def mediatagger(*args: str | Path, preexec: Callable[[], None] | None = None,
                timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), capture_output=True, text=True, preexec_fn=preexec, timeout=timeout)


def state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too): its path inside it -> the SHA-256 of its bytes."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temp files (``.<stem>.*.part.*``) and locks a run left in ``folder``."""
    return [name for name in state(folder) if ".part" in name or name.endswith(".lock")]


def one_error(stderr: str, *expected: str) -> str:
    """The single ``mediatagger: error:`` line of a run, checked to hold each of ``expected`` (regexes),
    with no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("mediatagger: error: ")]
    assert len(lines) == 1, stderr
    for pattern in expected:
        assert re.search(pattern, lines[0]), (pattern, lines[0])
    return lines[0]


def journal_lines(out: Path) -> list[dict]:
    """Every line of the batch journal, each parsed (a line that is not JSON fails the test)."""
    text = (out / "mediatagger.journal.jsonl").read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def last_states(out: Path) -> dict[str, str]:
    return {entry["input"]: entry["status"] for entry in journal_lines(out)}


# --- processes of a run ----------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return []


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def find_ffmpeg(run: subprocess.Popen | None, *needles: str) -> int | None:
    """An ffmpeg below ``run`` (None: anywhere on this machine) whose arguments hold every one of ``needles``."""
    pids = descendants(run.pid) if run is not None else [int(e) for e in os.listdir("/proc") if e.isdigit()]
    for pid in pids:
        args = cmdline(pid)
        if args and "ffmpeg" in Path(args[0]).name and all(any(n in a for a in args) for n in needles):
            return pid
    return None


def kill_when(run: subprocess.Popen, pick: Callable[[], int | None], times: int = 1,
              limit_s: float = 300) -> list[int]:
    """SIGKILL the process ``pick`` names each time it names a new one, ``times`` times, while ``run``
    lives; the pids killed."""
    killed: list[int] = []
    end = time.monotonic() + limit_s
    while run.poll() is None and len(killed) < times and time.monotonic() < end:
        pid = pick()
        if pid is not None and pid not in killed:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.005)
    return killed


def start(*args: str | Path) -> subprocess.Popen:
    return subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- inputs ----------------------------------------------------------------------------------------

def short_take(path: Path, seconds: int = 4) -> Path:
    """The first seconds of samples/talk.mp4, looped past its 20 s (stream copy): quick to tag."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg("-stream_loop", "-1", "-i", TALK, "-t", str(seconds), "-c", "copy", path)
    return path


def silent_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A mono 16-bit WAV of digital silence, written sparse (instant, even for an hour)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = int(seconds * rate) * 2
    header = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + \
        struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", size)
    with open(path, "wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + size)
    return path


@pytest.fixture
def analysed(tmp_path) -> Path:
    """A copy of samples/talk.mp4 and the hand-written analysis of it (tests/data), as
    ``tmp/work/talk.analysis.json``: clips, reels and burns without the model."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(TALK, work / "talk.mp4")
    doc = json.loads((DATA / "talk.analysis.json").read_text())
    doc["source"]["path"] = str(work / "talk.mp4")
    (work / "talk.analysis.json").write_text(json.dumps(doc, indent=1))
    return work / "talk.analysis.json"
