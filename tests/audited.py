"""The command line run for real with every file it touches written down: what did a run read and write?

``run(sandbox, *args)`` runs ``python -m mediatagger ARGS`` in a fresh interpreter with a Python audit hook
(PEP 578) installed before mediatagger is imported. The hook logs each file opened (and whether for
writing), each folder listed, each file renamed, removed or made, and each program started (ffmpeg) with
its arguments. Its temp folder is ``sandbox/tmp``, and it writes no bytecode, so a run that keeps to its
inputs and its ``-o`` folder touches nothing else in the sandbox and writes nothing outside it.

What the hook cannot see: files a C library opens by itself (lxml, onnxruntime) and what ffmpeg opens;
ffmpeg's files are its arguments, which are checked instead.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# where a run may read outside its inputs: the interpreter, the packages, this repository (its samples/model),
# and the system's own files (shared libraries, time zones, /proc)
LIBRARIES = [Path(sys.prefix), Path(sys.base_prefix), REPO, *map(Path, ("/usr", "/lib", "/lib64", "/etc", "/proc",
                                                                        "/sys", "/dev"))]
HOOK = r"""
import json, os, sys
_log = open(os.environ["MEDIATAGGER_AUDIT_LOG"], "a", encoding="utf-8", buffering=1)
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_MUTATE = {"os.rename": "write", "os.replace": "write", "os.remove": "write", "os.unlink": "write",
           "os.mkdir": "write", "os.rmdir": "write", "os.link": "write", "os.symlink": "write",
           "os.truncate": "write", "shutil.copyfile": "write", "shutil.rmtree": "write",
           "os.listdir": "read", "os.scandir": "read"}

def _path(value):
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    return os.path.abspath(value) if isinstance(value, str) else None

def _hook(event, args):
    if event == "open":
        path, mode, flags = args
        writing = bool(flags & _WRITE) if isinstance(flags, int) else any(c in (mode or "") for c in "wax+")
        entry = {"kind": "write" if writing else "read", "path": _path(path)}
    elif event in _MUTATE:
        entry = {"kind": _MUTATE[event], "path": _path(args[0] if args else None), "event": event}
        if event in ("os.rename", "os.replace", "os.link", "os.symlink", "shutil.copyfile"):
            entry["to"] = _path(args[1])
    elif event == "subprocess.Popen":
        entry = {"kind": "run", "args": [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args[1]]}
    else:
        return
    if entry.get("path") or entry["kind"] == "run":
        _log.write(json.dumps(entry) + "\n")

sys.addaudithook(_hook)
sys.argv = ["mediatagger", *sys.argv[1:]]
import runpy
runpy.run_module("mediatagger", run_name="__main__", alter_sys=True)
"""


@dataclass
class Run:
    """A finished run: its exit code, its stderr and what it touched."""

    returncode: int
    stdout: str
    stderr: str
    entries: list[dict] = field(default_factory=list)

    def paths(self, kind: str) -> set[Path]:
        out = {Path(e["path"]) for e in self.entries if e["kind"] == kind and e.get("path")}
        return out | {Path(e["to"]) for e in self.entries if kind == "write" and e.get("to")}

    @property
    def programs(self) -> list[list[str]]:
        return [e["args"] for e in self.entries if e["kind"] == "run"]


def run(sandbox: Path, *args: str | Path, cwd: Path | None = None, timeout: float = 600) -> Run:
    """``mediatagger ARGS`` run in ``cwd`` (default: ``sandbox``) with its temp folder ``sandbox/tmp``."""
    log, tmp = sandbox / "audit.log", sandbox / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "MEDIATAGGER_AUDIT_LOG": str(log), "TMPDIR": str(tmp)}
    done = subprocess.run([sys.executable, "-I", "-B", "-c", HOOK, *map(str, args)], capture_output=True, text=True,
                          errors="backslashreplace", cwd=cwd or sandbox, env=env, timeout=timeout)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    log.unlink(missing_ok=True)
    return Run(done.returncode, done.stdout, done.stderr, entries)


def within(path: Path, folders: list[Path]) -> bool:
    """``path`` is one of ``folders`` or inside one (both as the file system resolves them)."""
    resolved = os.path.realpath(path)
    return any(resolved == f or resolved.startswith(f.rstrip(os.sep) + os.sep) for f in map(_real, folders))


@functools.cache
def _real(folder: Path) -> str:
    return os.path.realpath(folder)


def assert_confined(done: Run, sandbox: Path, inputs: list[Path], out: Path) -> None:
    """Nothing written outside ``out`` (and the run's temp folder, left empty); nothing read but the inputs,
    ``out`` and the program's own files (``LIBRARIES``); every file ffmpeg was given one of those."""
    tmp = sandbox / "tmp"
    allowed = [out, tmp, *inputs]
    stray_writes = sorted(str(p) for p in done.paths("write") if not within(p, [out, tmp]) and str(p) != os.devnull)
    assert not stray_writes, f"written outside {out}: {stray_writes}"
    stray_reads = sorted(str(p) for p in done.paths("read") if not within(p, allowed)
                         and (within(p, [sandbox]) or not within(p, LIBRARIES)))
    assert not stray_reads, f"read beyond the inputs, {out} and the program's own files: {stray_reads}"
    for args in done.programs:
        named = [Path(a.removeprefix("file:")) for a in args[1:] if a.startswith(("/", "file:/"))]
        stray = [str(p) for p in named if not within(p, allowed)]
        assert not stray, f"{Path(args[0]).name} was given files beyond the inputs and {out}: {stray}"
    assert not list(tmp.iterdir()), f"left in the temp folder: {list(tmp.iterdir())}"
