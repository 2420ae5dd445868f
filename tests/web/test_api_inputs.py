"""The console's events called straight through its HTTP API with values its page never sends.

The real program (``mediatagger serve``, its own process) runs in a working folder, HOME and TMPDIR of
its own, its stderr kept in a file: each refused call must be one line there (never a traceback) and
one line back, and inotify watches that nothing outside the session folders is opened or written.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mediatagger import api, tags
from mediatagger.media import find_ffmpeg
from mediatagger.presets import options
from tests.conftest import REPO, TALK, ffprobe_exe
from tests.reliability import case
from tests.web.conftest import free_port

pytestmark = pytest.mark.slow

LANGUAGES = ", ".join(tags.LANGUAGES)
FORMS = ", ".join(tags.RICH_FORMS)
LABEL_LANGUAGES = ", ".join(tags.LABEL_LANGUAGES)
EVENTS = ", ".join(tags.EVENTS)
DETECTORS = ", ".join(options.DETECTORS)
LEVELS = len(tags.EVENTS + tags.EMOTIONS) + 1   # ours, then one for the analysis's AudioSet classes
# what each event gets when a test changes one value: what the page sends (states as None)
VALID = {"tag": [None, "auto"], "start": [None, None, "auto", "0", "labels", "en", "sensevoice", [], None],
         "retune": [None, "labels", "en", 300, 300, *[0.5] * LEVELS], "reel": [None, ["LAUGHTER"], 0, 0, "length"],
         "burn": [None], "js_fn": [1.5], "track_choices": [None], "seek": [None]}
HUGE = "x" * 10_240


# --- watching the disk: inotify, as the kernel reports every open and write ------------------------

IN_ACCESS, IN_MODIFY, IN_CLOSE_WRITE, IN_OPEN = 0x1, 0x2, 0x8, 0x20
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
WATCHED = IN_ACCESS | IN_MODIFY | IN_CLOSE_WRITE | IN_OPEN | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE


class Watch:
    """Opens, reads and writes of the direct contents of some folders (and of the folders themselves)."""

    def __init__(self, folders: list[Path]):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0:
            pytest.skip("inotify is not available here")
        self.folders = {self.libc.inotify_add_watch(self.fd, os.fsencode(f), WATCHED): f for f in folders}

    def events(self) -> list[tuple[Path, str, int]]:
        """(folder, name, mask) of everything since the last call."""
        data = b""
        while True:
            try:
                data += os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
        found, at = [], 0
        while at < len(data):
            wd, mask, _, size = struct.unpack_from("iIII", data, at)
            name = data[at + 16: at + 16 + size].rstrip(b"\0").decode(errors="replace")
            found.append((self.folders.get(wd, Path("?")), name, mask))
            at += 16 + size
        return found

    def close(self) -> None:
        os.close(self.fd)


# --- the console, its log and its API ------------------------------------------------------------

@dataclass
class Console:
    url: str
    log: Path
    tmp: Path                   # the server's TMPDIR: the session root is its one entry
    root: Path
    outside: dict[str, Path]    # folders no reply may name and no request may touch
    canary: Path                # a file requests name; it must stay unread
    watch: Watch
    fns: dict[str, int] = field(default_factory=dict)
    queued: dict[int, bool] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()


def http(url: str, body: Any = None, timeout: float = 120) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def completed(console: Console, session: str) -> dict:
    """The queue's last word on ``session``'s event: its ``process_completed`` message."""
    with urllib.request.urlopen(f"{console.url}gradio_api/queue/data?session_hash={session}", timeout=180) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:") and (msg := json.loads(line[5:])).get("msg") == "process_completed":
                return msg
    raise AssertionError("the event stream ended without completing")


def call(console: Console, event: str | int, data: list, session: str | None = None,
         event_data: Any = None) -> tuple[bool, dict]:
    """One event as the page calls it (the queue, or a direct predict for unqueued ones): (success, output)."""
    fn = console.fns[event] if isinstance(event, str) else event
    session = session or uuid.uuid4().hex
    body = {"data": data, "fn_index": fn, "session_hash": session, "event_data": event_data, "trigger_id": None}
    if not console.queued.get(fn, True):
        code, raw = http(console.url + "gradio_api/run/predict", body)
        return code == 200, json.loads(raw)
    code, raw = http(console.url + "gradio_api/queue/join", body)
    if code != 200:
        return False, {"error": raw.decode(errors="replace"), "status": code}
    msg = completed(console, session)
    return msg["success"], msg["output"]


def without_file_paths(value: Any) -> Any:
    """A reply without the server paths Gradio's file protocol needs (a FileData's ``path`` and ``url``)."""
    if isinstance(value, dict):
        is_file = isinstance(value.get("meta"), dict) and value["meta"].get("_type") == "gradio.FileData"
        return {k: without_file_paths(v) for k, v in value.items() if not (is_file and k in ("path", "url"))}
    if isinstance(value, list):
        return [without_file_paths(v) for v in value]
    return value


def assert_no_server_folder(console: Console, text: str) -> None:
    named = {what: str(folder) for what, folder in console.outside.items() if str(folder) in text}
    assert not named, f"the reply names the server's {named}: {text[:500]}"


def assert_nothing_touched(console: Console) -> None:
    """No open, read or write outside the session root since the last look."""
    root = console.root.name
    foreign = [(str(folder), name, hex(mask)) for folder, name, mask in console.watch.events()
               if not (folder == console.tmp and name == root)]
    assert not foreign, foreign


def refused(console: Console, event: str, data: list, **options: Any) -> str:
    """The one-line message of a refused call, checked: one log line with it, nothing else in the log,
    no server folder in the reply, nothing touched outside the sessions."""
    before = console.lines()
    ok, output = call(console, event, data, **options)
    assert not ok, output
    message = output["error"]
    new = console.lines()[len(before):]
    assert new == [f"mediatagger: refused {event} (127.0.0.1): {message}"], new
    assert "\n" not in message and len(message) < 400, message
    assert_no_server_folder(console, json.dumps(output))
    assert_nothing_touched(console)
    return message


def with_value(event: str, at: int, value: Any) -> list:
    data = list(VALID[event])
    data[at] = value
    return data


def dependencies(url: str) -> tuple[dict[str, int], dict[int, bool]]:
    """Each event's ``fn_index`` by its name (the first of a name: ``retune`` of the seventeen) and
    whether it is queued, from the page's config."""
    _, raw = http(url + "config")
    fns: dict[str, int] = {}
    for dep in json.loads(raw)["dependencies"]:
        fns.setdefault(dep.get("api_name") or "", dep["id"])
    return fns, {dep["id"]: dep.get("queue") is not False for dep in json.loads(raw)["dependencies"]}


def ready(url: str, status_fn: int, proc: subprocess.Popen, log: Path) -> None:
    """The page answers and says the model is ready."""
    began = time.monotonic()
    while time.monotonic() - began < 300:
        assert proc.poll() is None, log.read_text()
        try:
            code, raw = http(url + "gradio_api/run/predict", {"data": [], "fn_index": status_fn,
                                                              "session_hash": "ready", "trigger_id": None})
            if code == 200 and '"key": "ready"' in str(json.loads(raw)["data"][0]):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the console was not ready in 5 minutes: {log.read_text()[-2000:]}")


def start_console(tiny_model: Path, base: Path) -> tuple[subprocess.Popen, dict[str, Path], Path, str]:
    folders = {name: base / name for name in ("cwd", "home", "tmp", "logs", "secrets")}
    for folder in folders.values():
        folder.mkdir()
    log, port = folders["logs"] / "serve.log", free_port()
    tools = base / "bin"   # ffmpeg and ffprobe on the server's PATH, as a host has them (Gradio's own code looks there)
    tools.mkdir()
    (tools / "ffmpeg").symlink_to(find_ffmpeg())
    (tools / "ffprobe").symlink_to(ffprobe_exe())
    env = {**os.environ, "TMPDIR": str(folders["tmp"]), "HOME": str(folders["home"]),
           "PYTHONPATH": str(REPO), "GRADIO_HEARTBEAT_INTERVAL": "1", "PATH": f"{tools}:{os.environ['PATH']}"}
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "mediatagger", "serve", "--port", str(port), "--model",
                                 str(tiny_model), "--vad", "silero"], cwd=folders["cwd"], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    return proc, folders, log, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def console(tiny_model, tmp_path_factory) -> Iterator[Console]:
    proc, folders, log, url = start_console(tiny_model, tmp_path_factory.mktemp("serve"))
    try:
        fns, queued = eventually_config(url, proc, log)
        ready(url, fns["lambda"], proc, log)  # the page's status timer
        canary = folders["secrets"] / "canary.txt"
        canary.write_text("not for visitors")
        shutil.copy(TALK, folders["secrets"] / "private.mp4")   # media a playlist may name
        outside = {"temp folder": folders["tmp"], "working folder": folders["cwd"], "home": folders["home"],
                   "secrets": folders["secrets"], "repository": REPO, "model folder": Path(tiny_model).resolve()}
        (root,) = folders["tmp"].iterdir()  # the console's root holds everything else it makes
        watch = Watch([folders["cwd"], folders["home"], folders["tmp"], folders["secrets"]])
        yield Console(url, log, folders["tmp"], root, outside, canary, watch, fns, queued)
        watch.close()
    finally:
        alive = proc.poll() is None
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        code = proc.wait(timeout=60)
    text = log.read_text()
    assert alive and code == 0 and "Traceback" not in text, text[-3000:]
    assert not list(folders["tmp"].iterdir())  # the console removed its root, uploads and temp files with it


def eventually_config(url: str, proc: subprocess.Popen, log: Path) -> tuple[dict[str, int], dict[int, bool]]:
    began = time.monotonic()
    while True:
        try:
            return dependencies(url)
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() - began < 180, "the console did not answer in 3 minutes"
            time.sleep(0.2)


# --- the cases ------------------------------------------------------------------------------------

CHOICES = [("tag", 1, "language", LANGUAGES), ("start", 2, "language", LANGUAGES),
           ("start", 3, "audio track", "all, 0"), ("start", 4, "rich text form", FORMS),
           ("start", 5, "label language", LABEL_LANGUAGES), ("start", 6, "event detector", DETECTORS),
           ("retune", 1, "rich text form", FORMS), ("retune", 2, "label language", LABEL_LANGUAGES)]


@case("Web console", "a value outside a dropdown's choices sent straight to the console's API (language, audio "
      "track, rich text form, label language, event detector on /tag, start and the span sliders' event; a number, a "
      "list, None, a 10 kB string)",
      "the reply `unknown language 'xyz' (choose from: auto, zh, en, yue, ja, ko)`, the same as one line in the "
      "server's log, no traceback; nothing opened or written outside the session folders")
@pytest.mark.parametrize(("event", "at", "what", "choices"), CHOICES, ids=[f"{c[0]}-{c[2]}" for c in CHOICES])
def test_a_value_outside_the_choices_is_one_line(console, event, at, what, choices):
    for value, shown in [("xyz", "'xyz'"), (5, "5"), (["auto"], "['auto']"), (None, "None"),
                         (HUGE, f"'{'x' * 38}…")]:
        message = refused(console, event, with_value(event, at, value))
        assert message == f"unknown {what} {shown} (choose from: {choices})"


@case("Web console", "reel labels sent straight to the API outside the page's check boxes (an unknown label, "
      "a bare string, None, a 10 kB label)",
      "the reply `unknown reel label 'xyz' (choose from: LAUGHTER, ...)` or `reel label: expected a list of "
      "choices, got ...`, one line in the log, no traceback; nothing cut")
def test_reel_labels_outside_the_choices_are_one_line(console):
    assert refused(console, "reel", with_value("reel", 1, ["LAUGHTER", "xyz"])) == \
        f"unknown reel label 'xyz' (choose from: {EVENTS})"
    assert refused(console, "reel", with_value("reel", 1, [HUGE])).startswith(f"unknown reel label '{'x' * 38}…")
    for value in ("LAUGHTER", None, {"a": 1}):
        assert refused(console, "reel", with_value("reel", 1, value)).startswith("reel label: expected a list")
    assert refused(console, "reel", with_value("reel", 4, "loudest")) == \
        "unknown reel rank rule 'loudest' (choose from: length, laughs, reaction)"


@case("Web console", "extra AudioSet labels sent straight to the API that the page would not take (a name that is "
      "no AudioSet class, one of our own labels, a bare string, too many)",
      "the reply `unknown extra AudioSet label 'Dgo' (an AudioSet class name, such as ...)` or `extra AudioSet "
      "label: 'Laughter' is one of mediatagger's own labels already`, one line in the log, no traceback")
def test_extra_labels_that_are_no_audioset_class_are_one_line(console):
    assert refused(console, "start", with_value("start", 7, ["Crowd", "Dgo"])).startswith(
        "unknown extra AudioSet label 'Dgo' (an AudioSet class name")
    assert refused(console, "start", with_value("start", 7, ["Laughter"])) == \
        "extra AudioSet label: 'Laughter' is one of mediatagger's own labels already"
    assert refused(console, "start", with_value("start", 7, "Crowd")).startswith(
        "extra AudioSet label: expected a list")
    assert refused(console, "start", with_value("start", 7, ["Dog"] * 21)) == \
        "extra AudioSet label: 21 classes asked for, 20 at most"


SLIDERS = [("retune", 3, "minimum duration (ms)", "(0 to 5000)"), ("retune", 5, "Laughter on-level", "(0.05 to 0.95)"),
           ("reel", 2, "reel target length (s)", "(0 to 600)"), ("reel", 3, "crossfade (ms)", "(0 to 2000)")]


@case("Web console", "a slider's value sent straight to the API as text, a list, None, true, a 10 kB string, "
      "or beyond the slider's range",
      "the reply `minimum duration (ms): not a number: 'abc'` or `...: 99999 is out of range (0 to 5000)`, "
      "one line in the log, no traceback")
@pytest.mark.parametrize(("event", "at", "what", "span"), SLIDERS, ids=[s[2] for s in SLIDERS])
def test_a_slider_value_that_is_no_number_in_range_is_one_line(console, event, at, what, span):
    for value in ("abc", [1], None, True, HUGE):
        assert refused(console, event, with_value(event, at, value)).startswith(f"{what}: not a number: ")
    for value in (-1, 99999):
        assert refused(console, event, with_value(event, at, value)) == f"{what}: {value} is out of range {span}"


@case("Web console", "malformed calls of the console's events: too few values, a table click without its cell, "
      "a seek time that is text, a file input that is a string, another file of the server named as an upload",
      "a one-line reply (`9 values expected, 1 sent`, `a selection without its cell`, `not a file uploaded to "
      "this console`...), one line in the log, no traceback; the named file is never opened")
def test_malformed_calls_are_one_line(console):
    assert refused(console, "start", [None]) == "9 values expected, 1 sent"
    assert refused(console, "seek", [None]) == "a selection without its cell"
    assert refused(console, "js_fn", ["soon"]) == "seek time: not a number: 'soon'"
    assert refused(console, "tag", [str(console.canary), "auto"]) == "media file: expected an uploaded file, got a str"
    for event in ("tag", "track_choices"):
        data = with_value(event, 0, {"path": str(console.canary), "meta": {"_type": "gradio.FileData"}})
        assert refused(console, event, data) == "not a file uploaded to this console"
    assert refused(console, "burn", [None]) == "Tag something first."


@case("Web console", "an event number that does not exist sent to the queue (fn_index 9999)",
      "HTTP 500 and one log line `internal error, please report it: a request: KeyError: 9999 (--debug shows "
      "where)`, no traceback; the console answers the next visitor")
def test_an_unknown_event_is_one_line(console):
    before = console.lines()
    code, raw = http(console.url + "gradio_api/queue/join",
                     {"data": [], "fn_index": 9999, "session_hash": "nobody", "trigger_id": None})
    assert code == 500 and b"Traceback" not in raw
    end = time.monotonic() + 5
    while len(console.lines()) == len(before) and time.monotonic() < end:   # the server logs after it answers
        time.sleep(0.1)
    assert console.lines()[len(before):] == [
        "mediatagger: internal error, please report it: a request: KeyError: 9999 (--debug shows where)"]
    assert_nothing_touched(console)


def upload(console: Console, path: Path) -> dict:
    """``path`` uploaded as the page does: its FileData for an event."""
    body = (f'--x\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + b"\r\n--x--\r\n"
    request = urllib.request.Request(console.url + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": "multipart/form-data; boundary=x"})
    with urllib.request.urlopen(request) as answer:
        (server_path,) = json.loads(answer.read())
    return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def downloads(console: Console, output: dict) -> dict[str, str]:
    """Every text file a reply offers, as the visitor downloads it: name -> text."""
    files = [f for item in output["data"] if isinstance(item, list) for f in item
             if isinstance(f, dict) and f.get("url")]
    texts = {}
    for file in files:
        code, raw = http(file["url"])
        assert code == 200, file["url"]
        if not file["url"].endswith(".zip"):
            texts[Path(file["path"]).name] = raw.decode(errors="replace")
    return texts


@case("Web console", "the replies of a real tag of samples/talk.mp4 (start, the sliders, /tag via gradio_client: "
      "rich text, timeline, table, analysis JSON and every text export) and of a failed one",
      "no server folder in any of them (temp, session, working, home, model folders): the JSON names the media "
      "`/talk.mp4`, errors name files by their names; only Gradio's file protocol carries a session path")
def test_no_reply_names_a_server_folder(console, tmp_path):
    from gradio_client import Client, handle_file

    session, before = uuid.uuid4().hex, console.lines()
    ok, output = call(console, "start", with_value("start", 0, upload(console, TALK)), session=session)
    assert ok, output
    assert_no_server_folder(console, json.dumps(without_file_paths(output), ensure_ascii=False))
    texts = downloads(console, output)
    assert len(texts) >= 10 and json.loads(texts["talk.analysis.json"])["source"]["path"] == "/talk.mp4"
    for name, text in texts.items():
        assert_no_server_folder(console, f"{name}: {text}")
    ok, output = call(console, "retune", with_value("retune", 3, 1000), session=session)
    assert ok and "mt-timeline" in json.dumps(output)
    assert_no_server_folder(console, json.dumps(without_file_paths(output), ensure_ascii=False))
    assert console.lines() == before  # a call that works is not logged

    visiting = Client(console.url, verbose=False, download_files=str(tmp_path))
    try:
        json_path, rich = visiting.predict(handle_file(str(TALK)), "auto", api_name="/tag")
    finally:
        visiting.close()
    assert api.load(json_path).source.path == "/talk.mp4" and "[Laughter]" in rich
    assert_no_server_folder(console, Path(json_path).read_text() + rich)

    notes = tmp_path / "notes.mp4"
    notes.write_text("meeting notes, not a video")
    assert refused(console, "start", with_value("start", 0, upload(console, notes))).startswith("notes.mp4: ")
    assert_nothing_touched(console)


def test_the_tracks_the_page_offered_a_visitor_are_theirs_to_choose(console):
    """The track dropdown's choices change with each upload: a call is checked against the visitor's own."""
    from tests.conftest import TWO_TRACKS

    session, media = uuid.uuid4().hex, upload(console, TWO_TRACKS)
    ok, output = call(console, "track_choices", [media], session=session)
    assert ok and output["data"][0]["choices"] == [["all", "all"], ["0 · Dialogue", "0"], ["1 · Audience", "1"]]
    assert refused(console, "start", with_value("start", 0, media)[:3] + ["2", "labels", "en", "sensevoice", [],
                                                                            None],
                   session=session) == "unknown audio track '2' (choose from: all, 0, 1)"
    ok, output = call(console, "start", with_value("start", 0, media)[:3] + ["1", "labels", "en", "sensevoice", [],
                                                                             None], session=session)
    assert ok, output
    assert_nothing_touched(console)


@case("Web console", "a DASH playlist naming a video elsewhere on the server, posted to Gradio's own screen-recording "
      "route (`/gradio_api/process_recording`) of a host with ffmpeg on its PATH",
      "the posted bytes come back untouched: no ffmpeg runs on them, the video they name is never opened")
def test_the_screen_recording_route_runs_no_ffmpeg(console):
    private = console.outside["secrets"] / "private.mp4"
    manifest = ('<?xml version="1.0" encoding="utf-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
                'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" mediaPresentationDuration="PT4S" '
                'minBufferTime="PT1S"><Period><AdaptationSet mimeType="video/mp4"><Representation id="1" '
                f'bandwidth="1000"><BaseURL>file://{private}</BaseURL></Representation></AdaptationSet></Period>'
                '</MPD>\n').encode()
    body = (b'--x\r\nContent-Disposition: form-data; name="video"; filename="recording.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n" + manifest + b"\r\n--x--\r\n")
    request = urllib.request.Request(console.url + "gradio_api/process_recording", data=body, method="POST",
                                     headers={"Content-Type": "multipart/form-data; boundary=x"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        assert answer.status == 200 and answer.read() == manifest
    assert_nothing_touched(console)
