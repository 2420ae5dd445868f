"""Typed errors. Each carries the bad value; only front ends (cli.py) turn them into messages and exit codes.

An error's ``hint`` says how to get past it, naming options in braces (``"use {force} to overwrite"``);
``describe(names)`` spells them the way a front end does (``--force`` on the command line,
``force=True`` in Python). Every error pickles with its message and attributes, so a worker process
can hand it back intact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# how the Python API spells the options hints name
API_NAMES = {"force": "force=True", "model_dir": "model=DIR", "device_cpu": "device='cpu'",
             "vad_dir": "vad=DIR", "vad_silero": "vad='silero'", "cut_accurate": "cut='accurate'",
             "fontsdir": "fontsdir=DIR", "media_root": "media_root=DIR",
             "detector_audioset": "detector='audioset'", "detector_sensevoice": "detector='sensevoice'",
             "retry_failed": "retry_failed=True", "recursive": "recursive=True"}
_OPTION = re.compile(r"\{(\w+)\}")


def _rebuild(cls: type[MediaTaggerError], args: tuple[Any, ...], state: dict[str, Any]) -> MediaTaggerError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class MediaTaggerError(Exception):
    """Root of every error mediatagger raises on purpose."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def describe(self, names: Mapping[str, str] = API_NAMES) -> str:
        """The message, then the hint with its options spelled as ``names`` says."""
        if not self.hint:
            return self.message
        return f"{self.message} ({_OPTION.sub(lambda m: names.get(m.group(1), m.group(1)), self.hint)})"

    def __str__(self) -> str:
        return self.describe()

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class UsageError(MediaTaggerError):
    """The user asked for something that does not exist or cannot be combined."""

    exit_code = 2


class UnknownChoiceError(UsageError):
    def __init__(self, what: str, value: object, choices: Iterable[object], more: str = ""):
        self.what, self.value, self.choices = what, value, list(choices)
        listed = ", ".join(str(c) for c in self.choices)
        super().__init__(f"unknown {what} {value!r} (choose from: {listed}{more})")


class TrackError(UsageError):
    def __init__(self, path: Path | str, track: int, count: int):
        self.path, self.track, self.count = path, track, count
        have = ("no audio tracks" if count == 0 else "1 audio track (0)" if count == 1
                else f"{count} audio tracks (0-{count - 1})")
        super().__init__(f"{path}: there is no audio track {track}: the file has {have}")


class PresetError(UsageError):
    def __init__(self, path: Path | str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


class MediaError(MediaTaggerError):
    """An input file that is missing, empty, unreadable or lacks what we need."""

    def __init__(self, path: Path | str, problem: str, hint: str | None = None):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}", hint)


class FFmpegError(MediaError):
    """ffmpeg failed; carries the tail of its stderr."""

    def __init__(self, path: Path | str, problem: str, stderr: str = ""):
        self.stderr = stderr
        tail = last_line(stderr)
        super().__init__(path, f"{problem}: {tail}" if tail else problem)


class RefusedInputError(MediaError):
    """An input ffmpeg was not allowed to open: a playlist or reference file (``hls``, ``concat``, ...) that
    would make it read other files or URLs, or a format that is not audio or video (``srt``, ``tty``)."""

    def __init__(self, path: Path | str, demuxer: str, reference: bool = True):
        self.demuxer, self.reference = demuxer, reference
        problem = (f"is a playlist or reference file ({demuxer}), not media; refused: it would make ffmpeg read "
                   "other files" if reference else f"not a media file ffmpeg can read: it holds {demuxer}, "
                   "not audio or video; refused")
        super().__init__(path, problem)


class ModelLoadError(MediaTaggerError):
    def __init__(self, model: str, problem: str, hint: str | None = None):
        self.model, self.problem = model, problem
        super().__init__(f"cannot load model {model!r}: {problem}", hint)


class OutputExistsError(MediaTaggerError):
    """An output is there already and this run would write something else in its place."""

    hint = "use {force} to overwrite"

    def __init__(self, path: Path | str, why: str = "already exists"):
        self.path, self.why = path, why
        super().__init__(f"{path}: {why}")


class OutputError(MediaTaggerError):
    """An output that cannot be written: a full disk, a read-only folder, a folder removed under us."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


class OutputBusyError(MediaTaggerError):
    """Another run holds the lock on these outputs."""

    def __init__(self, path: Path | str, holder: str = ""):
        self.path, self.holder = path, holder
        who = f" (pid {holder})" if holder else ""
        super().__init__(f"{path}: another mediatagger run is writing these outputs{who}; try again when it ends")


class AnalysisError(MediaTaggerError):
    """An analysis document that is not one we can read."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so cleanup runs as for Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def last_line(text: str) -> str:
    """The last non-empty line of a tool's stderr, for a one-line message."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
