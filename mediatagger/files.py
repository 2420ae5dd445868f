"""Write outputs whole or not at all, with the mode a plain ``open()`` gives, one writer at a time.

``atomic_path`` hands out a temp file beside the target and renames it on success; ``OutputLock``
is an advisory lock per output stem (``flock``: the kernel drops it when its holder dies, so a
crashed run never blocks the next).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mediatagger.errors import OutputBusyError, OutputError

_UMASK_LOCK = threading.Lock()


@dataclass(frozen=True)
class Written:
    """An output of a run: written now, or ``kept`` (it was there and would have come out the same);
    ``replaced``: written over a file an earlier, different job made; ``removed``: an earlier job's
    file this run deleted (its clips that this job does not cut again)."""

    path: Path
    kept: bool = False
    replaced: bool = False
    removed: bool = False
    note: str = ""      # what a user should know of it (a vertical clip with a shot where no face was found)


def umask() -> int:
    """The process's umask, read without changing it where Linux tells it (else set and restored)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:
        current = os.umask(0o022)
        os.umask(current)
    return current


def part_name(target: Path) -> str:
    """The prefix of ``target``'s temp files: ``.<stem>.`` (then a random part and ``.part<suffix>``)."""
    return f".{target.stem}."


_HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} if hasattr(signal, "SIGHUP") else {signal.SIGINT}


_HOLDING: list[int] = [0]     # depth of hold_signals in the main thread
_PENDING: list[int] = []      # signals that came while held, for release_signals to raise


def hold_signals() -> set[int | signal.Signals] | None:
    """Hold SIGINT, SIGTERM and SIGHUP for a step that must not be cut in two (start a process, create a
    temp file) before its cleanup is in place; returns what ``release_signals`` restores. They are blocked
    in this thread, and, as the kernel may hand a signal to another thread and Python then runs its
    handler here anyway, the command line's handlers defer to ``deferred`` while anything is held."""
    if threading.current_thread() is threading.main_thread():
        _HOLDING[0] += 1
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)


def deferred(signum: int) -> bool:
    """Called by a signal handler: True (and the signal kept for ``release_signals``) while signals are held."""
    if _HOLDING[0] > 0:
        _PENDING.append(signum)
        return True
    return False


def release_signals(previous: set[int | signal.Signals] | None) -> None:
    """Unhold what ``hold_signals`` held: a signal that came meanwhile is raised now."""
    if threading.current_thread() is threading.main_thread():
        _HOLDING[0] = max(0, _HOLDING[0] - 1)
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if _HOLDING[0] == 0 and _PENDING:
        signum = _PENDING.pop(0)
        _PENDING.clear()
        handler = signal.getsignal(signum)
        if callable(handler):
            handler(signum, None)
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path in ``target``'s folder (same suffix); it becomes ``target`` on success.

    The temp file is removed whatever ends the block (an error, Ctrl-C, SIGTERM): the mode is worked
    out before the file exists, and everything after its creation runs under the cleanup. A write that
    fails (a full disk, a read-only or vanished folder) is an ``OutputError`` naming ``target``."""
    with unwritable(target):
        target.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o666 & ~umask()
    held = hold_signals()  # a signal between the file's creation and the cleanup below would leave it behind
    try:
        with unwritable(target):
            fd, tmp = tempfile.mkstemp(prefix=part_name(target), suffix=f".part{target.suffix}", dir=target.parent)
    except BaseException:
        release_signals(held)
        raise
    try:
        release_signals(held)  # one that came meanwhile is raised here, under the cleanup
        with unwritable(target):
            try:
                if hasattr(os, "fchmod"):  # mkstemp makes 0600; the rename keeps the temp file's mode
                    os.fchmod(fd, mode)
            finally:
                os.close(fd)
            yield Path(tmp)
            os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def unwritable(target: Path) -> Iterator[None]:
    """An OSError in the block (no space, no permission, the folder gone) as an ``OutputError`` on ``target``."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and os.path.dirname(os.path.abspath(exc.filename)) not in (
                os.path.abspath(target), os.path.dirname(os.path.abspath(target))):
            raise  # another file's error (a source read while writing): not this output's
        raise OutputError(target, f"cannot be written: {exc.strerror or exc}") from None


def append_line(path: Path, line: str, expect: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """``line`` and a newline appended to ``path`` in one write and synced, or not at all: a write cut
    short (a full disk) is cut back off, so the file keeps only whole lines; a torn last line that a
    crash left is ended first, so it never swallows this one. Returns the file's (device, inode); with
    ``expect`` (what it returned before) the line goes only to that very file, and None says it is gone
    or another file now (nothing written)."""
    with unwritable(path):
        if expect is None:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | (0 if expect else os.O_CREAT), 0o666)
        except FileNotFoundError:
            if expect is None:
                raise
            return None
        try:
            info = os.fstat(fd)
            if expect is not None and (info.st_dev, info.st_ino) != expect:
                return None
            _append(fd, line.encode("utf-8", "surrogateescape") + b"\n")
            return info.st_dev, info.st_ino
        finally:
            os.close(fd)


def _append(fd: int, data: bytes) -> None:
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        data = b"\n" + data
    rest = memoryview(data)
    try:
        while rest:  # a short write is followed by one that says why (no space, too large)
            done = os.write(fd, rest)
            if not done:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            rest = rest[done:]
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise


def stale_parts(target: Path) -> list[Path]:
    """Temp files a killed run left for ``target``."""
    folder = target.parent
    if not folder.is_dir():
        return []
    prefix, suffix = part_name(target), f".part{target.suffix}"
    return sorted(p for p in folder.iterdir() if p.name.startswith(prefix) and p.name.endswith(suffix)
                  and "." not in p.name[len(prefix):-len(suffix)])


_UNDECODED = re.compile("[\udc80-\udcff]")  # a name's bytes that are not UTF-8 (os.fsdecode's surrogateescape)


def as_text(text: str) -> str:
    """Text as we write it: a file name's bytes that are not UTF-8 (a Latin-1 ``caf\\xe9.mp4``) shown as
    U+FFFD, so every output is valid UTF-8; JSON keeps the exact bytes with ``json_text``."""
    return _UNDECODED.sub("\ufffd", text)


def json_text(text: str) -> str:
    """JSON text with a name's undecodable bytes as ``\\udcXX`` escapes: valid UTF-8, and Python reads
    back the very path (``os.fsencode`` gives the original bytes)."""
    return _UNDECODED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


MAX_STEM_BYTES = 160  # what the longest output name adds (".part" temp names, clip labels) fits in 255 bytes


def output_stem(source: Path | str) -> str:
    """The stem every output of ``source`` is named from: its own, or, when that is too long for a file
    name once suffixed, its first bytes and a short hash of the whole (so two long names stay apart)."""
    stem = Path(source).stem
    raw = os.fsencode(stem)
    if len(raw) <= MAX_STEM_BYTES:
        return stem
    digest = hashlib.sha256(raw).hexdigest()[:8]
    head = raw[:MAX_STEM_BYTES - 9]
    while head and (head[-1] & 0xC0) == 0x80:  # never split a UTF-8 character
        head = head[:-1]
    if head and head[-1] >= 0xC0:
        head = head[:-1]
    return os.fsdecode(head) + "~" + digest


def write_text(target: Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(as_text(text), encoding="utf-8", newline="\n")
    return target


def read_text(path: Path) -> str | None:
    """A text output exactly as it stands (line ends untranslated), or None when it is missing or not text."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


class OutputLock:
    """``OUT/.<stem>.lock``, held while a run writes that stem's outputs.

    A second run refuses at once (``OutputBusyError``) rather than interleave its files with the
    first's. The file is removed on release; a run that finds the file replaced after locking it
    locks again, so removal never lets two holders in.
    """

    def __init__(self, out_dir: Path, stem: str):
        self.path = out_dir / f".{stem}.lock"
        self.fd: int | None = None
        self.made: list[Path] = []  # folders the lock made, removed again if the run leaves them empty

    def __enter__(self) -> OutputLock:
        self.made = [p for p in [self.path.parent, *self.path.parent.parents] if not p.exists()]
        while self.fd is None:
            with unwritable(self.path.parent):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:  # another run may remove the folder it made between our mkdir and open: then again
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise OutputError(self.path.parent, f"cannot be written: {exc.strerror or exc}") from None
            try:
                _lock(fd)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                raise OutputBusyError(self.path.parent / self.path.name[1:-5], holder) from None
            if _same_file(fd, self.path):
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
                self.fd = fd
            else:
                os.close(fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            os.close(self.fd)
            self.fd = None
        for folder in self.made:
            with contextlib.suppress(OSError):
                folder.rmdir()


def _lock(fd: int) -> None:
    """An exclusive lock on ``fd`` that the kernel drops when the process dies; BlockingIOError if held."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            raise BlockingIOError from None
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
