"""The console under abuse, on the shared session server: twenty visitors at once, an upload cut off
half-way, a visitor who leaves while their job runs, a visitor asking for someone else's files, and a
few visitors one after another (the short soak of the console)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bench import soak
from mediatagger import api
from tests.conftest import TALK, ffmpeg
from tests.reliability import case

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch):
    """A visitor who leaves is noticed within a second (Gradio's default heartbeat is 15 s)."""
    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "1")


def clip(folder: Path, name: str, start_s: float, seconds: float = 2.0) -> Path:
    """``seconds`` of samples/talk.mp4's sound from ``start_s``: a WAV of its own bytes."""
    out = folder / name
    ffmpeg("-ss", f"{start_s:.2f}", "-i", TALK, "-t", f"{seconds:.2f}", "-vn", "-ac", "1", "-ar", "16000", out)
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sessions(server) -> set[Path]:
    return {p for p in server.root.iterdir() if p.is_dir() and p.name != "gradio"}


def loose(server) -> dict[str, int]:
    """Files at the top of Gradio's upload folder: uploads in flight, or the remains of one cut short."""
    folder = server.root / "gradio"  # made by the first upload
    return {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}


def eventually(check: Callable[[], Any], timeout_s: float = 30, what: str = "") -> Any:
    began = time.monotonic()
    while not (value := check()):
        assert time.monotonic() - began < timeout_s, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.2)
    return value


def client(server, downloads: Path) -> Any:
    from gradio_client import Client

    return Client(server.url, verbose=False, download_files=str(downloads))


def on_server(server, name: str) -> Path:
    """A visitor's copy of their upload ``name`` in their folder on the server (root/<visitor>/input/<name>);
    their analysis names only ``/<name>``."""
    (found,) = server.root.glob(f"*/input/{name}")
    return found


def visitor(server, upload: Path, downloads: Path) -> tuple[Any, str, Path, str | None]:
    """One visitor: upload, tag, read back the analysis and their copy on the server, leave."""
    from gradio_client import handle_file

    visiting = client(server, downloads)
    try:
        json_path, rich = visiting.predict(handle_file(str(upload)), "auto", api_name="/tag")
        result = api.load(json_path)
        theirs = on_server(server, upload.name)
        seen = digest(theirs) if theirs.is_file() else None
    finally:
        visiting.close()
    return result, rich, theirs, seen


# --- many at once ---------------------------------------------------------------------------------

@case("Web console", "20 visitors upload and start at once (gradio_client, 20 threads)",
      "each job queues, then finishes with the visitor's own analysis of their own upload; "
      "each visitor's folder goes when they leave; uploads untouched")
def test_twenty_uploads_at_once_each_get_their_own(server, tmp_path):
    uploads = [clip(tmp_path, f"visitor{n:02d}.wav", 0.37 * n) for n in range(20)]
    sent = {p.stem: digest(p) for p in uploads}
    assert len(set(sent.values())) == 20  # twenty different recordings: a mix-up cannot go unseen
    before = sessions(server)

    with ThreadPoolExecutor(20) as pool:
        done = list(pool.map(lambda p: visitor(server, p, tmp_path / "dl"), uploads))

    for upload, (result, rich, theirs, seen) in zip(uploads, done):
        assert result.stem == upload.stem and isinstance(rich, str)
        assert seen == sent[upload.stem], f"{upload.name} was tagged from another visitor's upload"
        assert theirs.parent.parent.parent == server.root  # root/<visitor>/input/<name>
    folders = {theirs.parent.parent for _, _, theirs, _ in done}
    assert len(folders) == 20 and not folders & before
    assert len({result.cache_key for result, *_ in done}) == 20  # each analysis made from its own bytes
    eventually(lambda: not folders & sessions(server), what="the visitors' folders to go")
    assert {p.stem: digest(p) for p in uploads} == sent


# --- an upload cut off ----------------------------------------------------------------------------

def start_upload(server, name: str, declared: int, sent: int) -> socket.socket:
    """An upload as a browser starts it, with ``declared`` bytes promised and ``sent`` of them sent."""
    host, port = urllib.parse.urlsplit(server.url).hostname, urllib.parse.urlsplit(server.url).port
    sock = socket.create_connection((host, port))
    part = (f'--x\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: video/mp4\r\n\r\n").encode()
    sock.sendall(f"POST /gradio_api/upload HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {declared}\r\n\r\n".encode()
                 + part + bytes(sent))
    return sock


def upload(server, name: str, data: bytes) -> urllib.request.Request:
    body = (f'--x\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: video/mp4\r\n\r\n").encode() + data + b"\r\n--x--\r\n"
    return urllib.request.Request(server.url + "gradio_api/upload", data=body, method="POST",
                                  headers={"Content-Type": "multipart/form-data; boundary=x"})


@case("Web console", "an upload cut off half-way (the connection closed with 1 of 8 MB sent)",
      "the part received is removed at once, no traceback in the server's log; the next upload and "
      "the page are served as before")
def test_an_upload_cut_off_half_way_leaves_nothing(server, capfd):
    before = loose(server)
    sock = start_upload(server, "half.mp4", declared=8 << 20, sent=1 << 20)
    try:
        eventually(lambda: any(size > 0 for name, size in loose(server).items() if name not in before),
                   what="the upload to reach the server")
    finally:
        sock.close()
    eventually(lambda: loose(server).keys() <= before.keys(), timeout_s=10, what="the cut-off upload to go")

    with urllib.request.urlopen(upload(server, "whole.mp4", b"a whole upload")) as answer:
        path = Path(json.loads(answer.read())[0])
    assert path.read_bytes() == b"a whole upload" and path.is_relative_to(server.root)
    with urllib.request.urlopen(server.url) as page:
        assert page.status == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ClientDisconnect" not in err, err[-2000:]


@case("Web console", "an upload under a name the server refuses ('..')",
      "HTTP 400 and nothing of it kept in the upload folder")
def test_an_upload_under_a_refused_name_leaves_nothing(server):
    before = loose(server)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(upload(server, "..", b"bytes under a bad name"))
    assert err.value.code == 400
    assert loose(server).keys() <= before.keys()


# --- a visitor who leaves -------------------------------------------------------------------------

@case("Web console", "a visitor leaves (cancels, closes the client) while their job runs",
      "their job ends, then their folder goes; the next visitor's queued job finishes with their own result")
def test_a_visitor_who_leaves_mid_job_is_cleaned_and_the_queue_moves_on(server, tmp_path):
    from gradio_client import handle_file

    leaving, staying = clip(tmp_path, "leaving.wav", 0, seconds=8), clip(tmp_path, "staying.wav", 9)
    sent = {p: digest(p) for p in (leaving, staying)}
    before = sessions(server)
    a, b = client(server, tmp_path / "a"), client(server, tmp_path / "b")
    try:
        job_a = a.submit(handle_file(str(leaving)), "auto", api_name="/tag")
        a_folder = eventually(lambda: next((f for f in sessions(server) - before
                                            if (f / "input" / leaving.name).exists()), None),
                              timeout_s=60, what="the leaving visitor's job to start")
        job_b = b.submit(handle_file(str(staying)), "auto", api_name="/tag")  # queued behind it
        assert not (a_folder / "out" / "leaving.analysis.json").exists()  # leaving mid-job, not after it
        job_a.cancel()
        a.close()
        json_b, _ = job_b.result(timeout=180)
        result_b = api.load(json_b)
        assert result_b.stem == "staying" and digest(on_server(server, staying.name)) == sent[staying]
        eventually(lambda: not a_folder.exists(), what="the leaving visitor's folder to go")
    finally:
        a.close()
        b.close()
    eventually(lambda: not sessions(server) - before, what="every folder of these visitors to go")
    assert {p: digest(p) for p in sent} == sent


# --- another visitor's files ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def someone(server, tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    """A visitor who has tagged a file and stays: their upload and their analysis, on the server."""
    from gradio_client import handle_file

    folder = tmp_path_factory.mktemp("someone")
    mine = clip(folder, "private.wav", 3)
    visiting = client(server, folder / "dl")
    try:
        visiting.predict(handle_file(str(mine)), "auto", api_name="/tag")
        theirs = on_server(server, mine.name)
        yield theirs, theirs.parent.parent / "out" / "private.analysis.json"
    finally:
        visiting.close()


def fetch(server, route: str, target: str) -> int:
    try:
        with urllib.request.urlopen(server.url + route + urllib.parse.quote(target)) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def refused_paths(upload: Path, analysis: Path) -> dict[str, str]:
    folder = analysis.parent.parent
    return {"their analysis": str(analysis), "their upload": str(upload),
            "through ..": f"{folder}/out/../out/{analysis.name}",
            "up from the upload folder": f"{folder.parent}/gradio/../{folder.name}/out/{analysis.name}",
            "relative": f"../{folder.name}/out/{analysis.name}", "outside": "/etc/hostname"}


@case("Web console", "another visitor's analysis or upload asked for by its server path (/file= routes)",
      "HTTP 403 or 404 for their files, paths through '..', relative and absolute paths outside the sessions; "
      "their files untouched")
@pytest.mark.parametrize("route", ["gradio_api/file=", "file="])
def test_another_visitors_files_are_not_served(server, someone, route):
    upload, analysis = someone
    kept = {p: digest(p) for p in someone}
    codes = {how: fetch(server, route, target) for how, target in refused_paths(upload, analysis).items()}
    assert all(code in (403, 404) for code in codes.values()), codes
    assert {p: digest(p) for p in someone} == kept


def call_tag(server, file_data: dict) -> str:
    """``/tag`` called as any HTTP client can (gradio_client would upload a path it can read itself):
    the event stream of its answer."""
    body = json.dumps({"data": [file_data, "auto"]}).encode()
    request = urllib.request.Request(server.url + "gradio_api/call/tag", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        event = json.loads(answer.read())["event_id"]
    with urllib.request.urlopen(f"{server.url}gradio_api/call/tag/{event}", timeout=120) as stream:
        return stream.read().decode()


@case("Web console", "another visitor's upload named by its server path as the input of a /tag call",
      "an error event `not a file uploaded to this console` and one line in the log; nothing tagged, their files "
      "untouched")
def test_another_visitors_upload_is_no_input(server, someone):
    upload, analysis = someone
    kept = {p: digest(p) for p in someone}
    before = sessions(server)
    answer = call_tag(server, {"path": str(upload), "meta": {"_type": "gradio.FileData"}})
    assert "event: error" in answer and "not a file uploaded to this console" in answer, answer
    assert "Traceback" not in answer and str(upload.parent) not in answer, answer
    assert {p: digest(p) for p in someone} == kept
    assert not {f for f in sessions(server) - before if (f / "input").exists()}  # nothing was adopted


# --- the short soak of the console ----------------------------------------------------------------

@case("Soak", "8 visitors of the console one after another (the short web soak)",
      "each gets their analysis; afterwards the server holds no visitor folder and no stray upload, "
      "and as many descriptors and threads as after the warm-up")
def test_visitors_one_after_another_leave_nothing_behind(server, tmp_path):
    uploads = [clip(tmp_path, f"guest{n}.wav", 1.3 * n) for n in range(8)]
    before, strays = sessions(server), loose(server)

    def settled() -> soak.Figures:
        figures = soak.look(temp=None)
        return figures if not sessions(server) - before and loose(server).keys() <= strays.keys() else None

    warm = None
    for n, path in enumerate(uploads):
        result, _, _, _ = visitor(server, path, tmp_path / "dl")
        assert result.stem == path.stem
        if n == 2:
            warm = eventually(settled, what="the warm-up visitors to be gone")
    end = eventually(lambda: (f := settled()) and f.fds <= warm.fds and f.threads <= warm.threads and f,
                     what="descriptors and threads to come back")
    assert end.py_threads <= warm.py_threads


# --- a console killed -----------------------------------------------------------------------------

@case("Web console", "the console killed (SIGKILL) with a visitor's files in its folder",
      "its folder stays until the next console starts, which removes it; a running console's folder is kept")
def test_a_killed_consoles_folder_goes_when_the_next_one_starts(tiny_model, tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import tempfile

    from mediatagger.web.session import Sessions
    from tests.conftest import REPO

    proc = subprocess.Popen([sys.executable, "-m", "mediatagger", "serve", "--port", str(soak.free_port()), "--model",
                             str(tiny_model), "--vad", "silero"], env={**os.environ, "TMPDIR": str(tmp_path)},
                            stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        (killed,) = eventually(lambda: [p for p in tmp_path.glob("mediatagger-web-*") if (p / ".server.pid").exists()],
                               timeout_s=120, what="the console to make its folder")
        (killed / "a-visitor").mkdir()
        (killed / "a-visitor" / "talk.analysis.json").write_text("{}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert killed.is_dir()  # a kill runs no cleanup

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    running = Sessions()  # the next console starts
    try:
        assert not killed.exists() and running.root.is_dir()
        another = Sessions()
        another.close()
        assert running.root.is_dir()  # a console alive keeps its folder
    finally:
        running.close()
