"""How the add-on gets an analysis of a strip's media: the Python API when Blender's Python can import
mediatagger, else the ``mediatagger`` command. No bpy here.

Both ways run ``mediatagger tag``'s job for one input (``Tagger.run`` with the JSON only): an
analysis of the same bytes and settings already in the output folder is reused, not redone, and
one made from other bytes or settings is refused unless ``replace``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import reading
from .shared import MediaError, MediaTaggerError, UnknownChoiceError, UsageError

RUN_WITH = ("AUTO", "API", "COMMAND")
FOLDER = "mediatagger"          # the default output folder's name, beside the .blend or the media
_TAGGERS: dict[tuple[str, str], Any] = {}   # (model, vad) -> a Tagger: its models load once per Blender session


@dataclass(frozen=True)
class Settings:
    """What to run: the add-on's preferences, with the output folder resolved."""

    out_dir: Path
    model: str = ""        # empty: mediatagger's default (its preset's model)
    vad: str = ""          # empty: the preset's VAD
    run_with: str = "AUTO"  # AUTO: the API when importable, else the command
    command: str = "mediatagger"
    replace: bool = False  # replace an analysis made from other bytes or settings (--force)


def output_dir(setting: str, blend_file: str, media: Path) -> Path:
    """Where analyses go: ``setting`` (``//x`` is beside the .blend when it is saved, else beside the
    media); empty: a ``mediatagger`` folder beside the .blend, or beside the media when unsaved."""
    base = Path(blend_file).parent if blend_file else media.parent
    if not setting:
        return base / FOLDER
    if setting.startswith("//"):
        return base / setting[2:]
    return Path(setting).expanduser()


def analysis_path(media: Path, settings: Settings) -> Path:
    """Where ``mediatagger tag`` writes the analysis of ``media``."""
    try:
        from mediatagger.files import output_stem
    except ImportError:  # the add-on without mediatagger here: the stem as it is
        return settings.out_dir / f"{media.stem}.analysis.json"
    return settings.out_dir / f"{output_stem(media)}.analysis.json"


def has_api() -> bool:
    """Whether this Python can import mediatagger's API."""
    try:
        from mediatagger import api  # noqa: F401
    except ImportError:
        return False
    return True


def analyse(media: Path, settings: Settings, progress: Callable[[float], None] | None = None) -> reading.Tagged:
    """The analysis of ``media`` (made, or reused from ``settings.out_dir``)."""
    if not media.is_file():
        raise MediaError(media, "media file not found")
    mode = settings.run_with
    if mode not in RUN_WITH:
        raise UnknownChoiceError("way to run mediatagger", mode, RUN_WITH)
    if mode == "API" or (mode == "AUTO" and has_api()):
        return with_api(media, settings, progress)
    return with_command(media, settings)


def with_api(media: Path, settings: Settings, progress: Callable[[float], None] | None = None) -> reading.Tagged:
    try:
        from mediatagger import api
    except ImportError as exc:
        raise UsageError(f"cannot import mediatagger in Blender's Python: {exc}",
                       "install it there, or run the mediatagger command instead") from None
    key = (settings.model, settings.vad)
    if key not in _TAGGERS:
        _TAGGERS[key] = api.Tagger(model=settings.model or None, vad=settings.vad or None)
    report = (lambda p: progress(p.done / p.total if p.total else 0.0)) if progress else (lambda p: None)
    _TAGGERS[key].run(media, settings.out_dir, ["json"], force=settings.replace, progress=report)
    path = analysis_path(media, settings)
    return reading.from_analysis(api.load(path), path)


def command_line(media: Path, settings: Settings, executable: str) -> list[str]:
    """The ``mediatagger tag`` arguments for one input (a list: no shell ever sees it)."""
    args = [executable, "tag", str(media), "-o", str(settings.out_dir), "--export", "json", "-q"]
    args += ["--model", settings.model] if settings.model else []
    args += ["--vad", settings.vad] if settings.vad else []
    return args + (["--force"] if settings.replace else [])


def find_command(command: str) -> str:
    """The mediatagger executable: a path, or a name on PATH."""
    found = shutil.which(os.path.expanduser(command or "mediatagger"))
    if found is None:
        raise UsageError(f"mediatagger command not found: {command or 'mediatagger'!r}",
                       "set its path in the add-on's preferences, or pip install mediatagger")
    return found


def with_command(media: Path, settings: Settings) -> reading.Tagged:
    args = command_line(media, settings, find_command(settings.command))
    try:
        done = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise MediaTaggerError(f"cannot run {args[0]}: {exc}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit code {done.returncode}"
        raise MediaTaggerError(f"mediatagger failed on {media.name}: {why}")
    return reading.read(analysis_path(media, settings))


def forget_taggers() -> None:
    """Let the loaded models go (the add-on is being disabled)."""
    _TAGGERS.clear()
