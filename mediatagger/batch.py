"""A season of footage: folders searched for media, outputs mirroring the input's folders, and a
journal that lets a rerun skip what is done.

``discover`` turns the command line's inputs (files and folders) into ``Item``s: a source and the
folder its outputs go to, ``OUT/<the source's folder relative to the input folder>``, so two
``talk.mp4`` from different folders never meet; our own outputs (the clips and reels a plan file
beside them lists) are never inputs, and every file passed over is told with its reason. ``Journal``
is an append-only JSON-lines file in ``OUT`` (``mediatagger.journal.jsonl``): each input's state
(started, done, failed, busy), its size and time, the content key of its analysis, the settings it was
run with, the files it wrote, its one-line error and its seconds, flushed and synced line by line, so
a crash, Ctrl-C or power loss loses at most the line being written; a damaged line is reported and
skipped. A done input counts as done only while its bytes, its settings and every file it wrote are
as they were. Several inputs run in worker processes (``pooled``, which die with the batch) or on a
Ray cluster (``on_ray``), each worker loading the model once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediatagger import files
from mediatagger.clips import listed_files, previous_plan
from mediatagger.errors import OutputError, UsageError

MEDIA_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mxf", ".mts", ".m2ts", ".ts", ".mpg", ".mpeg", ".flv",
    ".wmv", ".3gp", ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus", ".wma", ".aif", ".aiff"})
JOURNAL = "mediatagger.journal.jsonl"
PLAN_TAIL = ".clips.json"   # the plan of a clips or reel job: it lists the media files we wrote beside it


@dataclass(frozen=True)
class Item:
    """One input of a batch: the media file, where its outputs go, and its name in the journal."""

    source: Path
    out_dir: Path
    name: str


def is_media(path: Path) -> bool:
    """A media file by its extension (whether we wrote it is for ``our_outputs`` to say)."""
    return path.suffix.lower() in MEDIA_SUFFIXES


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _walk(folder: Path, recursive: bool) -> Iterator[Path]:
    """Every entry under ``folder`` (its subfolders too with ``recursive``, linked ones included), each
    real folder once: a link back up (a loop) or a second link to one folder is not walked again."""
    if not recursive:
        yield from folder.iterdir()
        return
    seen: set[tuple[int, int]] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        try:
            info = os.stat(root)
        except OSError:  # gone while walked
            continue
        if info.st_ino and (info.st_dev, info.st_ino) in seen:  # 0: this file system names no inodes
            dirs.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        yield from (Path(root) / n for n in names)
        yield from (Path(root) / d for d in dirs)


def our_outputs(paths: Iterable[Path]) -> dict[Path, Path]:
    """The clips and reels among ``paths`` that a plan of ours (``<stem>.clips.json``, also among
    ``paths``) lists: each with the plan that lists it. Known by what we wrote, not by name: camera
    footage in a folder named ``clips`` is footage."""
    ours: dict[Path, Path] = {}
    for plan_file in (p for p in paths if p.name.endswith(PLAN_TAIL)):
        stem = plan_file.name[:-len(PLAN_TAIL)]
        plan = previous_plan(plan_file.parent, stem)
        if plan is not None:
            ours.update((p, plan_file) for p in listed_files(plan, plan_file.parent, stem))
    return ours


def _found(folder: Path, recursive: bool, out_dir: Path,
           skip: Callable[[Path, str], None]) -> Iterator[Path]:
    """Media under ``folder``; each file passed over is told to ``skip`` with why (hidden files only
    when they have a media extension)."""
    paths = sorted(_walk(folder, recursive))
    ours = our_outputs(paths)
    apart = out_dir.resolve() != folder.resolve() and _inside(out_dir, folder)   # OUT a subfolder of the input
    for path in paths:
        if not path.is_file():
            continue
        why = _passed_over(path, folder, out_dir if apart else None, ours)
        if why is None:
            yield path
        elif is_media(path) or why == "not media":
            skip(path, why)


def _passed_over(path: Path, folder: Path, out_dir: Path | None, ours: dict[Path, Path]) -> str | None:
    """Why a file in an input folder is not an input (None: it is)."""
    if out_dir is not None and _inside(path, out_dir):
        return f"in the output folder {out_dir}"
    if any(p.startswith(".") for p in path.relative_to(folder).parts):
        return "hidden"
    if path in ours:
        return f"written by mediatagger (listed in {ours[path].name})"
    return None if is_media(path) else "not media"


def _once(items: list[Item], warn: Callable[[str], None]) -> list[Item]:
    """The items without the ones that are a file already listed, reached again through a link."""
    first: dict[tuple[int, int], Item] = {}
    kept = []
    for item in items:
        try:
            info = item.source.stat()
        except OSError:  # missing: its error comes in its turn
            kept.append(item)
            continue
        same = first.setdefault((info.st_dev, info.st_ino), item) if info.st_ino else item
        if same is item:
            kept.append(item)
        else:
            warn(f"{item.source} is {same.source} again (a link to the same file): tagged once")
    return kept


def discover(inputs: Iterable[Path], out_dir: Path, recursive: bool = False,
             warn: Callable[[str], None] = lambda text: None,
             skip: Callable[[Path, str], None] = lambda path, why: None) -> list[Item]:
    """Files as given, and the media in folders (their subfolders too with ``recursive``), each with
    the folder its outputs go to, each file once; two inputs that would write the same outputs are an
    error. Each file in the folders that is passed over is told to ``skip`` with the reason."""
    items: list[Item] = []
    for given in inputs:
        if given.is_dir():
            items += [Item(p, out_dir / p.parent.relative_to(given), (Path(given.name) / p.relative_to(given))
                           .as_posix()) for p in _found(given, recursive, out_dir, skip)]
        else:
            items.append(Item(given, out_dir, given.as_posix()))
    items = _once(items, warn)
    seen: dict[tuple[Path, str], Item] = {}
    for item in items:
        clash = seen.setdefault((item.out_dir, files.output_stem(item.source)), item)
        if clash is not item:
            raise UsageError(f"{clash.source} and {item.source} would write the same outputs "
                             f"({item.out_dir / files.output_stem(item.source)}.*): tag them into different folders")
    return items


def stamp(path: Path) -> dict[str, int]:
    """What says the file is the one the journal saw: its size and modification time."""
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def settings_key(preset: Any, exports: list[str], track: Any) -> str:
    """What a batch's outputs are made with: every option of the preset (model, thresholds, styles),
    the outputs asked for and the tracks; a done input run with other settings is run again. How many
    threads ran the model is left out: it changes no output."""
    options = dataclasses.asdict(preset)
    options["model"].pop("threads", None)
    text = json.dumps({"preset": options, "exports": sorted(exports), "track": track}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def analysis_key(item: Item) -> str | None:
    """The content key of the input's analysis as written (its bytes, the model and scan settings)."""
    try:
        with open(item.out_dir / f"{files.output_stem(item.source)}.analysis.json", encoding="utf-8") as fh:
            key = json.load(fh).get("cache_key")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return key if isinstance(key, str) else None


STATES = ("started", "done", "failed", "busy")


class Journal:
    """Each input's last state in a batch's output folder. With ``settings`` (``settings_key``), an
    input counts as done only if it was done with those settings; a damaged line is told to ``warn``."""

    def __init__(self, out_dir: Path, settings: str | None = None, warn: Callable[[str], None] = lambda text: None):
        self.path = out_dir / JOURNAL
        self.settings = settings
        self.entries: dict[str, dict[str, Any]] = {}
        self.seen = _identity(self.path)  # the journal file as this batch last wrote it
        if self.path.is_file():
            with unreadable(self.path):
                lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
            for number, line in enumerate(lines, 1):
                entry = _entry(line)
                if entry is None:
                    warn(f"{self.path}: line {number} is damaged ({_excerpt(line)}); skipped: "
                         "the input it was about is looked at again")
                else:
                    self.entries[entry["input"]] = entry

    def state(self, item: Item, stale: str | None = "") -> str | None:
        """``done``, ``failed`` or ``busy`` as the journal last saw this very file end, else None (to do).
        Done holds while the file, the settings and every output it wrote are as they were (``stale``:
        what ``stale(item)`` said, if the caller asked already)."""
        entry = self.entries.get(item.name)
        if entry is None or entry["status"] not in ("done", "failed", "busy"):
            return None
        if (self.stale(item) if stale == "" else stale) is not None:
            return None
        return str(entry["status"])

    def stale(self, item: Item) -> str | None:
        """Why the journal's last word on ``item`` no longer holds (None: it holds, or there is none)."""
        entry = self.entries.get(item.name)
        if entry is None or entry["status"] not in ("done", "failed"):
            return None
        try:
            if {k: entry.get(k) for k in ("size", "mtime_ns")} != stamp(item.source):
                return "the file changed since"
        except OSError:
            return "the file cannot be read"
        if self.settings is not None and "settings" not in entry:   # a line from before the settings were kept
            return "its journal line is from an older mediatagger" if entry["status"] == "done" else None
        if self.settings is not None and entry.get("settings") != self.settings:
            return "the settings or outputs asked for changed"
        if entry["status"] == "done":
            return self._outputs_gone(item, entry)
        return None

    def _outputs_gone(self, item: Item, entry: dict[str, Any]) -> str | None:
        if analysis_key(item) != entry.get("key"):
            return "its analysis is missing or another one"
        written = entry.get("written")
        if not isinstance(written, list):
            return "the journal does not list its outputs" if self.settings is not None else None
        missing = [name for name in written if not isinstance(name, str) or not (self.path.parent / name).is_file()]
        return f"{missing[0]} is missing" if missing else None

    def error(self, item: Item) -> str:
        return str(self.entries.get(item.name, {}).get("error", ""))

    def record(self, item: Item, status: str, seconds: float = 0.0, error: str | None = None,
               written: Iterable[Path] = ()) -> None:
        entry: dict[str, Any] = {"input": item.name, "status": status, "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                 "seconds": round(seconds, 2), "outputs": str(item.out_dir)}
        try:
            entry.update(stamp(item.source))
        except OSError:
            pass
        if self.settings is not None:
            entry["settings"] = self.settings
        if error:
            entry["error"] = error
        if status == "done":
            entry["key"] = analysis_key(item)
            entry["written"] = [_relative(p, self.path.parent) for p in written]
        seen = files.append_line(self.path, files.json_text(json.dumps(entry, ensure_ascii=False)), self.seen)
        if seen is None:  # the journal this batch read or wrote is gone or replaced, and with it the folder
            raise OutputError(self.path.parent, "the output folder was removed or replaced while the batch ran, "
                                                "with the outputs it held; run the batch again to redo them")
        self.seen = seen
        self.entries[item.name] = entry


def _entry(line: str) -> dict[str, Any] | None:
    """A journal line read back, or None if it is damaged (torn by a crash, edited, garbage)."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: deep nesting ("[[[[..." by the 100,000)
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("input"), str) or entry.get("status") not in STATES:
        return None
    return entry


def _excerpt(line: str, limit: int = 40) -> str:
    return repr(line if len(line) <= limit else line[:limit] + "...")


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:   # another drive
        return str(path)


@contextlib.contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """An OSError reading the journal as an ``OutputError`` naming it."""
    try:
        yield
    except OSError as exc:
        raise OutputError(path, f"cannot be read: {exc.strerror or exc}") from None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


# --- several worker processes --------------------------------------------------------------------

_WORKER: Any = None  # the Tagger of this worker process, loaded once


def _start_worker(preset: Any, verbose: bool) -> None:
    global _WORKER
    from mediatagger.api import Tagger

    _WORKER = Tagger(preset, detector=preset.events.detector, verbose=verbose)  # not the environment's


def _work(source: Path, out_dir: Path, exports: Any, track: Any, force: bool) -> tuple[Any, float]:
    from mediatagger.errors import MediaTaggerError

    began = time.monotonic()
    try:
        return _WORKER.run(source, out_dir, exports, track, force), time.monotonic() - began
    except MediaTaggerError as exc:  # pickles whole: the parent reports it as the CLI would
        return exc, time.monotonic() - began
    except Exception as exc:  # noqa: BLE001 -- a bug on one file: reported for that file, the worker goes on
        return MediaTaggerError(f"{source}: {type(exc).__name__}: {exc}"), time.monotonic() - began


def pooled(preset: Any, items: list[Item], jobs: int, exports: Any, track: Any, force: bool,
           verbose: bool = False) -> Iterator[tuple[Item, Any, float]]:
    """Each item tagged by one of ``jobs`` worker processes, each loading the model once, largest
    files first; yields (item, written files or the error, seconds) as they finish. Workers share the cores:
    each runs torch on cores / jobs threads unless the preset says otherwise. A worker that dies (killed,
    out of memory) is replaced; the file it held is tried once more, then reported failed."""
    from mediatagger.model import cores

    if not preset.model.threads:
        model = dataclasses.replace(preset.model, threads=max(1, cores() // jobs))
        preset = dataclasses.replace(preset, model=model)
    order = sorted(items, key=lambda i: -_size(i.source))
    with Workers(preset, verbose, (exports, track, force)) as workers:
        yield from workers.run(order, jobs)


TRIES = 2  # a file whose worker dies is tried once more


class Workers:
    """Worker processes (spawned), each serving one file at a time over its own pipe, so the parent
    always knows which file a worker that died was holding."""

    def __init__(self, preset: Any, verbose: bool, options: tuple[Any, ...]):
        import multiprocessing

        self.context = multiprocessing.get_context("spawn")
        self.preset, self.verbose, self.options = preset, verbose, options
        self.busy: dict[Any, tuple[Any, Any]] = {}  # connection -> (process, the item it holds)
        self.tries: dict[str, int] = {}

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for process, _ in self.busy.values():
            process.terminate()  # the worker ends as for SIGTERM: its temp files go
        for process, _ in self.busy.values():
            process.join(10)
            if process.is_alive():
                process.kill()
        self.busy.clear()

    def run(self, order: list[Item], jobs: int) -> Iterator[tuple[Item, Any, float]]:
        from multiprocessing.connection import wait

        todo = list(order)
        for _ in range(min(jobs, len(todo))):
            self.hand(self.start(), todo.pop(0))
        while self.busy:
            sentinels = {process.sentinel: conn for conn, (process, _) in self.busy.items()}
            for conn in dict.fromkeys(sentinels.get(ready, ready) for ready in wait([*self.busy, *sentinels])):
                yield from self.collect(conn, todo)

    def collect(self, conn: Any, todo: list[Item]) -> Iterator[tuple[Item, Any, float]]:
        """The answer on ``conn`` (the next file handed to its worker), or its worker's death."""
        process, item = self.busy.pop(conn)
        try:
            done, seconds = conn.recv()
        except (EOFError, OSError):  # the worker died holding ``item``
            conn.close()
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()
            _unlock(item)
            self.tries[item.name] = self.tries.get(item.name, 0) + 1
            if self.tries[item.name] < TRIES:
                todo.insert(0, item)
            else:
                yield item, _died(item, _how(process.exitcode)), 0.0
            if todo:
                self.hand(self.start(), todo.pop(0))
            return
        if todo:
            following = todo.pop(0)
            try:
                if not process.is_alive():
                    raise BrokenPipeError
                self.hand(conn, following, process)
            except OSError:  # it answered, then died: another takes its place
                conn.close()
                self.hand(self.start(), following)
        else:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
            process.join(10)
            if process.is_alive():
                process.kill()
        yield item, done, seconds

    def start(self) -> Any:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child, self.preset, self.verbose, os.getpid()),
                                       daemon=True)
        process.start()
        child.close()
        self.busy[parent] = (process, None)
        return parent

    def hand(self, conn: Any, item: Item, process: Any = None) -> None:
        process = process if process is not None else self.busy[conn][0]
        conn.send((item.source, item.out_dir, *self.options))
        self.busy[conn] = (process, item)


def _serve(conn: Any, preset: Any, verbose: bool, parent: int) -> None:
    """A worker process: load the Tagger once, then tag each file the parent sends until it sends None.
    Ctrl-C is the parent's to handle; SIGTERM ends the worker as an exception, so its temp files go and
    its ffmpeg is killed. The worker dies with the batch: the kernel sends it SIGTERM when the parent
    dies (killed outright, out of memory), and it checks its parent before each file and each answer."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)
    _die_with(parent)
    _start_worker(preset, verbose)
    try:
        while (task := conn.recv()) is not None:
            _check_parent(parent)
            done = _work(*task)
            _check_parent(parent)
            conn.send(done)
    except (EOFError, OSError):  # the parent is gone: nothing more to do, and nobody to tell
        raise SystemExit(0) from None


def _die_with(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux), and end now if it already has."""
    import signal

    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    _check_parent(parent)


def _check_parent(parent: int) -> None:
    """End this worker (writing nothing more) if the batch that started it is gone."""
    if os.getppid() != parent:
        raise SystemExit(0)


def lock_free(item: Item) -> bool:
    """No live run holds the lock on ``item``'s outputs now, as its lock file says (read, never taken:
    taking it to look would make a run that starts meanwhile find its outputs busy)."""
    try:
        holder = (item.out_dir / f".{files.output_stem(item.source)}.lock").read_text(errors="replace").strip()
    except OSError:  # no lock file: released
        return True
    if not holder.isdigit():
        return True
    try:
        os.kill(int(holder), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def _unlock(item: Item) -> None:
    """The lock file a killed worker left on ``item``'s outputs removed (the kernel freed the lock itself)."""
    from mediatagger.errors import MediaTaggerError

    with contextlib.suppress(MediaTaggerError, OSError), files.OutputLock(item.out_dir, files.output_stem(item.source)):
        pass


def _exit_on_term(signum: int, frame: Any) -> None:
    """SIGTERM ends the worker as an exception (its cleanup runs) once: a parent that dies may send it
    again (the kernel's death signal comes as each of its threads ends), and a second one would cut
    that cleanup or the interpreter's exit short with a traceback."""
    import signal

    from mediatagger import media

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    media.kill_running()  # at once: a decode on another thread would outlive the exception's way out
    raise SystemExit(128 + signum)


def _how(exitcode: int | None) -> str:
    import signal

    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _died(item: Item, how: str) -> Any:
    from mediatagger.errors import MediaTaggerError

    return MediaTaggerError(f"{item.source}: its worker process died while tagging it ({how}), "
                            f"{TRIES} times; the other files went on")


# --- a Ray cluster ---------------------------------------------------------------------------------

def on_ray(preset: Any, items: list[Item], address: str, exports: Any, track: Any, force: bool,
           verbose: bool = False) -> Iterator[tuple[Item, Any, float]]:
    """Each item tagged by an actor on the Ray cluster at ``address`` (``auto``: the one this machine
    runs), one actor per CPU it offers, each holding one loaded model; largest files first. The files
    and the output folder must be at the same paths on every node (a shared disk). An actor killed in
    the middle of a file is replaced by a new one and the file retried on it once, then reported failed;
    the batch goes on."""
    ray = _ray()
    try:
        ray.init(address=address, logging_level="ERROR", log_to_driver=verbose)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(f"no Ray cluster at {address} ({exc})") from None
    try:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        if not preset.model.threads:
            preset = dataclasses.replace(preset, model=dataclasses.replace(preset.model, threads=1))
        actor = ray.remote(num_cpus=1)(RayWorker)
        yield from _on_actors(ray, lambda: actor.remote(preset, verbose), min(workers, len(items)),
                              sorted(items, key=lambda i: -_size(i.source)), (exports, track, force))
    finally:
        ray.shutdown()


def _on_actors(ray: Any, new_actor: Callable[[], Any], count: int, todo: list[Item],
               options: tuple[Any, ...]) -> Iterator[tuple[Item, Any, float]]:
    """Each item handed to the next free one of ``count`` actors; an actor that dies on an item is
    replaced by a new one, which tries the item once more; an item whose actor died both times is
    reported failed."""
    running: dict[Any, tuple[Any, Item]] = {}
    tries: dict[str, int] = {}

    def hand(worker: Any) -> None:
        item = todo.pop(0)
        running[worker.run.remote(item.name, item.source, item.out_dir, *options)] = (worker, item)

    for _ in range(count):
        hand(new_actor())
    while running:
        [ready], _ = ray.wait(list(running), num_returns=1)
        worker, item = running.pop(ready)
        try:
            _, done, seconds = ray.get(ready)
        except ray.exceptions.RayError:  # its actor died on it: a new one takes its place
            _unlock(item)
            with contextlib.suppress(Exception):
                ray.kill(worker, no_restart=True)
            tries[item.name] = tries.get(item.name, 0) + 1
            if tries[item.name] < TRIES:
                todo.insert(0, item)
            else:
                yield item, _died(item, "its Ray actor was lost"), 0.0
            if todo:
                hand(new_actor())
            continue
        if todo:
            hand(worker)
        else:  # idle: its CPU goes to any replacement still waiting to start
            with contextlib.suppress(Exception):
                ray.kill(worker, no_restart=True)
        yield item, done, seconds


class RayWorker:
    """A Ray actor: one loaded Tagger for every file it is handed."""

    def __init__(self, preset: Any, verbose: bool):
        _start_worker(preset, verbose)

    def run(self, name: str, source: Path, out_dir: Path, exports: Any, track: Any,
            force: bool) -> tuple[str, Any, float]:
        return (name, *_work(source, out_dir, exports, track, force))


def _ray() -> Any:
    try:
        import ray
        import ray.util
    except ImportError:
        raise UsageError("a batch on Ray needs Ray: pip install 'mediatagger[ray]'") from None
    return ray
