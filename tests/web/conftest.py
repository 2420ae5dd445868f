"""One console server per test session (the tiny model, silero-vad, a 20 MB upload limit, a recordings
folder to follow), shared by the client and browser tests. One per process: Gradio's upload folder is the
process's (an environment variable), so a second console would take it from the first."""

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("gradio", reason="the web console needs Gradio: pip install 'mediatagger[web]'")

MAX_UPLOAD_MB = 20


@dataclass
class Server:
    url: str
    demo: object
    root: Path
    started_s: float        # start() to the page answering
    ready_s: float          # start() to "model ready"
    recordings: Path        # the folder it follows recordings in (serve --recordings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(tiny_model, tmp_path_factory) -> Iterator[Server]:
    from mediatagger import api, web

    began = time.monotonic()
    recordings = tmp_path_factory.mktemp("recordings")
    tagger = api.Tagger(model=str(tiny_model), vad="silero")
    port = free_port()
    options = web.ServeOptions(port=port, max_upload=f"{MAX_UPLOAD_MB}mb", sweep_s=3600, recordings=recordings)
    demo = web.start(tagger, options, block=False)
    started = time.monotonic() - began
    while not tagger.loaded:
        assert demo.console.load_error is None, demo.console.load_error
        assert time.monotonic() - began < 120, "the model did not load in 2 minutes"
        time.sleep(0.1)
    yield Server(f"http://127.0.0.1:{port}/", demo, web.root_of(demo), started, time.monotonic() - began, recordings)
    demo.close()
    demo.console.sessions.close()


def chromium_path() -> str | None:
    """Debian's Chromium (the real binary: /usr/bin/chromium is a wrapper script)."""
    import shutil

    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


# Chromium's own calls home are refused by a closed network; the flags keep it quiet (see env notes)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (pip)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("browser tests need Chromium: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
