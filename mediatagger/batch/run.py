"""A batch from start to end: the inputs found, planned against the journal, tagged (here, the next file
decoding while one is tagged; in worker processes; or on a Ray cluster), each outcome journalled and
told, busy inputs tried again at the end, and the summary written. ``tag_folder`` is the whole of it;
a front end only shows what its ``Listener`` is told."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediatagger import files, media, outputs, summary
from mediatagger.batch.discovery import Item, discover
from mediatagger.batch.journal import Journal, lock_free, settings_key
from mediatagger.errors import API_NAMES, MediaTaggerError, OutputBusyError, UsageError
from mediatagger.files import Written
from mediatagger.progress import Progress

BUSY = 75   # the exit code while an input is busy (another run holds its outputs): EX_TEMPFAIL


class Listener:
    """What a batch tells as it goes. Each method does nothing here: a front end overrides what it shows."""

    def warn(self, text: str) -> None:
        """Something the user should know that stops nothing (a damaged journal line, a duplicate input)."""

    def passed(self, path: Path, why: str) -> None:
        """A file in an input folder that is not an input (``not media``, one of our outputs, hidden)."""

    def found(self, items: list[Item]) -> None:
        """The search for inputs is over: what it found."""

    def told(self, line: str, news: bool = False) -> None:
        """An input's turn in words: skipped as failed before, its error, busy; ``news`` for what is only
        worth saying to who wants every detail (an input tagged again, and why)."""

    def start(self, total_s: float) -> None:
        """Tagging begins: the media seconds to tag."""

    def begin(self, name: str) -> None:
        """An input at work (or ``2 workers``, ``Ray auto``)."""

    def stage(self, event: Progress) -> None:
        """The stage the input at work is in."""

    def end(self, media_s: float) -> None:
        """An input finished: its media seconds."""

    def stop(self) -> None:
        """Tagging ended (for now: busy inputs may be tried again)."""

    def wrote(self, written: list[Written]) -> None:
        """An input's files: written, kept as they were, replaced or removed; then the summary's."""


@dataclass(frozen=True)
class Outcome:
    """One input's end: ``done`` (its files), ``failed`` or ``busy`` (the one-line error), ``skipped`` (why)."""

    item: Item
    state: str
    written: tuple[Written, ...] = ()
    error: str = ""
    seconds: float = 0.0
    exit_code: int = 0


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[Outcome, ...]
    summary: tuple[Path, ...] = ()
    failed_before: int = 0          # skipped inputs the journal says failed in an earlier run
    journal: Path | None = None     # None: one file, tagged without a journal

    def count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """The worst failure's code (1 at least) while any input failed now or before, else 75 while any is
        busy, else 0."""
        if self.count("failed"):
            return max(1, *(o.exit_code for o in self.outcomes))
        return 1 if self.failed_before else BUSY if self.count("busy") else 0

    def line(self, names: Mapping[str, str] = API_NAMES) -> str:
        """``3 done, 1 failed, 2 skipped``, and what is busy or still failed from before (the option that
        retries those spelled as ``names`` says: the CLI's flags, or the API's arguments)."""
        busy, before = self.count("busy"), self.failed_before
        return (f"{self.count('done')} done, {self.count('failed')} failed, {self.count('skipped')} skipped"
                + (f", {busy} busy" if busy else "")
                + (f"; {before} still failed from before: {names['retry_failed']} tries again" if before else ""))


@dataclass
class Batch:
    """One batch's settings, shared by its steps."""

    tagger: Any
    journal: Journal
    exports: list[str] | None
    track: int | str
    force: bool
    jobs: int | str                  # worker processes, or a Ray address
    listener: Listener
    names: Mapping[str, str]         # how the caller spells options in messages
    debug: bool
    durations: dict[str, float] = field(default_factory=dict)


def tag_folder(inputs: Iterable[Path | str], out_dir: Path | str, tagger: Any = None, *, recursive: bool = False,
               exports: list[str] | None = None, track: int | str = "all", force: bool = False,
               retry_failed: bool = False, jobs: int = 1, ray: str | None = None, busy_wait: float = 60.0,
               progress: Listener | None = None, names: Mapping[str, str] = API_NAMES,
               debug: bool = False) -> BatchResult:
    """Tag every media file of ``inputs`` (files, and folders searched for media) into ``out_dir``, the
    outputs of a folder's files mirroring its subfolders. A journal in ``out_dir`` lets a rerun skip what
    is done (while its file, settings and outputs are as they were) and redo what was cut short or
    changed; inputs that failed are retried with ``retry_failed``. One input's error never stops the
    others. ``tagger``: an ``api.Tagger`` (default: the default preset's). One file given alone (not on
    Ray) is tagged without a journal, and its error raised. ``names`` spells the options messages name as
    the caller knows them (the CLI: ``--force``; the API's ``force=True`` by default)."""
    from mediatagger.api import Tagger

    tagger = tagger if tagger is not None else Tagger()
    listener, sources, out = progress or Listener(), [Path(i) for i in inputs], Path(out_dir)
    items = discover(sources, out, recursive, warn=listener.warn, skip=listener.passed)
    listener.found(items)
    if not items:
        raise UsageError(f"no media files in {', '.join(map(str, sources))}" + ("" if recursive else
                         f" (use {names['recursive']} to search subfolders)"))
    if len(sources) == 1 and len(items) == 1 and not sources[0].is_dir() and not ray:
        written = tagger.run(items[0].source, items[0].out_dir, exports, track, force, listener.stage)
        listener.wrote(written)
        return BatchResult((Outcome(items[0], "done", tuple(written)),))
    settings = settings_key(tagger.preset, outputs.with_json(outputs.choose(exports, tagger.preset)), track)
    batch = Batch(tagger, Journal(out, settings, listener.warn), exports, track, force, ray or jobs, listener,
                  names, debug)
    return run(batch, items, retry_failed, busy_wait)


def run(batch: Batch, items: list[Item], retry_failed: bool, busy_wait: float) -> BatchResult:
    """Each input in turn, its state in the journal. An input whose outputs another run holds is busy, not
    failed: tried again at the end (once that run lets go, within ``busy_wait`` seconds), else left for
    the next run."""
    todo, skipped, before = plan(batch, items, retry_failed)
    ended = tally(batch, todo)
    busy = [o.item for o in ended if o.state == "busy"]
    if busy:
        wait_free(busy, busy_wait)
        ended = [o for o in ended if o.state != "busy"] + tally(batch, busy)
    for o in (o for o in ended if o.state == "busy"):
        batch.journal.record(o.item, "busy", error=o.error)
        batch.listener.told(f"busy: {o.error}; left for the next run")
    made = write_summary(items, batch.journal, batch.tagger.preset)
    batch.listener.wrote([Written(p) for p in made])
    return BatchResult(tuple(skipped + ended), tuple(made), before, batch.journal.path)


def plan(batch: Batch, items: list[Item], retry_failed: bool) -> tuple[list[Item], list[Outcome], int]:
    """(the inputs to tag, the skipped ones, how many of those failed before): done ones are skipped while
    their file, settings and outputs are as they were; failed ones unless ``retry_failed``."""
    todo, skipped, before, journal = [], [], 0, batch.journal
    for item in items:
        why = journal.stale(item)   # the file, settings and outputs checked once, for state and message
        state = journal.state(item, why)
        if state == "done" and not batch.force or state == "failed" and not retry_failed:
            skipped.append(Outcome(item, "skipped", error=state or ""))
            if state == "failed":
                before += 1
                batch.listener.told(f"skipped {item.name}: it failed before ({journal.error(item)}); "
                                    f"{batch.names['retry_failed']} tries again")
            continue
        if why:
            batch.listener.told(f"{item.name} is tagged again: {why}", news=True)
        todo.append(item)
    return todo, skipped, before


def tally(batch: Batch, todo: list[Item]) -> list[Outcome]:
    """``todo`` tagged, each outcome journalled and told as it comes."""
    if not todo:
        return []
    batch.durations.update({i.name: duration_s(i.source) for i in todo})
    batch.listener.start(sum(batch.durations[i.name] for i in todo))
    ended = []
    try:
        for item, done, seconds in outcomes(batch, todo):
            batch.listener.end(batch.durations.get(item.name, 0.0))
            ended.append(outcome(batch, item, done, seconds))
    finally:
        batch.listener.stop()
    return ended


def outcome(batch: Batch, item: Item, done: list[Written] | MediaTaggerError, seconds: float) -> Outcome:
    """One input's result journalled (busy ones are journalled once the batch has tried them again)."""
    if isinstance(done, OutputBusyError):
        return Outcome(item, "busy", error=done.describe(batch.names), seconds=seconds)
    if isinstance(done, MediaTaggerError):
        if batch.debug:
            raise done
        error = done.describe(batch.names)
        batch.journal.record(item, "failed", seconds, error)
        batch.listener.told(f"error: {error}")
        return Outcome(item, "failed", error=error, seconds=seconds, exit_code=done.exit_code)
    batch.journal.record(item, "done", seconds, written=[w.path for w in done if not w.removed])
    batch.listener.wrote(done)
    return Outcome(item, "done", tuple(done), seconds=seconds)


def outcomes(batch: Batch, todo: list[Item]) -> Iterator[tuple[Item, list[Written] | MediaTaggerError, float]]:
    """(input, its written files or its error, seconds) as each finishes: in this process, the next file
    decoding while one is tagged; in worker processes; or on a Ray cluster. Each is journalled as started
    first, so a batch cut short redoes it."""
    jobs, listener = batch.jobs, batch.listener
    if isinstance(jobs, str) or jobs > 1:
        for item in todo:
            batch.journal.record(item, "started")
        listener.begin(f"Ray {jobs}" if isinstance(jobs, str) else f"{jobs} workers")
        yield from parallel(batch, todo)
        return
    runs = batch.tagger.run_all([i.source for i in todo], [i.out_dir for i in todo], batch.exports, batch.track,
                                batch.force, listener.stage)
    for item in todo:
        batch.journal.record(item, "started")
        began = time.monotonic()
        listener.begin(item.name)
        _, done = next(runs)
        yield item, done, time.monotonic() - began


def parallel(batch: Batch, todo: list[Item]) -> Iterator[tuple[Item, Any, float]]:
    """``todo`` in ``batch.jobs`` worker processes, or on the Ray cluster at that address."""
    preset, args = batch.tagger.preset, (batch.exports, batch.track, batch.force, batch.debug)
    if isinstance(batch.jobs, str):
        from mediatagger.batch.on_ray import on_ray

        yield from on_ray(preset, todo, batch.jobs, *args)
    else:
        from mediatagger.batch.workers import pooled

        yield from pooled(preset, todo, batch.jobs, *args)


def duration_s(path: Path) -> float:
    """An input's duration for the batch's progress (0 if it cannot be probed: its error comes in its turn)."""
    try:
        return media.probe(path).duration_ms / 1000
    except MediaTaggerError:
        return 0.0


def wait_free(busy: list[Item], seconds: float) -> None:
    """Wait up to ``seconds`` for every busy input's outputs to be let go by the run that holds them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(lock_free(item) for item in busy):
        time.sleep(0.5)


def write_summary(items: list[Item], journal: Journal, preset: Any = None) -> list[Path]:
    """The batch's summary.csv and summary.html, a row per input as the journal last saw it."""
    states = [journal.state(i) for i in items]   # each reads the input's analysis and outputs: once
    rows = [summary.row(i.name, i.out_dir, files.output_stem(i.source), "" if state == "done" else
                        journal.error(i) or "not tagged", state or "pending") for i, state in zip(items, states)]
    return summary.write(rows, journal.path.parent, preset)
