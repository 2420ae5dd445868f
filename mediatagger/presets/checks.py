"""Mapping -> option dataclasses, and every check of a preset, read from the fields' ``Rules``.

``build`` only gives the data its shape (unknown keys are errors there); ``validate`` then checks
types, choices, ranges and forms, whether the preset came from a file or from ``override``. Every
message is one line: ``<file>: <section>.<key> = <value> <why>``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import reprlib
import typing
from typing import Any

from mediatagger.errors import PresetError, UsageError
from mediatagger.presets.options import START_TC, EventOptions, Preset, ReelOptions, Rules, SpanOptions, rules_of

SCALARS: dict[type, type | tuple[type, ...]] = {int: int, float: (int, float), str: str, bool: bool}

_SHORT = reprlib.Repr()   # a value in a message: a glimpse, never the whole (an alias bomb expands to millions)
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 60, 60, 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6


def show(value: Any) -> str:
    """``repr(value)`` cut short, for a one-line message."""
    try:
        return _SHORT.repr(value)
    except ValueError:   # an int of more than 4300 digits has no decimal repr
        return f"<a {value.bit_length()}-bit integer>" if isinstance(value, int) else f"<{type(value).__name__}>"


@functools.cache
def hints(cls: Any) -> dict[str, Any]:
    """A dataclass's field types, resolved once."""
    return typing.get_type_hints(cls)


def join(where: str, key: object) -> str:
    name = key if isinstance(key, str) and len(key) <= 60 else show(key)
    return f"{where}.{name}" if where else name


def fail(source: str, where: str, value: Any, why: str) -> PresetError:
    return PresetError(source, f"{where} = {show(value)} {why}")


def build(cls: type, data: Any, source: str, where: str = "", base: Any = None) -> Any:
    """``cls`` (or a copy of ``base``) with the keys of the mapping ``data`` set, each given its shape:
    lists become tuples, mappings the dataclasses they stand for. Unknown keys name the allowed ones."""
    if not isinstance(data, dict):
        raise fail(source, where, data, "must be a mapping") if where else \
            PresetError(source, f"a preset must be a mapping of sections, got {show(data)}")
    allowed = [f.name for f in dataclasses.fields(cls)]
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise PresetError(source, f"unknown key {join(where, unknown[0])!r} (allowed: {', '.join(allowed)})")
    types = hints(cls)
    values = {key: shape(value, types[key], join(where, key), source) for key, value in data.items()}
    return dataclasses.replace(cls() if base is None else base, **values)


def shape(value: Any, hint: Any, where: str, source: str) -> Any:
    """``value`` in the shape ``hint`` wants, where it has one; the wrong type is left for ``validate``."""
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return build(typing.cast(type, hint), value, source, where)
    if typing.get_origin(hint) is tuple and isinstance(value, (list, tuple)):
        return tuple(shape(v, args[0], where, source) for v in value)
    if typing.get_origin(hint) is dict and isinstance(value, dict):
        return {k if isinstance(k, str) else join("", k): shape(v, args[1], join(where, k), source)
                for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value) if value.bit_length() <= 1000 else math.inf if value > 0 else -math.inf
    return value


def validate(preset: Preset, source: str) -> None:
    """Every field against its type and rules, then the checks that tie fields together."""
    check_fields(preset, source, "")
    check_levels(preset.spans, source)
    check_audioset_labels(preset.events, source)
    check_platform(preset.reel, source)


def check_fields(options: Any, source: str, where: str) -> None:
    types = hints(options.__class__)
    for f in dataclasses.fields(options):
        check(getattr(options, f.name), types[f.name], rules_of(f), join(where, f.name), source)


def check(value: Any, hint: Any, rules: Rules, where: str, source: str) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, typing.cast(type, hint)):
            raise fail(source, where, value, "must be a mapping of its keys")
        check_fields(value, source, where)
    elif origin is tuple:
        check_list(value, args[0], rules, where, source)
    elif origin is dict:
        check_table(value, args[1], rules, where, source)
    else:
        check_scalar(value, hint, rules, where, source)


def check_list(value: Any, item_hint: Any, rules: Rules, where: str, source: str) -> None:
    if not isinstance(value, tuple):
        raise fail(source, where, value, "must be a list")
    if rules.nonempty and not value:
        raise fail(source, where, [], "must name at least one of " + ", ".join(rules.allowed()))
    for i, item in enumerate(value):
        check(item, item_hint, rules, f"{where}[{i}]", source)


def check_table(value: Any, value_hint: Any, rules: Rules, where: str, source: str) -> None:
    if not isinstance(value, dict):
        raise fail(source, where, value, "must be a mapping")
    for key, item in value.items():
        keys = rules.allowed_keys()
        if keys and key not in keys:
            listed = ", ".join(keys[:14]) + (" or an AudioSet class as a label (DOG, GUNSHOT_GUNFIRE ...)"
                                             if len(keys) > 14 else "")
            raise fail(source, join(where, key), item, f"names {show(key)}, which is not one of {listed}")
        check(item, value_hint, rules, join(where, key), source)


def check_scalar(value: Any, hint: type, rules: Rules, where: str, source: str) -> None:
    if not isinstance(value, SCALARS[hint]) or (hint is not bool and isinstance(value, bool)):
        raise fail(source, where, value, f"must be {hint.__name__}")
    why = rules.problem(value)
    if why:
        raise fail(source, where, value, why)


def check_levels(spans: SpanOptions, source: str) -> None:
    """A span ends only at or below the level it starts at: off levels are not above on levels."""
    if spans.off_level > spans.on_level:
        raise fail(source, "spans.off_level", spans.off_level, f"is above spans.on_level ({spans.on_level})")
    for label, off in spans.off_by_label.items():
        on = spans.thresholds(label)[0]
        if off > on:
            raise fail(source, f"spans.off_by_label.{label}", off, f"is above {label}'s on level ({on})")


def check_audioset_labels(events: EventOptions, source: str) -> None:
    """Each extra label names an AudioSet class that is not one of our labels, and needs AudioSet."""
    from mediatagger import tags

    for i, name in enumerate(events.audioset_labels):
        where = f"events.audioset_labels[{i}]"
        own = tags.own_label(name)
        if own is not None:
            raise fail(source, where, name, f"is one of mediatagger's own labels ({own}) already")
        if tags.audioset_label(name) is None:
            raise fail(source, where, name, "is not an AudioSet class name (such as Dog or \"Gunshot, gunfire\")")
    if events.audioset_labels and not events.uses_audioset():
        raise fail(source, "events.audioset_labels", list(events.audioset_labels),
                   "needs events.detector audioset or fused")


def check_platform(reel: ReelOptions, source: str) -> None:
    """The platform names a safe zone of the table."""
    if reel.platform not in reel.zones():
        raise fail(source, "reel.platform", reel.platform,
                   "names no platform of reel.safe_zones (" + ", ".join(reel.zones()) + ")")


def check_start_tc(text: str) -> str:
    """``source`` or a timecode such as ``01:00:00:00`` / ``01:00:00;00`` (frames are checked per rate later)."""
    if not START_TC.fits(text):
        raise UsageError(f"start timecode {show(text)} is not {START_TC.says}")
    return text
