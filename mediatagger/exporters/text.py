"""Cleaning free text (labels, transcripts) before any format sees it."""

from __future__ import annotations

import unicodedata

DROPPED = ("Cs", "Cn", "Co")     # lone surrogates, unassigned and private-use code points
BREAKS = ("Cc", "Zl", "Zp")      # control characters and line/paragraph separators


def one_line(text: str) -> str:
    """Printable text on one line: control characters and line breaks become single spaces."""
    kept = "".join(" " if unicodedata.category(c) in BREAKS else c for c in text
                   if unicodedata.category(c) not in DROPPED)
    return " ".join(kept.split())


def shows_anything(text: str) -> bool:
    """True when some character is more than whitespace or an invisible format/control character."""
    return any(unicodedata.category(c)[0] not in "CZ" for c in text)


def clean_lines(text: str) -> tuple[str, ...]:
    """Text as subtitle lines: each cleaned with ``one_line``; lines that show nothing are dropped."""
    lines = (one_line(line) for line in text.replace("\r\n", "\n").split("\n"))
    return tuple(line for line in lines if shows_anything(line))
