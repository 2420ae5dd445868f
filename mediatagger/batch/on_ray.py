"""A batch on a Ray cluster: an actor per CPU, each loading the model once."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mediatagger.batch.discovery import Item
from mediatagger.batch.workers import TRIES, _died, _size, _start_worker, _unlock, _work
from mediatagger.errors import UsageError

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
