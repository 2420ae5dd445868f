"""docs/reliability.md is generated from the ``@case`` marks on the tests: a stale table fails here."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from tests.reliability import AREAS

TESTS = Path(__file__).resolve().parent
DOC = TESTS.parent / "docs" / "reliability.md"
HEAD = """# Reliability: what you see when things go wrong

Every row is a test that drives the real program (a subprocess, real ffmpeg, the real server) and checks
the exit code, the message, that inputs are untouched and that no partial or stale output remains.
This page is generated from those tests (`tests/reliability.py`); `tests/test_reliability_doc.py` fails
when it is stale. Rewrite it with `MEDIATAGGER_WRITE_DOCS=1 python -m pytest tests/test_reliability_doc.py`.
"""


def cases() -> list[tuple[str, str, str, str]]:
    """(area, what, sees, test) for every ``@case(...)`` decorator under tests/."""
    found = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", getattr(deco.func, "attr", "")) == "case":
                    area, what, sees = (ast.literal_eval(arg) for arg in deco.args)
                    found.append((area, what, sees, f"{path.relative_to(TESTS.parent)}::{node.name}"))
    return found


def table(found: list[tuple[str, str, str, str]]) -> str:
    parts = [HEAD, f"{len(found)} cases.\n"]
    for area in AREAS:
        rows = [c for c in found if c[0] == area]
        if not rows:
            continue
        parts.append(f"\n## {area}\n\n| Case | What you see | Test |\n|---|---|---|\n")
        for _, what, sees, test in rows:
            cell = (what.replace("|", "\\|"), sees.replace("|", "\\|"))
            parts.append(f"| {cell[0]} | {cell[1]} | `{test}` |\n")
    return "".join(parts)


def test_every_case_names_a_known_area():
    assert cases(), "no @case marks found"
    assert {c[0] for c in cases()} <= set(AREAS)


def test_reliability_doc_is_current():
    expected = table(cases())
    if os.environ.get("MEDIATAGGER_WRITE_DOCS"):
        DOC.write_text(expected)
    assert DOC.exists() and DOC.read_text() == expected, (
        "docs/reliability.md is stale: MEDIATAGGER_WRITE_DOCS=1 python -m pytest tests/test_reliability_doc.py")
