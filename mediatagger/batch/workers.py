"""Several worker processes, each loading the model once and dying with the batch."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mediatagger import files
from mediatagger.batch.discovery import Item

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
    finally:   # on the way out: a SIGTERM now (the parent's death signal) would break the interpreter's exit
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


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


