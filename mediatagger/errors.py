"""Typed errors. Each carries the bad value; only cli.py turns them into messages and exit codes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class MediaTaggerError(Exception):
    """Root of every error mediatagger raises on purpose."""

    exit_code = 1


class UsageError(MediaTaggerError):
    """The user asked for something that does not exist or cannot be combined."""

    exit_code = 2


class UnknownChoiceError(UsageError):
    def __init__(self, what: str, value: object, choices: Iterable[object]):
        self.what, self.value, self.choices = what, value, list(choices)
        listed = ", ".join(str(c) for c in self.choices)
        super().__init__(f"unknown {what} {value!r} (choose from: {listed})")


class TrackError(UsageError):
    def __init__(self, path: Path, track: int, count: int):
        self.path, self.track, self.count = path, track, count
        have = "no audio tracks" if count == 0 else f"audio tracks 0-{count - 1}"
        super().__init__(f"{path}: there is no audio track {track} (the file has {have})")


class PresetError(UsageError):
    def __init__(self, path: Path | str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


class MediaError(MediaTaggerError):
    """An input file that is missing, empty, unreadable or lacks what we need."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


class FFmpegError(MediaError):
    """ffmpeg failed; carries the tail of its stderr."""

    def __init__(self, path: Path | str, problem: str, stderr: str = ""):
        self.stderr = stderr
        tail = last_line(stderr)
        super().__init__(path, f"{problem}: {tail}" if tail else problem)


class ModelLoadError(MediaTaggerError):
    def __init__(self, model: str, problem: str):
        self.model, self.problem = model, problem
        super().__init__(f"cannot load model {model!r}: {problem}")


class OutputExistsError(MediaTaggerError):
    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: already exists (use --force to overwrite)")


class AnalysisError(MediaTaggerError):
    """An analysis document that is not one we can read."""

    def __init__(self, path: Path | str, problem: str):
        self.path = path
        super().__init__(f"{path}: {problem}")


def last_line(text: str) -> str:
    """The last non-empty line of a tool's stderr, for a one-line message."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
