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

import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediatagger.clips import CLIP_TAIL
from mediatagger.errors import UsageError

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


def _found(folder: Path, recursive: bool, out_dir: Path) -> Iterator[Path]:
    """Media under ``folder``: not hidden, not in a hidden folder, not among our own outputs."""
    for path in sorted(folder.rglob("*") if recursive else folder.iterdir()):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") for p in parts) or not path.is_file() or not is_media(path):
            continue
        if _inside(path, out_dir) and out_dir.resolve() != folder.resolve():
            continue
        yield path


def discover(inputs: Iterable[Path], out_dir: Path, recursive: bool = False) -> list[Item]:
    """Files as given, and the media in folders (their subfolders too with ``recursive``), each with
    the folder its outputs go to; two inputs that would write the same outputs are an error."""
    items: list[Item] = []
    for given in inputs:
        if given.is_dir():
            items += [Item(p, out_dir / p.parent.relative_to(given), (Path(given.name) / p.relative_to(given))
                           .as_posix()) for p in _found(given, recursive, out_dir)]
        else:
            items.append(Item(given, out_dir, given.as_posix()))
    seen: dict[tuple[Path, str], Item] = {}
    for item in items:
        clash = seen.setdefault((item.out_dir, item.source.stem), item)
        if clash is not item:
            raise UsageError(f"{clash.source} and {item.source} would write the same outputs "
                             f"({item.out_dir / item.source.stem}.*): tag them into different folders")
    return items


def stamp(path: Path) -> dict[str, int]:
    """What says the file is the one the journal saw: its size and modification time."""
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def analysis_key(item: Item) -> str | None:
    """The content key of the input's analysis as written (its bytes, the model and scan settings)."""
    try:
        with open(item.out_dir / f"{item.source.stem}.analysis.json", encoding="utf-8") as fh:
            key = json.load(fh).get("cache_key")
    except (OSError, ValueError, AttributeError):
        return None
    return key if isinstance(key, str) else None


class Journal:
    """Each input's last state in a batch's output folder."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / JOURNAL
        self.entries: dict[str, dict[str, Any]] = {}
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.entries[item.name] = entry


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


def pooled(preset: Any, items: list[Item], jobs: int, exports: Any, track: Any, force: bool,
           verbose: bool = False) -> Iterator[tuple[Item, Any, float]]:
    """Each item tagged by one of ``jobs`` worker processes, each loading the model once, largest
    files first; yields (item, written files or the error, seconds) as they finish. Workers share the cores:
    each runs torch on cores / jobs threads unless the preset says otherwise."""
    import concurrent.futures as futures
    import dataclasses
    import multiprocessing

    from mediatagger.model import cores

    if not preset.model.threads:
        model = dataclasses.replace(preset.model, threads=max(1, cores() // jobs))
        preset = dataclasses.replace(preset, model=model)
    order = sorted(items, key=lambda i: -_size(i.source))
    with futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_start_worker, initargs=(preset, verbose)) as pool:
        running = {pool.submit(_work, i.source, i.out_dir, exports, track, force): i for i in order}
        for done in futures.as_completed(running):
            try:
                yield running[done], *done.result()
            except Exception as exc:  # noqa: BLE001 -- a worker that died: this input failed, not the batch
                yield running[done], _died(running[done], exc), 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _died(item: Item, exc: BaseException) -> Any:
    from mediatagger.errors import MediaTaggerError

    return MediaTaggerError(f"{item.source}: its worker stopped ({type(exc).__name__}: {exc})")


# --- a Ray cluster ---------------------------------------------------------------------------------

def on_ray(preset: Any, items: list[Item], address: str, exports: Any, track: Any, force: bool,
           verbose: bool = False) -> Iterator[tuple[Item, Any, float]]:
    """Each item tagged by an actor on the Ray cluster at ``address`` (``auto``: the one this machine
    runs), one actor per CPU it offers, each holding one loaded model; largest files first. The files
    and the output folder must be at the same paths on every node (a shared disk). An actor killed in
    the middle of a file is restarted by Ray and the file retried on it; the batch goes on."""
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
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=2)(RayWorker)
        pool = ray.util.ActorPool([actor.remote(preset, verbose) for _ in range(min(workers, len(items)))])
        order = sorted(items, key=lambda i: -_size(i.source))
        results = pool.map_unordered(lambda a, i: a.run.remote(i.name, i.source, i.out_dir, exports, track, force),
                                     order)
        by_name = {i.name: i for i in order}
        for name, done, seconds in results:
            yield by_name[name], done, seconds
    finally:
        ray.shutdown()


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
