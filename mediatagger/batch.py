"""A season of footage: folders searched for media, outputs mirroring the input's folders, and a
journal that lets a rerun skip what is done.

``discover`` turns the command line's inputs (files and folders) into ``Item``s: a source and the
folder its outputs go to, ``OUT/<the source's folder relative to the input folder>``, so two
``talk.mp4`` from different folders never meet. ``Journal`` is an append-only JSON-lines file in
``OUT`` (``mediatagger.journal.jsonl``): each input's state (started, done, failed), its size and
time, the content key of its analysis, its one-line error and its seconds, flushed and synced line
by line, so a crash, Ctrl-C or power loss loses at most the line being written; a torn last line is
ignored when it is read back. Several inputs run in worker processes (``pooled``) or on a Ray
cluster (``on_ray``), each worker loading the model once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediatagger import files
from mediatagger.clips import CLIP_TAIL
from mediatagger.errors import OutputError, UsageError

MEDIA_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mxf", ".mts", ".m2ts", ".ts", ".mpg", ".mpeg", ".flv",
    ".wmv", ".3gp", ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus", ".wma", ".aif", ".aiff"})
OUR_SUFFIXES = (".reel.mp4", ".subtitled.mp4")   # media mediatagger writes, never an input
JOURNAL = "mediatagger.journal.jsonl"


@dataclass(frozen=True)
class Item:
    """One input of a batch: the media file, where its outputs go, and its name in the journal."""

    source: Path
    out_dir: Path
    name: str


OUR_CLIP = re.compile(rf".+{CLIP_TAIL}\.mp4")


def is_media(path: Path) -> bool:
    """A media file by its extension, and not one mediatagger wrote (a reel, a burned copy, a clip)."""
    ours = path.name.lower().endswith(OUR_SUFFIXES) or path.parent.name == "clips" and OUR_CLIP.fullmatch(path.name)
    return path.suffix.lower() in MEDIA_SUFFIXES and not ours


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


def _found(folder: Path, recursive: bool, out_dir: Path) -> Iterator[Path]:
    """Media under ``folder``: not hidden, not in a hidden folder, not among our own outputs."""
    for path in sorted(_walk(folder, recursive)):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") for p in parts) or not path.is_file() or not is_media(path):
            continue
        if _inside(path, out_dir) and out_dir.resolve() != folder.resolve():
            continue
        yield path


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
             warn: Callable[[str], None] = lambda text: None) -> list[Item]:
    """Files as given, and the media in folders (their subfolders too with ``recursive``), each with
    the folder its outputs go to, each file once; two inputs that would write the same outputs are an error."""
    items: list[Item] = []
    for given in inputs:
        if given.is_dir():
            items += [Item(p, out_dir / p.parent.relative_to(given), (Path(given.name) / p.relative_to(given))
                           .as_posix()) for p in _found(given, recursive, out_dir)]
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


def analysis_key(item: Item) -> str | None:
    """The content key of the input's analysis as written (its bytes, the model and scan settings)."""
    try:
        with open(item.out_dir / f"{files.output_stem(item.source)}.analysis.json", encoding="utf-8") as fh:
            key = json.load(fh).get("cache_key")
    except (OSError, ValueError, AttributeError):
        return None
    return key if isinstance(key, str) else None


class Journal:
    """Each input's last state in a batch's output folder."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / JOURNAL
        self.entries: dict[str, dict[str, Any]] = {}
        self.seen = _identity(self.path)  # the journal file as this batch last wrote it
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    self.entries[entry["input"]] = entry
                except (ValueError, KeyError, TypeError):  # a torn last line: that input is redone
                    continue

    def state(self, item: Item) -> str | None:
        """``done`` or ``failed`` if the journal saw this very file end that way, else None."""
        entry = self.entries.get(item.name)
        if entry is None or entry.get("status") not in ("done", "failed"):
            return None
        try:
            same = {k: entry.get(k) for k in ("size", "mtime_ns")} == stamp(item.source)
        except OSError:
            return None
        return str(entry["status"]) if same else None

    def error(self, item: Item) -> str:
        return str(self.entries.get(item.name, {}).get("error", ""))

    def record(self, item: Item, status: str, seconds: float = 0.0, error: str | None = None) -> None:
        entry: dict[str, Any] = {"input": item.name, "status": status, "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                 "seconds": round(seconds, 2), "outputs": str(item.out_dir)}
        try:
            entry.update(stamp(item.source))
        except OSError:
            pass
        if error:
            entry["error"] = error
        if status == "done":
            entry["key"] = analysis_key(item)
        seen = files.append_line(self.path, files.json_text(json.dumps(entry, ensure_ascii=False)), self.seen)
        if seen is None:  # the journal this batch read or wrote is gone or replaced, and with it the folder
            raise OutputError(self.path.parent, "the output folder was removed or replaced while the batch ran, "
                                                "with the outputs it held; run the batch again to redo them")
        self.seen = seen
        self.entries[item.name] = entry


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

    _WORKER = Tagger(preset, verbose=verbose)


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
    import dataclasses

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
        process = self.context.Process(target=_serve, args=(child, self.preset, self.verbose), daemon=True)
        process.start()
        child.close()
        self.busy[parent] = (process, None)
        return parent

    def hand(self, conn: Any, item: Item, process: Any = None) -> None:
        process = process if process is not None else self.busy[conn][0]
        conn.send((item.source, item.out_dir, *self.options))
        self.busy[conn] = (process, item)


def _serve(conn: Any, preset: Any, verbose: bool) -> None:
    """A worker process: load the Tagger once, then tag each file the parent sends until it sends None.
    Ctrl-C is the parent's to handle; SIGTERM ends the worker as an exception, so its temp files go."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)
    _start_worker(preset, verbose)
    while (task := conn.recv()) is not None:
        conn.send(_work(*task))


def _unlock(item: Item) -> None:
    """The lock file a killed worker left on ``item``'s outputs removed (the kernel freed the lock itself)."""
    from mediatagger.errors import MediaTaggerError

    with contextlib.suppress(MediaTaggerError, OSError), files.OutputLock(item.out_dir, files.output_stem(item.source)):
        pass


def _exit_on_term(signum: int, frame: Any) -> None:
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
    import dataclasses

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
