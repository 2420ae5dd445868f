"""Inputs found: files and folders searched for media, each an ``Item`` with the folder its outputs go
to (mirroring the input's folders), our own outputs and hidden media passed over with the reason."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mediatagger import files
from mediatagger.clips import listed_files, previous_plan
from mediatagger.errors import UsageError

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


