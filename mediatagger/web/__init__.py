"""``mediatagger serve``: the web console, a thin Gradio front end over the Python API.

Gradio is an extra (``pip install 'mediatagger[web]'``) imported only here, when the console starts.
The page fetches nothing from the internet: Gradio's analytics are off and the theme uses the
machine's own fonts. Everything a visitor uploads or makes lives in their own folder under one
root this server makes and removes (``session.Sessions``); Gradio's own uploads and cache go there
too, and nothing else on the disk is served.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediatagger.errors import UsageError


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 6006
    auth: tuple[str, str] | None = None
    max_upload: str = "4gb"
    ui_lang: str | None = None      # en, zh; None: the browser's language
    sweep_s: float = 600.0          # how often abandoned session folders are looked for
    debug_hint: str = "verbose=True"  # how the server log says tracebacks are turned on (the CLI: --debug)
    recordings: Path | None = None  # a folder whose recordings visitors may follow as they are written


def gradio() -> Any:
    """Gradio, imported with its analytics and update check off, or a one-line error naming the extra."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    try:
        import gradio as gr
    except ImportError:
        raise UsageError("the web console needs Gradio: pip install 'mediatagger[web]'") from None
    return gr


def start(tagger: Any, options: ServeOptions, block: bool = True) -> Any:
    """Start the console on ``options.host:port`` with ``tagger``'s models loading in the background;
    returns the running Gradio app (``block=False``: at once, for tests)."""
    from mediatagger.web.session import GRADIO, Sessions

    gradio()
    sessions = Sessions()
    gradio_temp(sessions.root / GRADIO)
    if block:  # the process is the console's: its temp files too (a test's or a host's stay theirs)
        sessions.hold_temp()
    try:
        return launch(tagger, options, sessions, block)
    except BaseException:
        sessions.close()
        raise


def gradio_temp(folder: Path) -> None:
    """Gradio's uploads, cache and other temp files in ``folder`` (ours): the environment for what it
    reads at each use, its modules' copies for what it read at import (its screen-recording route,
    the folder it makes at every start)."""
    from gradio import route_utils, routes

    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    for module in (route_utils, routes):
        setattr(module, "DEFAULT_TEMP_DIR", str(folder))  # noqa: B010 -- a module's global, for mypy


def launch(tagger: Any, options: ServeOptions, sessions: Any, block: bool) -> Any:
    from mediatagger.web import guard, page, uploads
    from mediatagger.web.app import CSS, Console

    uploads.install()

    console = Console(tagger, sessions, options.ui_lang, options.recordings)
    console.loader.start()
    threading.Thread(target=sweeping, args=(sessions, options.sweep_s), daemon=True).start()
    demo = page.build(console)
    guard.install(demo, debug=tagger.verbose, debug_hint=options.debug_hint)
    demo.queue(default_concurrency_limit=1)
    demo.console = console  # type: ignore[attr-defined]
    demo.launch(server_name=options.host, server_port=options.port, auth=options.auth,
                max_file_size=options.max_upload, ssr_mode=False, theme=page.theme(), css=CSS,
                i18n=demo.i18n_instance, quiet=True,  # type: ignore[attr-defined]
                prevent_thread_lock=not block, footer_links=["api"], show_error=False)
    if block:
        sessions.close()
    return demo


def sweeping(sessions: Any, every_s: float) -> None:
    import time

    while True:
        time.sleep(every_s)
        try:
            sessions.sweep()
        except OSError:  # a folder in use; the next sweep looks again
            pass


def root_of(demo: Any) -> Path:
    return Path(demo.console.sessions.root)
