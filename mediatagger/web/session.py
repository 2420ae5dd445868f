"""Each visitor's own folder: uploads are copied in under a safe name, outputs are written there, and
the folder goes when the visitor leaves (or, if the page was simply closed, after ``max_age`` s). The root
of all of them goes when the server stops, or, if it was killed, when the next console starts."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

GRADIO = "gradio"  # the root's folder for Gradio's own uploads and cache (GRADIO_TEMP_DIR), not a visitor's
PREFIX = "mediatagger-web-"
OWNER = ".server.pid"  # in a root this server made: the process that removes it at exit
UNSAFE = set('/\\:*?"<>|\x00')
MAX_NAME = 120


def safe_name(name: str, fallback: str = "media") -> str:
    """A file name from what the browser sent: its last path part, no separators, controls or
    characters Windows refuses, never hidden, never ``.``/``..``; spaces, quotes and any script kept."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join("_" if c in UNSAFE or unicodedata.category(c)[0] == "C" else c for c in base).strip(" .")
    stem, dot, suffix = kept.rpartition(".")
    if not dot:
        stem, suffix = kept, ""
    stem = stem[: MAX_NAME - len(suffix) - 1].strip(" .") or fallback
    return f"{stem}.{suffix}" if suffix else stem


class Sessions:
    """The folders of every visitor, under one root this server made (and removes at exit)."""

    def __init__(self, root: Path | None = None, max_age: float = 6 * 3600):
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX)) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_age = max_age
        self.temp_before: str | None = None  # tempfile's folder before ``hold_temp``
        if root is None:
            owner = self.root / f"{OWNER}.tmp"  # whole or not at all: a kill between the two leaves no owner
            owner.write_text(f"{os.getpid()} {_namespace()}")
            owner.replace(self.root / OWNER)
            remove_orphans(self.root.parent)

    def hold_temp(self) -> None:
        """The process's temp files (``tempfile``'s: ffmpeg's stderr, a burn's or a reel's work folder) in
        this root until ``close``: nothing of a visitor's is made outside it, or outlives it if killed.
        (The root itself, not a folder in it: Gradio offers downloads only from under the temp folder.)"""
        self.temp_before = tempfile.tempdir
        tempfile.tempdir = str(self.root)

    def new(self) -> Path:
        folder = self.root / uuid.uuid4().hex
        folder.mkdir()
        return folder

    def owns(self, folder: Path | str | None) -> bool:
        """True for a session folder of this server's (what a visitor's state may name)."""
        if not folder:
            return False
        path = Path(folder).resolve()
        return path.parent == self.root.resolve() and path.is_dir()

    def adopt(self, upload: Path | str, folder: Path, name: str | None = None) -> Path:
        """A copy of an uploaded file in ``folder``, under a safe form of its name; the upload itself
        is left for Gradio to clean."""
        target = folder / "input" / safe_name(name or Path(upload).name)
        target.parent.mkdir(exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(upload, target)  # Gradio's upload is ours too (same root): no second copy of 4 GB
        except OSError:
            shutil.copyfile(upload, target)
        return target

    def drop(self, folder: Path | str | None) -> None:
        if self.owns(folder):
            shutil.rmtree(folder, ignore_errors=True)  # type: ignore[arg-type]

    def sweep(self, now: float | None = None) -> list[Path]:
        """Remove session folders untouched for ``max_age`` seconds (a visitor who closed the tab)."""
        now = time.time() if now is None else now
        old = [p for p in self.root.iterdir() if p.is_dir() and p.name != GRADIO and now - _newest(p) > self.max_age]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
        return old

    def close(self) -> None:
        if tempfile.tempdir == str(self.root):
            tempfile.tempdir = self.temp_before
        shutil.rmtree(self.root, ignore_errors=True)


def _newest(folder: Path) -> float:
    """The latest change in ``folder``; files that vanish while it looks (temp files) do not count."""
    newest = 0.0
    for path in [folder, *folder.rglob("*")]:
        with contextlib.suppress(OSError):
            newest = max(newest, path.stat().st_mtime)
    return newest


def orphans(folder: Path) -> list[Path]:
    """The roots in ``folder`` that a console made and did not remove because it was killed: its process
    is gone. A root without an owner, or made in another PID namespace (a container sharing this
    temp folder), is left alone."""
    found = []
    for root in folder.glob(f"{PREFIX}*"):
        try:
            pid, _, space = (root / OWNER).read_text().partition(" ")
            if space == _namespace() and not _running(int(pid)):
                found.append(root)
        except (OSError, ValueError):
            continue
    return found


def remove_orphans(folder: Path) -> None:
    for root in orphans(folder):
        shutil.rmtree(root, ignore_errors=True)


def _namespace() -> str:
    """This machine and its PID namespace (Linux), where this process's PIDs mean something: two hosts
    sharing a temp folder (NFS) never judge each other's consoles gone."""
    try:
        return f"{socket.gethostname()}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return "-"


def _running(pid: int) -> bool:
    if pid <= 0:
        raise ValueError(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
