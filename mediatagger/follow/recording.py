"""The recording being followed: the file another program writes (standard input and a named pipe are
copied into the output folder as they come, and the copy is followed), read on as it grows, and how to
tell that it has ended: the writer finished the file (a Matroska segment's size written, a fragmented
MP4's ``mfra``, a plain MP4's index), closed it, stopped sending, or it stopped growing."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import IO, BinaryIO

from mediatagger import files, media
from mediatagger.errors import MediaError, OutputExistsError
from mediatagger.media import MediaInfo

POLL_S = 0.2
PROBE_WAIT_S = 3.0   # a file that has not grown for this long, with no writer, is what it is
STDIN = "-"

# how a recording ended: complete, or early (the outputs cover what came)
FINISHED = "finished"   # the writer finished the file
ENDED = "ended"         # standard input or the pipe ended
CUT_SHORT = "cut short"  # the writer closed the file without finishing it (killed, crashed)
IDLE = "idle"           # the file stopped growing and was not finished
STOPPED = "stopped"     # Ctrl-C
COMPLETE = (FINISHED, ENDED)
SAID = {FINISHED: "the recording finished", ENDED: "the stream ended",
        CUT_SHORT: "the writer stopped without finishing the file, which may be cut short: the outputs cover "
                   "what it wrote",
        IDLE: "the file stopped growing for {idle} s without being finished, so the recording may have been cut "
              "short: the outputs cover what it wrote",
        STOPPED: "stopped while the recording went on: the outputs cover what came until then"}


def finished(path: Path) -> bool | None:
    """Whether the writer finished the file: a Matroska segment with its size written (a recording
    under way has the unknown size), a fragmented MP4 ending in its ``mfro`` box; None for other kinds."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            if head[:4] == b"\x1a\x45\xdf\xa3":
                return _segment_size_known(head)
            if head[4:8] == b"ftyp":
                fh.seek(-16, os.SEEK_END)
                return fh.read(16)[4:8] == b"mfro" or _whole_mp4(fh)
    except OSError:
        return None
    return None


def _whole_mp4(fh: BinaryIO) -> bool:
    """An MP4/MOV whose index (``moov``) is written and that is not fragmented (a fragmented one is
    finished only by its ``mfra``): its top-level boxes read, headers only."""
    end, at, moov = fh.seek(0, os.SEEK_END), 0, False
    while at + 8 <= end:
        fh.seek(at)
        head = fh.read(16)
        size, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if size == 1:
            size = int.from_bytes(head[8:16], "big")
        if kind == b"moof" or size < 8 and size != 0:
            return False
        moov = moov or kind == b"moov"
        if size == 0:
            break
        at += size
    return moov and at <= end


def _segment_size_known(head: bytes) -> bool | None:
    def vint(at: int) -> tuple[int, int, bool]:   # (value, length, all ones) of the EBML number at ``at``
        first = head[at]
        length = next((n + 1 for n in range(8) if first & (0x80 >> n)), 8)
        value = first & (0xFF >> length)
        for byte in head[at + 1:at + length]:
            value = (value << 8) | byte
        return value, length, value == (1 << (7 * length)) - 1

    try:
        size, length, _ = vint(4)
        at = 4 + length + size
        if head[at:at + 4] != b"\x18\x53\x80\x67":
            return None
        return not vint(at + 4)[2]
    except IndexError:
        return None


def writing(path: Path) -> bool | None:
    """Whether another process has ``path`` open for writing (from /proc; None where there is none)."""
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return None
    target, me = os.path.realpath(path), str(os.getpid())
    for pid in os.listdir(proc):
        if not pid.isdigit() or pid == me:
            continue
        with contextlib.suppress(OSError):
            for fd in os.listdir(proc / pid / "fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(proc / pid / "fd" / fd) == target and _writable(proc / pid / "fdinfo" / fd):
                        return True
    return False


def _writable(fdinfo: Path) -> bool:
    for line in fdinfo.read_text().splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & (os.O_WRONLY | os.O_RDWR) != 0
    return False


class Recording:
    """The file being recorded, read on as it grows, and how to tell that it has ended."""

    def __init__(self, path: Path, idle_s: float, spool: BinaryIO | None = None):
        self.path, self.idle_s = path, idle_s
        self.ending: str | None = None
        self.ended = threading.Event()   # set once the feeders may stop at the file's end
        self.seen_writer = False
        self.size, self.grew = -1, time.monotonic()
        self.spooled, self.spooling = threading.Event(), spool is not None
        if spool is not None:
            threading.Thread(target=self._spool, args=(spool,), daemon=True).start()

    @classmethod
    def open(cls, source: str | Path, out_dir: Path, name: str | None, idle_s: float, force: bool) -> Recording:
        """The recording at ``source``; standard input (``-``) and a named pipe are copied as they come
        into ``out_dir`` as ``NAME.<kind>`` (default ``live``), and that copy is followed."""
        if str(source) != STDIN and not _is_pipe(Path(source)):
            path = Path(source)
            if not path.exists():
                raise MediaError(path, "no such file")
            if path.is_dir():
                raise MediaError(path, "is a folder, not a media file")
            return cls(path, idle_s)
        spool = sys_stdin() if str(source) == STDIN else open(source, "rb")  # a FIFO: open waits for its writer
        head = spool.read(64) if hasattr(spool, "read") else b""
        path = out_dir / f"{stem_of(source, name)}.{container_suffix(head)}"
        if path.exists() and not force:
            raise OutputExistsError(path, "already exists (the copy of the stream would replace it)")
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(head)
        return cls(path, idle_s, spool)

    def _spool(self, source: BinaryIO) -> None:
        try:
            with open(self.path, "ab") as out:
                while data := source.read1(1 << 16) if hasattr(source, "read1") else source.read(1 << 16):
                    out.write(data)
                    out.flush()
        except (OSError, ValueError):
            pass
        finally:
            self.spooled.set()

    def probe(self) -> MediaInfo:
        """The recording's streams, once enough of it is written to read them; a file that nobody is
        writing and that does not read is refused at once."""
        while True:
            try:
                return media.probe(self.path)
            except MediaError:
                still = time.monotonic() - self._grew() >= PROBE_WAIT_S and self.size > 0
                if self.check() or (still and not self.spooling and writing(self.path) is False):
                    raise
            time.sleep(POLL_S * 2)

    def check(self) -> str | None:
        """How the recording ended, if it has (and then the feeders read to its end and stop)."""
        if self.ending is None:
            ending = self._ending()
            if ending is not None:
                self.stop(ending)
        return self.ending

    def _ending(self) -> str | None:
        idle = time.monotonic() - self._grew() >= self.idle_s
        if self.spooling:
            return ENDED if self.spooled.is_set() else IDLE if idle else None
        if finished(self.path):
            return FINISHED
        open_now = writing(self.path)
        self.seen_writer = self.seen_writer or bool(open_now)
        if self.seen_writer and open_now is False:
            return FINISHED if finished(self.path) else CUT_SHORT
        return IDLE if idle else None

    def _grew(self) -> float:
        with contextlib.suppress(OSError):
            size = self.path.stat().st_size
            if size != self.size:
                self.size, self.grew = size, time.monotonic()
        return self.grew

    def stop(self, ending: str) -> None:
        if self.ending is None:
            self.ending = ending
        self.ended.set()

    def feed(self, stdin: IO[bytes]) -> None:
        """The file's bytes to ``stdin`` as they are written, until the recording has ended and all of it
        is read (a feeder thread of each track's ffmpeg)."""
        with open(self.path, "rb") as fh:
            while True:
                data = fh.read(1 << 16)
                if data:
                    stdin.write(data)
                    continue
                if self.ended.is_set():
                    if not fh.read(1):   # nothing written since: the end
                        return
                    fh.seek(-1, os.SEEK_CUR)
                    continue
                time.sleep(POLL_S)


def stem_of(source: str | Path, name: str | None) -> str:
    """The outputs' stem: the recording's, or for standard input and a pipe (whose copy is followed)
    ``name``, else the pipe's name, else ``live``."""
    if str(source) != STDIN and not _is_pipe(Path(source)):
        return files.output_stem(source)
    return name or (Path(source).stem if str(source) != STDIN else "live")


def _is_pipe(path: Path) -> bool:
    import stat

    with contextlib.suppress(OSError):
        return stat.S_ISFIFO(path.stat().st_mode)
    return False


def sys_stdin() -> BinaryIO:
    import sys

    return sys.stdin.buffer


def container_suffix(head: bytes) -> str:
    """A file name's suffix for a stream that starts with ``head``."""
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:1] == b"\x47":
        return "ts"
    return next((suffix for sign, suffix in ((b"OggS", "ogg"), (b"RIFF", "wav"), (b"fLaC", "flac"),
                                             (b"ID3", "mp3"), (b"FLV", "flv"))
                 if head.startswith(sign)), "mkv")
