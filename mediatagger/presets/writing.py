"""A preset as YAML, every key with its doc as a trailing comment (``mediatagger presets show``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from mediatagger.presets.options import Preset, Rules, rules_of

HEADER = ("# mediatagger preset: every key, with its doc. A preset file may set any subset of these keys;\n"
          "# what it leaves out keeps the default. An unknown key is an error. Command-line flags override it.\n")
COMMENT_COLUMN = 32


def to_yaml(preset: Preset) -> str:
    """The whole preset, section by section; ``load`` reads it back to an equal preset."""
    return HEADER + "\n".join(lines(preset, "")) + "\n"


def lines(options: Any, indent: str) -> list[str]:
    out: list[str] = []
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        doc = note(rules_of(f), value)
        if dataclasses.is_dataclass(value):
            out += ["", commented(f"{indent}{f.name}:", doc), *lines(value, indent + "  ")]
        elif isinstance(value, dict) and value:
            out.append(commented(f"{indent}{f.name}:", doc))
            out += [f"{indent}  {flow(key)}: {flow(item)}" for key, item in value.items()]
        else:
            out.append(commented(f"{indent}{f.name}: {flow(value)}", doc))
    return out


def note(rules: Rules, value: Any) -> str:
    """A key's comment: its doc, then the values it takes (a table's are left to its doc)."""
    listed = rules.allowed() if not isinstance(value, dict) else ()
    return f"{rules.doc} ({' | '.join(listed)})" if listed else rules.doc


def commented(line: str, doc: str) -> str:
    return f"{line.ljust(COMMENT_COLUMN - 2)}  # {doc}" if doc else line


def flow(value: Any) -> str:
    """One value as YAML on one line: lists and tables in flow style, a scalar as plain as it can be."""
    if isinstance(value, (tuple, dict)) or dataclasses.is_dataclass(value):
        return dump([plain(value)]).strip()[1:-1]
    return dump(value).removesuffix("...\n").strip()


def dump(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=1 << 30)


def plain(value: Any) -> Any:
    """Dataclasses, tuples and tables as the dicts and lists YAML writes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value
