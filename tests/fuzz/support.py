"""What every fuzz property shares: the example budget, the hang guard and the one allowed failure.

A reader of outside data may end in exactly two ways: a result, or the project's own error
(``MediaTaggerError``) whose message is one line and names the file it read. ``outcome`` runs a
reader under a wall-clock guard and checks that; any other exception fails the property.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

from mediatagger.cli import FLAGS
from mediatagger.errors import MediaTaggerError

EXAMPLES = int(os.environ.get("MEDIATAGGER_FUZZ_EXAMPLES", "100"))
LIMIT_S = 10.0        # one example's wall-clock limit (a shared 2-core CI machine; each takes milliseconds)
MESSAGE_CHARS = 2000  # a one-line message longer than this is a dump, not a message
WATCHDOG_S = 60.0     # past an example's limit: a hang in C code ends the run (exit 1, tracebacks shown)

T = TypeVar("T")


def fuzz_settings(share: float = 1.0) -> settings:
    """The settings of one property: ``share`` of the example budget, no example database (so a CI
    run is the same every time: ``derandomize``), unless ``MEDIATAGGER_FUZZ_RANDOM=1``."""
    return settings(max_examples=max(10, round(EXAMPLES * share)), deadline=None, database=None,
                    derandomize=os.environ.get("MEDIATAGGER_FUZZ_RANDOM") != "1", print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


class Hang(BaseException):
    """An example ran past ``LIMIT_S`` (a BaseException, so no ``except Exception`` in the code swallows it)."""


@contextmanager
def bounded(limit_s: float = LIMIT_S) -> Iterator[None]:
    """Interrupt the block with ``Hang`` after ``limit_s`` (checked again at its end, for time spent in C).

    SIGALRM's handler runs only between Python bytecodes, so a hang inside one C call (``Fraction("1e99999999")``
    building a hundred-million-digit integer) never reaches it: faulthandler's watchdog thread, which needs no
    interpreter, then ends the whole run after ``WATCHDOG_S`` with every thread's traceback on stderr."""

    def ring(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {limit_s} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    faulthandler.dump_traceback_later(limit_s + WATCHDOG_S, exit=True)
    started = time.monotonic()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    spent = time.monotonic() - started
    if spent > limit_s:
        raise Hang(f"took {spent:.1f} s")


def check_message(exc: MediaTaggerError, names: Path | str | None = None) -> str:
    """The error's message as the CLI prints it: one line, not a dump, naming ``names`` (the file read)."""
    for message in (str(exc), exc.describe(FLAGS)):
        assert message, f"{type(exc).__name__} with no message"
        assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
        assert len(message) <= MESSAGE_CHARS, f"{len(message)} characters: {message[:200]!r}..."
        if names is not None:
            assert str(names) in message, f"does not name {names}: {message!r}"
    return str(exc)


def outcome(read: Callable[[], T], names: Path | str | None = None,
            limit_s: float = LIMIT_S) -> T | MediaTaggerError:
    """``read()``'s result, or the MediaTaggerError it raised (checked); anything else fails."""
    try:
        with bounded(limit_s):
            return read()
    except MediaTaggerError as exc:
        check_message(exc, names)
        return exc


def tally(what: str) -> None:
    """Count ``what`` in hypothesis' statistics (``--hypothesis-show-statistics``) when inside a property."""
    from hypothesis import event
    from hypothesis.control import currently_in_test_context

    if currently_in_test_context():
        event(what)
