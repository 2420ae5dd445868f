"""Requests that fail, as the server's log and the visitor see them: one line each, no server path.

Any HTTP client can send any value to any event of the page (``/gradio_api/queue/join`` with its
``fn_index``), not just what the page's widgets offer. Left alone, Gradio prints a traceback for
each such request (its own choice checks raise errors that ask for one), a log flood anyone can
cause. ``install`` puts every event's call behind one door:

- each input is checked first against its widget -- a choice among the widget's choices (the
  visitor's own, when the page changed them), a number in the slider's range, a file or nothing --
  and a bad one is refused as ``unknown language 'xyz' (choose from: auto, zh, ...)``;
- a refusal (a ``gr.Error``, ours or Gradio's) is one log line ``mediatagger: refused <event>
  (<client>): <message>`` and the same message, free of server paths, to the visitor;
- anything else is a bug: one log line ``mediatagger: internal error, please report it: ...`` (and
  its traceback with ``--debug``), and only that sentence to the visitor.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Sequence
from typing import Any

import gradio as gr
from gradio.exceptions import Error, InvalidPathError

from mediatagger import tags
from mediatagger.errors import UnknownChoiceError
from mediatagger.exporters.text import one_line

LOG_LIMIT = 500      # characters of one log line
VALUE_LIMIT = 40     # characters of a refused value shown back
INTERNAL = "internal error, please report it"
NAME = "mediatagger_name"   # the attribute ``named`` gives a widget
CHECK = "mediatagger_check"  # the attribute ``checked`` gives a widget whose values are not a fixed list
MAX_EXTRA_LABELS = 20        # AudioSet classes one analysis may ask for as labels
SUBFOLDERS = r"/(?:[^\s/'\"<>|]+/)*"  # after one of the server's folders: the folders in it, up to a base name
# an absolute path's folders (the base name after them is kept): not inside a word, a number (1001/30000),
# a URL's host part or a relative path; after ``file://`` too
FOLDERS = re.compile(r"(?:(?<=file://)|(?<![\w.:/~-]))/(?:[^\s/'\"<>|]+/)+")


def named(component: Any, name: str) -> Any:
    """``component``, named in refusals as ``name`` ("language", "audio track")."""
    setattr(component, NAME, name)
    return component


def checked(component: Any, check: Any) -> Any:
    """``component``, its values checked by ``check(what, value) -> problem or None`` instead of
    against its choices (a dropdown that takes typed values)."""
    setattr(component, CHECK, check)
    return component


def server_folders() -> list[str]:
    """The working, home and temp folders (as named and as resolved), the longest first."""
    given = {os.getcwd(), os.path.expanduser("~"), tempfile.gettempdir()}
    folders = {f.rstrip("/") for f in given | {os.path.realpath(f) for f in given} if f.startswith("/")}
    return sorted((f for f in folders if f), key=len, reverse=True)


def unpathed(text: str) -> str:
    """``text`` with the folders of every absolute path in it left out: ``/tmp/x/input/talk.mp4`` -> ``talk.mp4``
    (the server's own folders first, spaces and all)."""
    for folder in server_folders():
        text = re.sub(re.escape(folder) + SUBFOLDERS, "", text)
    return FOLDERS.sub("", text)


def clipped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Shown:
    """A value as a refusal shows it: its repr, cut short."""

    def __init__(self, value: Any):
        self.text = clipped(repr(value), VALUE_LIMIT)

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def log(line: str) -> None:
    """One line on the server's stderr, written at once (one write: threads do not interleave it)."""
    sys.stderr.write(f"mediatagger: {clipped(one_line(line), LOG_LIMIT)}\n")
    sys.stderr.flush()


# --- what each widget accepts ---------------------------------------------------------------------

def name_of(component: Any) -> str:
    label = getattr(component, "label", None)
    return getattr(component, NAME, None) or (label if isinstance(label, str) else None) or \
        type(component).__name__.lower()


def choice_values(component: Any) -> list[Any]:
    return [value for _, value in component.choices]


def many_problem(what: str, value: Any, values: list[Any]) -> str | None:
    if not isinstance(value, list):
        return f"{what}: expected a list of choices, got {Shown(value)}"
    bad = next((v for v in value if v not in values), None)
    return None if bad is None else UnknownChoiceError(what, Shown(bad), values).message


def number_problem(what: str, value: Any, low: float | None, high: float | None) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"{what}: not a number: {Shown(value)}"
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{what}: {value} is out of range ({low} to {high})"
    return None


def extra_label_choices() -> list[str]:
    """The class names the page offers as extra labels (those not ours already), A to Z."""
    return sorted(tags.audioset_labels().values(), key=str.lower)


def extra_labels_problem(what: str, value: Any) -> str | None:
    """Extra AudioSet labels: a list of class names (any case), each offered by the page."""
    if not isinstance(value, list):
        return f"{what}: expected a list of AudioSet class names, got {Shown(value)}"
    if len(value) > MAX_EXTRA_LABELS:
        return f"{what}: {len(value)} classes asked for, {MAX_EXTRA_LABELS} at most"
    for name in value:
        text = name if isinstance(name, str) and len(name) <= 100 else None
        if text is not None and tags.audioset_label(text) is not None:
            continue
        if text is not None and tags.own_label(text) is not None:
            return f"{what}: {Shown(name)} is one of mediatagger's own labels already"
        return f"unknown {what} {Shown(name)} (an AudioSet class name, such as Crowd, Dog or \"Gunshot, gunfire\")"
    return None


def problem(component: Any, shown: Any, value: Any) -> str | None:
    """What is wrong with ``value`` for ``component`` (as ``shown`` on the visitor's page), or None."""
    what = name_of(component)
    if getattr(component, CHECK, None) is not None:
        return getattr(component, CHECK)(what, value)
    if isinstance(shown, gr.CheckboxGroup) or (isinstance(shown, gr.Dropdown) and shown.multiselect):
        return many_problem(what, value, choice_values(shown))
    if isinstance(shown, gr.Dropdown | gr.Radio):
        values = choice_values(shown)
        return None if value in values else UnknownChoiceError(what, Shown(value), values).message
    if isinstance(shown, gr.Slider | gr.Number):
        return number_problem(what, value, shown.minimum, shown.maximum)
    if isinstance(shown, gr.File | gr.Audio | gr.Video):
        return None if value is None or isinstance(value, dict) else \
            f"{what}: expected an uploaded file, got a {type(value).__name__}"
    return None


def selection_problem(fn: Any, event: Any) -> str | None:
    """A click in a table comes with the cell clicked (Gradio reads its ``index`` and ``value``)."""
    if not any(trigger == "select" for _, trigger in fn.targets):
        return None
    data = getattr(event, "_data", None)
    return None if isinstance(data, dict) and {"index", "value"} <= data.keys() else "a selection without its cell"


def check(fn: Any, inputs: Sequence[Any], state: Any, event: Any = None) -> None:
    """Refuse the first input of ``fn``'s call its widget would not give."""
    if len(inputs) < len(fn.inputs):
        raise Error(f"{len(fn.inputs)} values expected, {len(inputs)} sent", print_exception=False)
    if found := selection_problem(fn, event):
        raise Error(found, print_exception=False)
    for component, value in zip(fn.inputs, inputs):
        if component.stateful:  # the session's own value; what the client sent is not used
            continue
        shown = state[component._id] if state is not None and component._id in state else component
        found = problem(component, shown, value)
        if found:
            raise Error(html.escape(found, quote=False), print_exception=False)


# --- one door for every call ----------------------------------------------------------------------

def client_of(request: Any) -> str:
    request = request[0] if isinstance(request, list) and request else request
    client = getattr(getattr(request, "request", None), "client", None) or getattr(request, "client", None)
    return getattr(client, "host", None) or "?"


def refused(exc: Exception) -> Error:
    """Gradio's refusal of a value as it reads it (a file not uploaded here, a malformed file), as ours."""
    if isinstance(exc, Error):
        return exc
    if isinstance(exc, InvalidPathError):
        return Error("not a file uploaded to this console", print_exception=False)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Error(html.escape(f"a value the console does not accept: {first}", quote=False), print_exception=False)


def reply(exc: Exception, event: str, client: str, debug: bool) -> Error:
    """The one log line for a failed call, and the error the visitor gets."""
    if isinstance(exc, Error):
        message = unpathed(one_line(exc.message))
        log(f"refused {event} ({client}): {message}")
        return Error(message, duration=exc.duration, title=exc.title, print_exception=False)
    log(f"{INTERNAL}: {event} ({client}): {type(exc).__name__}: {exc}" + ("" if debug else where()))
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    return Error(INTERNAL, print_exception=False)


class OneLine(logging.Filter):
    """Uvicorn's report of a request that failed before any event ran (an ``fn_index`` that does not
    exist), as one line instead of its traceback; ``--debug`` keeps the traceback."""

    def __init__(self, debug: bool):
        super().__init__()
        self.debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        if self.debug or not record.exc_info or record.exc_info[1] is None:
            return True
        exc = record.exc_info[1]
        log(f"{INTERNAL}: a request: {type(exc).__name__}: {exc}{where()}")
        return False


DEBUG_HINT = {"spelling": "verbose=True"}   # how the front end that started the console turns tracebacks on


def where() -> str:
    return f" ({DEBUG_HINT['spelling']} shows where)"


def install(demo: gr.Blocks, debug: bool = False, debug_hint: str = "verbose=True") -> None:
    """Every call of ``demo``'s events goes through ``check`` and ``reply``; uvicorn's own reports of
    failed requests are one line. ``debug_hint``: how the log's readers turn tracebacks on (the command
    line's ``--debug``, the API's ``verbose=True``)."""
    DEBUG_HINT["spelling"] = debug_hint
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, OneLine) for f in server_log.filters):
        server_log.addFilter(OneLine(debug))
    run, read = demo.process_api, demo.preprocess_data

    async def preprocess_data(*args: Any, **kwargs: Any) -> Any:
        try:
            return await read(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 -- Gradio refusing what it was sent, whatever its type
            raise refused(exc) from None

    async def process_api(block_fn: Any, inputs: list[Any], state: Any = None, request: Any = None,
                          **kwargs: Any) -> Any:
        fn = demo.fns[block_fn] if isinstance(block_fn, int) else block_fn
        try:
            check(fn, inputs, state, kwargs.get("event_data"))
            return await run(block_fn, inputs, state, request, **kwargs)
        except Exception as exc:  # noqa: BLE001 -- one line for anything, never a traceback per request
            raise reply(exc, fn.api_name or fn.name or "event", client_of(request), debug) from None

    demo.preprocess_data = preprocess_data  # type: ignore[method-assign]
    demo.process_api = process_api  # type: ignore[method-assign, assignment]

