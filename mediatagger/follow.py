"""Tagging a recording while it is still being written (``mediatagger tag --follow``).

A ``Recording`` is the file another program (OBS, ffmpeg) is writing; standard input and a named pipe
are first copied into the output folder as it comes, and that copy is followed (it is the media the
markers point at). Each audio track gets its own ffmpeg, fed the file's bytes as they are written by a
thread that reads on from where it was (``Recording.feed``), and its own ``stream.TrackStream``; the
tracks are heard in turn, a block at a time, a few seconds behind the writer.

While it runs, each finished span is appended to ``<stem>.live.jsonl`` and the chosen text outputs are
rewritten (atomically) every ``refresh_s`` seconds from what is known so far, so an editor can import
markers mid-show. It ends when the writer finishes the file (a Matroska segment's size written, a
fragmented MP4's ``mfra``), closes it, stops sending (the end of standard input), when the file has
not grown for ``idle_s`` seconds, or on Ctrl-C; then the outputs are written as ``tag`` writes them of
the finished file. A recording that did not end as a whole file ends early: the outputs cover what
came, and the analysis, the live file and the result say so.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, BinaryIO

from mediatagger import files, media, pipeline, tags
from mediatagger.analysis import Analysis
from mediatagger.api import Tagger, Tracks, input_key, select_tracks
from mediatagger.errors import MediaError, MediaTaggerError, OutputExistsError
from mediatagger.exporters import EXPORTERS
from mediatagger.files import OutputLock, Written
from mediatagger.head import Models
from mediatagger.media import MediaInfo
from mediatagger.outputs import choose, refuse_existing, with_json, write
from mediatagger.presets import Preset
from mediatagger.stream import TrackStream

POLL_S = 0.2
PROBE_WAIT_S = 3.0   # a file that has not grown for this long, with no writer, is what it is
TURN_BLOCKS = 10     # a track is fed at most this many blocks before the next track's turn
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


@dataclass(frozen=True)
class Followed:
    """What a follow run wrote, how the recording ended, and the analysis of it."""

    written: list[Written]
    ending: str
    said: str
    analysis: Analysis

    @property
    def complete(self) -> bool:
        return self.ending in COMPLETE


@dataclass(frozen=True)
class LiveSpan:
    """A span found while following, as a line of ``<stem>.live.jsonl``."""

    track: int
    kind: str
    label: str
    start_ms: int
    end_ms: int
    score: float | None

    def line(self) -> str:
        return json.dumps({"track": self.track, "kind": self.kind, "label": self.label,
                           "name": tags.label_name(self.label), "start_ms": self.start_ms, "end_ms": self.end_ms,
                           "score": self.score}, ensure_ascii=False)


# --- the recording -------------------------------------------------------------------------------

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
        stem = name or (Path(source).stem if str(source) != STDIN else "live")
        path = out_dir / f"{stem}.{container_suffix(head)}"
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


# --- following -----------------------------------------------------------------------------------

Heard = Callable[[LiveSpan], None]


def follow(tagger: Tagger, source: str | Path, out_dir: Path | str = ".", formats: Any = None,
           tracks: Tracks = "all", refresh_s: float = 10.0, idle_s: float = 30.0, name: str | None = None,
           force: bool = False, heard: Heard | None = None, progress: Callable[[float], None] | None = None,
           refreshed: Callable[[Analysis], None] | None = None, stop: threading.Event | None = None) -> Followed:
    """Tag the recording at ``source`` (a file being written, ``-`` for standard input, or a named pipe)
    as it is written; ``heard`` is told each finished span, ``progress`` the seconds heard so far,
    ``refreshed`` the analysis so far at each refresh; ``stop`` set ends it as Ctrl-C does. Returns once
    it has ended, its outputs written (``Followed``)."""
    out = Path(out_dir)
    names = with_json(choose(formats, tagger.preset))
    recording = Recording.open(source, out, name, idle_s, force)
    stem = files.output_stem(recording.path)
    with OutputLock(out, stem), stopping_on_interrupt(recording):
        info = recording.probe()
        chosen = select_tracks(info, tracks)
        live = Live(out, stem, [n for n in names if n in EXPORTERS and n != "json"], tagger.preset, heard, refreshed)
        if not force:
            refuse_existing(names, out, stem)
            if live.path.exists():
                raise OutputExistsError(live.path, "already exists, from an earlier run")
        live.path.unlink(missing_ok=True)   # an earlier run's, replaced (--force)
        models = tagger.models()
        with tagger.inference:
            results = Listening(info, chosen, tagger.preset, models, recording, live, refresh_s, progress,
                                stop).run()
        ending = recording.ending or FINISHED
        final = media.probe(recording.path)
        result = pipeline.analysis_of(final, results, tagger.preset, models,
                                      input_key(recording.path, tagger.preset, chosen))
        said = SAID[ending].format(idle=f"{idle_s:g}")
        if ending not in COMPLETE:
            result = replace(result, settings={**result.settings, "follow": {"ended": ending, "said": said}})
        written = write(result, out, names, tagger.preset, force=True)
        live.end(result, ending, said)
    return Followed(written, ending, said, result)


@contextlib.contextmanager
def stopping_on_interrupt(recording: Recording) -> Any:
    """The first Ctrl-C ends the recording (what came is tagged and written); a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        if recording.ending == STOPPED:
            raise KeyboardInterrupt
        recording.stop(STOPPED)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Listening:
    """The tracks of a recording heard in turn, a block at a time, as it is written."""

    def __init__(self, info: MediaInfo, tracks: list[int], preset: Preset, models: Models, recording: Recording,
                 live: Live, refresh_s: float, progress: Callable[[float], None] | None, stop: threading.Event | None):
        self.info, self.recording, self.live, self.refresh_s, self.progress = info, recording, live, refresh_s, progress
        self.stop = stop
        self.heard = [TrackStream(index, preset, models) for index in tracks]
        self.models = models
        self.preset = preset

    def run(self) -> list:
        streams = [media.AudioStream(self.info, h.index, feed=self.recording.feed, ahead_s=120) for h in self.heard]
        open_ = set(range(len(streams)))
        refreshed = time.monotonic()
        try:
            while open_:
                moved = any([self._take(k, streams[k], open_) for k in sorted(open_)])
                if self.stop is not None and self.stop.is_set():
                    self.recording.stop(STOPPED)
                if not moved:
                    self.recording.check()
                    time.sleep(POLL_S)
                if time.monotonic() - refreshed >= self.refresh_s:
                    self.live.refresh(self._so_far(), self.heard)
                    refreshed = time.monotonic()
        finally:
            for stream in streams:
                stream.close()
        return [h.finish() for h in self.heard]

    def _take(self, k: int, stream: media.AudioStream, open_: set[int]) -> bool:
        """Feed track ``k`` the blocks that have come (at most TURN_BLOCKS: a recording followed from far
        behind its writer moves all its tracks on together); False if none had."""
        moved = False
        for _ in range(TURN_BLOCKS):
            try:
                block = stream.get(timeout=0)
            except queue.Empty:
                return moved
            except MediaTaggerError:
                if self.recording.check() in (*COMPLETE, None):
                    raise
                block = None   # a recording cut short may end inside a packet: what came before it stands
            if block is None:
                open_.discard(k)
                return moved
            self.heard[k].feed(block)
            moved = True
            if self.progress is not None:
                self.progress(min(h.fed_ms for h in self.heard) / 1000)
        return moved

    def _so_far(self) -> Analysis:
        fed = max(h.fed_ms for h in self.heard)
        frames = round(fed / 1000 * self.info.fps) if self.info.fps else None
        info = replace(self.info, duration_ms=fed, video_frames=frames)
        return pipeline.analysis_of(info, [h.so_far() for h in self.heard], self.preset, self.models)


class Live:
    """The outputs of a recording under way: the chosen text outputs rewritten from what is known so
    far, and ``<stem>.live.jsonl``, a line per span once it can no longer change."""

    def __init__(self, out_dir: Path, stem: str, names: list[str], preset: Preset, heard: Heard | None,
                 refreshed: Callable[[Analysis], None] | None = None):
        self.out_dir, self.stem, self.names, self.preset, self.heard = out_dir, stem, names, preset, heard
        self.refreshed = refreshed
        self.path = out_dir / f"{stem}.live.jsonl"
        self.told: set[LiveSpan] = set()
        spans = preset.spans
        self.margin = spans.merge_gap_ms + 2 * spans.pad_ms + 4 * max(preset.scan.grid_ms, 240)

    def refresh(self, doc: Analysis, heard: list[TrackStream]) -> None:
        for name in self.names:
            files.write_text(EXPORTERS[name].path(self.out_dir, self.stem), EXPORTERS[name].to_string(doc, self.preset))
        settled = {h.index: h.settled_ms() - self.margin for h in heard}
        self._tell(doc, lambda span: span.end_ms <= settled[span.track])
        if self.refreshed is not None:
            self.refreshed(doc)

    def end(self, doc: Analysis, ending: str, said: str) -> None:
        """Every span not yet told, and how the recording ended."""
        self._tell(doc, lambda span: True)
        files.append_line(self.path, json.dumps({"ended": ending, "complete": ending in COMPLETE, "said": said,
                                                 "duration_ms": doc.source.duration_ms}))

    def _tell(self, doc: Analysis, settled: Callable[[LiveSpan], bool]) -> None:
        found = [LiveSpan(s.track, kind, s.label, s.start_ms, s.end_ms, s.score)
                 for kind in ("events", "emotions") for s in doc.spans(kind)]
        for span in sorted((s for s in found if s not in self.told and settled(s)), key=lambda s: s.start_ms):
            self.told.add(span)
            files.append_line(self.path, span.line())
            if self.heard is not None:
                self.heard(span)
