"""Cleaning free text (labels, transcripts) before any format sees it."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable

DROPPED = ("Cs", "Cn", "Co")     # lone surrogates, unassigned and private-use code points
BREAKS = ("Cc", "Zl", "Zp")      # control characters and line/paragraph separators
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")   # what makes a spreadsheet read a cell as a formula
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


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


def cell(value: object) -> object:
    """A CSV cell no spreadsheet reads as a formula (CSV injection, OWASP): text that starts with
    ``= + - @``, a tab or a carriage return, or with ``= + - @`` after spaces (a reader that trims them
    would see the formula), gets a leading ``'``. Numbers, and text that is exactly a number
    (``-0.5``), are left alone."""
    if not isinstance(value, str) or PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value if value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS) else value


def csv_text(rows: Iterable[Iterable[object]], lineterminator: str = "\r\n") -> str:
    """Rows as CSV text (RFC 4180 quoting: fields with a separator, quote or line break are quoted),
    every cell through ``cell``: the one way mediatagger writes CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()
