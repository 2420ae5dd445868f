"""The batch journal: each input's state, stamp, settings and outputs, a JSON line at a time, and the
lock holder of an input's outputs (read, never taken)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from mediatagger import files
from mediatagger.batch.discovery import JOURNAL, Item
from mediatagger.errors import OutputError


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


