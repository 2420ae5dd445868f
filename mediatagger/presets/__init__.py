"""YAML presets -> frozen, typed option objects. Unknown keys, wrong types and values out of range are errors.

The dataclasses in ``options`` are the one source of defaults, docs and choices. ``default`` is those
dataclasses themselves; every other shipped preset is a YAML overlay on them, kept in this package
and read through ``importlib.resources`` (so it ships in the wheel). ``--preset`` takes a shipped
name or the path of a file, which may set any subset of the keys ``to_yaml(Preset())`` shows.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mediatagger.errors import PresetError, UnknownChoiceError
from mediatagger.presets.checks import build, check_start_tc, hints, validate
from mediatagger.presets.options import (
    BURN_CHOICES,
    OUTPUT_NAMES,
    RESOLVE_COLORS,
    AssOptions,
    AssStyle,
    ClipOptions,
    EdlOptions,
    EventOptions,
    ModelOptions,
    Preset,
    ReelOptions,
    Rules,
    SafeZone,
    ScanOptions,
    SpanOptions,
    TextOptions,
    VadOptions,
    rules_of,
)
from mediatagger.presets.writing import to_yaml

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable  # importlib.abc before Python 3.11

__all__ = ["BURN_CHOICES", "OUTPUT_NAMES", "RESOLVE_COLORS",
           "AssOptions", "AssStyle", "ClipOptions", "EdlOptions", "EventOptions",
           "ModelOptions", "Preset", "ReelOptions", "SafeZone", "ScanOptions", "SpanOptions", "TextOptions",
           "VadOptions", "build",
           "check_start_tc", "choices", "load", "override", "parse", "shipped", "to_yaml", "validate"]

DEFAULT = "default"
DEFAULT_DESCRIPTION = "every option at its default: json, ass, edl and clips of laughter and applause"
YAML_SUFFIXES = (".yaml", ".yml")


def overlays() -> dict[str, Traversable]:
    """The shipped YAML presets by name, as package resources."""
    found = resources.files("mediatagger.presets").iterdir()
    return {item.name.removesuffix(".yaml"): item for item in found if item.name.endswith(".yaml")}


def shipped() -> dict[str, str]:
    """Shipped preset name -> its description: ``default`` first, then the rest by name."""
    return {DEFAULT: DEFAULT_DESCRIPTION, **{name: load(name).description for name in sorted(overlays())}}


def load(name_or_path: str = DEFAULT) -> Preset:
    """A shipped preset by name, or a YAML file by path, laid over the defaults and checked."""
    if name_or_path == DEFAULT:
        return Preset()
    return parse(*read(name_or_path))


def read(name_or_path: str) -> tuple[str, str]:
    """The text of a shipped preset or a preset file, and the name errors give it."""
    source: Traversable | Path | None = overlays().get(name_or_path)
    if source is None:
        source = Path(name_or_path)
        if source.suffix not in YAML_SUFFIXES and not source.exists():
            raise UnknownChoiceError("preset", name_or_path, shipped(), f"; or a YAML file's path{_nearby(source)}")
    try:
        return source.read_text(encoding="utf-8"), str(source)
    except FileNotFoundError:
        raise PresetError(str(source), "preset file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PresetError(str(source), f"cannot read preset: {str(exc).splitlines()[0]}") from None


def _nearby(name: Path) -> str:
    """``, e.g. presets/strict.yaml`` when a YAML file of that name lies in ./presets or here."""
    for folder in (Path("presets"), Path(".")):
        for suffix in YAML_SUFFIXES:
            candidate = folder / f"{name.name}{suffix}"
            if candidate.is_file():
                return f", e.g. {candidate.as_posix()}"
    return ""


def parse(text: str, source: str) -> Preset:
    """A preset from YAML text; ``source`` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PresetError(source, f"cannot read preset: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise PresetError(source, "cannot read preset: it is nested too deeply") from None
    except ValueError as exc:   # PyYAML's int() of a number of more than 4300 digits
        raise PresetError(source, f"cannot read preset: {str(exc).splitlines()[0]}") from None
    preset = build(Preset, {} if data is None else data, source)
    validate(preset, source)
    return preset


def override(preset: Preset, section: str, source: str = "command line", **changes: Any) -> Preset:
    """A copy of ``preset`` with the given fields of one section replaced (None leaves a field), checked
    as a preset file is: a bad value is a PresetError naming ``source`` and the key."""
    changes = {key: value for key, value in changes.items() if value is not None}
    if not changes:
        return preset
    current = getattr(preset, section)
    changed = dataclasses.replace(preset, **{section: build(type(current), changes, source, section, current)})
    validate(changed, source)
    return changed


def choice_rules() -> dict[str, Rules]:
    """``section.key`` -> rules, for every option with a fixed set of values."""
    sections = [(s.name, hints(Preset)[s.name]) for s in dataclasses.fields(Preset)]
    return {f"{name}.{f.name}": rules_of(f) for name, cls in sections if dataclasses.is_dataclass(cls)
            for f in dataclasses.fields(cls) if rules_of(f).choices}


def choices(section: str, key: str) -> tuple[str, ...]:
    """The values ``section.key`` takes (a list's items), e.g. ``choices("clips", "cut") == ("accurate", "fast")``."""
    rules = choice_rules().get(f"{section}.{key}")
    if rules is None:
        raise UnknownChoiceError("option with choices", f"{section}.{key}", choice_rules())
    return rules.allowed()
