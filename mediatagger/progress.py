"""Progress, one signature for every front end: ``callback(Progress)``.

A job reports each stage (``extract track 0``, ``vad track 0``, ``tag track 0``, ``scan track 0``,
``refine track 0``, ``cut clips``, ``join reel``, ``burn``) from 0 to its total; every stage ends
with ``done == total``. The CLI draws bars from it, the web console moves its progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    stage: str      # what is being done
    done: float     # how much of it, in ``unit``
    total: float
    unit: str = ""  # "s" (media seconds), "seg", "win", "clip" or ""

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


Callback = Callable[[Progress], None]


def ignore(event: Progress) -> None:
    """The callback that shows nothing."""


class Stage:
    """One stage of a job: ``update(done)`` as it goes, ``finish()`` at the end (reports 100 %)."""

    def __init__(self, callback: Callback, name: str, total: float, unit: str = ""):
        self.callback, self.name, self.total, self.unit = callback, name, total, unit
        callback(Progress(name, 0, total, unit))

    def update(self, done: float) -> None:
        self.callback(Progress(self.name, min(done, self.total), self.total, self.unit))

    def after(self, base: float) -> Callable[[float], None]:
        """An update for a part of the stage that starts ``base`` in: its own progress, added to ``base``."""
        return lambda done: self.update(base + done)

    def finish(self) -> None:
        self.update(self.total)
