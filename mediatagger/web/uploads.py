"""Uploads that leave nothing behind: two gaps in Gradio 6's upload handling, closed here.

- An upload cut short (the tab closed, the network gone) ends Gradio's multipart parser with
  starlette's ``ClientDisconnect``, which it does not clean up after: the part received stayed in the
  upload folder for good, and the server logged a traceback. ``CleanParser`` removes its temp files
  whatever ends the parse, and a disconnect becomes the parser's own error (a 400 no one reads).
- A name Gradio refuses after the parse (``..``) left the received file behind too: ``clean_upload_fn``
  removes the parse's temp files that were not moved into place.
- ``gr.File(type="filepath")`` makes an empty ``NamedTemporaryFile`` in the cache for every file it
  hands a handler and never removes it. ``media_file`` makes that component without it.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import route_utils, routes
from gradio.data_classes import FileData
from gradio.exceptions import Error
from gradio.utils import NamedString
from gradio_client import utils as client_utils
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

CUT_SHORT = "the upload was cut short"
_PARSERS: ContextVar[list[CleanParser] | None] = ContextVar("mediatagger_upload_parsers", default=None)


class CleanParser(route_utils.GradioMultiPartParser):
    """Gradio's multipart parser, whose temp files go when the parse fails for any reason."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        made = _PARSERS.get()
        if made is not None:
            made.append(self)

    async def parse(self) -> Any:
        try:
            return await super().parse()
        except ClientDisconnect:
            self.discard()
            raise MultiPartException(CUT_SHORT) from None
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        for handle in getattr(self, "_files_to_close_on_error", []):
            with contextlib.suppress(OSError):
                handle.close()
            with contextlib.suppress(OSError):
                Path(handle.name).unlink(missing_ok=True)


def clean_upload_fn(upload_fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Gradio's ``upload_fn``, after which a failure leaves none of the files its parse received."""

    async def upload(*args: Any, **kwargs: Any) -> Any:
        token = _PARSERS.set([])
        try:
            return await upload_fn(*args, **kwargs)
        except BaseException:
            for parser in _PARSERS.get() or []:
                parser.discard()
            raise
        finally:
            _PARSERS.reset(token)

    upload.mediatagger_clean = True  # type: ignore[attr-defined]
    return upload


def install() -> None:
    """Every Gradio route that parses an upload uses ``CleanParser`` and ``clean_upload_fn``, and its
    screen-recording route runs no ffmpeg (``no_recording``) (idempotent)."""
    for module in (route_utils, routes):
        setattr(module, "GradioMultiPartParser", CleanParser)  # noqa: B010 -- a module's global, for mypy
    if not getattr(routes.upload_fn, "mediatagger_clean", False):
        routes.upload_fn = clean_upload_fn(routes.upload_fn)  # type: ignore[assignment]
    setattr(routes, "process_video_with_ffmpeg", no_recording)  # noqa: B010 -- a module's global, for mypy


async def no_recording(input_path: str, output_path: str, params: Any) -> Any:
    """In place of Gradio's screen-recording processor: its public route (``/gradio_api/process_recording``)
    runs the system's ffmpeg, without our demuxer allow-list, on whatever is posted to it, so a playlist
    naming other files on this server would come back as their video. The console records nothing; the
    route's own fallback then hands back the posted file untouched."""
    raise RuntimeError("the console processes no screen recordings")


def media_file(**options: Any) -> gr.File:
    """``gr.File(**options)`` that hands a handler the uploaded file's path without first leaving an
    empty temp file in Gradio's cache. (A subclass would do it, but Gradio writes a ``.pyi`` stub next
    to the module of every component class it sees: the method is replaced on the instance instead.)"""
    component = gr.File(**options)
    component._process_single_file = types.MethodType(_file_path, component)  # type: ignore[method-assign]
    return component


def _file_path(self: gr.File, f: FileData) -> Any:
    if self.type != "filepath":
        return gr.File._process_single_file(self, f)
    if self.file_types and not client_utils.is_valid_file(f.path, self.file_types):
        raise Error(f"Invalid file type. Please upload a file that is one of these formats: {self.file_types}")
    return NamedString(f.path)
