"""Reliability cases: each fault test names the case it proves and what the user sees.

``@case(area, what, sees)`` marks a test; ``tests/test_reliability_doc.py`` reads every such mark from
the test sources (with ``ast``, so the table needs no test run) and checks that ``docs/reliability.md``
is the table they make. ``MEDIATAGGER_WRITE_DOCS=1 pytest tests/test_reliability_doc.py`` rewrites it.
Arguments must be string literals, one ``@case`` per case (stack them on a parametrized test).
"""

from __future__ import annotations

import pytest

AREAS = ("Security", "Readers", "Soak", "Disk and folders", "Batches and reruns", "Killed processes", "Names",
         "Media at the edges", "Model and VAD", "Web console")


def case(area: str, what: str, sees: str) -> pytest.MarkDecorator:
    if area not in AREAS:
        raise ValueError(f"unknown reliability area {area!r}: one of {AREAS}")
    return pytest.mark.reliability(area=area, what=what, sees=sees)
