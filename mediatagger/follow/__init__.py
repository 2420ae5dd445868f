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
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mediatagger import media, pipeline
from mediatagger.analysis import Analysis, TrackResult
from mediatagger.api import Tagger, Tracks, input_key, select_tracks
from mediatagger.errors import MediaTaggerError, OutputExistsError
from mediatagger.exporters import EXPORTERS
from mediatagger.files import OutputLock, Written
from mediatagger.follow.live import Heard, Live, LiveSpan
from mediatagger.follow.recording import (
    COMPLETE,
    CUT_SHORT,
    ENDED,
    FINISHED,
    IDLE,
    POLL_S,
    SAID,
    STDIN,
    STOPPED,
    Recording,
    container_suffix,
    finished,
    stem_of,
    writing,
)
from mediatagger.head import Models
from mediatagger.media import MediaInfo
from mediatagger.outputs import choose, refuse_existing, with_json, write
from mediatagger.presets import Preset
from mediatagger.stream import TrackStream

TURN_BLOCKS = 10     # a track is fed at most this many blocks before the next track's turn
__all__ = ["COMPLETE", "CUT_SHORT", "ENDED", "FINISHED", "IDLE", "STDIN", "STOPPED", "Followed", "LiveSpan",
           "Recording", "container_suffix", "finished", "follow", "writing"]


@dataclass(frozen=True)
class Followed:
    """What a follow run wrote, how the recording ended, and the analysis of it."""

    written: list[Written]
    ending: str
    said: str
    analysis: Analysis
    left_out: tuple[str, ...] = ()   # why a chosen format was not written (a recording too short for chapters)

    @property
    def complete(self) -> bool:
        return self.ending in COMPLETE


def follow(tagger: Tagger, source: str | Path, out_dir: Path | str = ".", formats: Any = None,
           tracks: Tracks = "all", refresh_s: float = 10.0, idle_s: float = 30.0, name: str | None = None,
           force: bool = False, heard: Heard | None = None, progress: Callable[[float], None] | None = None,
           refreshed: Callable[[Analysis], None] | None = None, stop: threading.Event | None = None) -> Followed:
    """Tag the recording at ``source`` (a file being written, ``-`` for standard input, or a named pipe)
    as it is written; ``heard`` is told each finished span, ``progress`` the seconds heard so far,
    ``refreshed`` the analysis so far at each refresh; ``stop`` set ends it as Ctrl-C does. Returns once
    it has ended, its outputs written (``Followed``)."""
    out = Path(out_dir)
    names, stem = with_json(choose(formats, tagger.preset)), stem_of(source, name)
    with OutputLock(out, stem):   # one run at a time writes these outputs
        live = Live(out, stem, [n for n in names if n in EXPORTERS and n != "json"], tagger.preset, heard, refreshed)
        if not force:   # before anything is read: standard input is read once
            refuse_existing(names, out, stem)
            if live.path.exists():
                raise OutputExistsError(live.path, "already exists, from an earlier run")
        live.path.unlink(missing_ok=True)   # an earlier run's, replaced (--force)
        recording = Recording.open(source, out, name, idle_s, force)
        threading.Thread(target=preload, args=(tagger,), daemon=True).start()   # while the writer starts
        with stopping_on_interrupt(recording):
            return _followed(tagger, recording, out, names, tracks, live, refresh_s, idle_s, progress, stop)


def _followed(tagger: Tagger, recording: Recording, out: Path, names: list[str], tracks: Tracks, live: Live,
              refresh_s: float, idle_s: float, progress: Callable[[float], None] | None,
              stop: threading.Event | None) -> Followed:
    """The recording heard to its end, and its outputs written."""
    info = recording.probe()
    chosen = select_tracks(info, tracks)
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
    unfit = [n for n in names if n in EXPORTERS and not EXPORTERS[n].fits(result)]
    written = write(result, out, [n for n in names if n not in unfit], tagger.preset, force=True)
    live.end(result, ending, said)
    return Followed(written, ending, said, result, tuple(why_not(n, result, tagger.preset) for n in unfit))


def why_not(name: str, result: Analysis, preset: Preset) -> str:
    """The format's own message for an analysis it cannot hold."""
    try:
        EXPORTERS[name].to_string(result, preset)
    except MediaTaggerError as exc:
        return f"{name} not written: {exc}"
    return f"{name} not written"


def preload(tagger: Tagger) -> None:
    """The models loaded while the recording's first seconds come; a failure is raised again, as a
    message, where the follow run asks for them."""
    with contextlib.suppress(Exception):
        tagger.models()


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

    def run(self) -> list[TrackResult]:
        streams = [media.AudioStream(self.info, h.index, feed=self.recording.feed, ahead_s=120) for h in self.heard]
        started = time.monotonic()
        open_ = set(range(len(streams)))
        refreshed: float | None = None   # the first refresh once caught up with the writer, then every refresh_s
        try:
            while open_:
                moved = any([self._take(k, streams[k], open_) for k in sorted(open_)])
                if self.stop is not None and self.stop.is_set():
                    self.recording.stop(STOPPED)
                if not moved:
                    self.recording.check()
                    time.sleep(POLL_S)
                if self._due(moved, refreshed, started):
                    self.live.refresh(self._so_far(), self.heard)
                    refreshed = time.monotonic()
        finally:
            for stream in streams:
                stream.close()
        return [h.finish() for h in self.heard]

    def _due(self, moved: bool, refreshed: float | None, started: float) -> bool:
        """A refresh is due ``refresh_s`` after the last, and the first as soon as the audio that came
        before the follow began is heard (a run started late shows its markers at once)."""
        if refreshed is None and not moved and any(h.fed_ms for h in self.heard):
            return True
        return time.monotonic() - (started if refreshed is None else refreshed) >= self.refresh_s

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
