"""The console through gradio_client and plain HTTP: the /tag endpoint, three visitors at once, bad
uploads, awkward names, and nothing served but the visitors' own files."""

import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mediatagger import api
from tests.conftest import REPO, TALK
from tests.web.conftest import MAX_UPLOAD_MB

pytestmark = pytest.mark.slow


def tag(server, path: Path, language: str = "auto") -> tuple[str, str]:
    from gradio_client import Client, handle_file

    return Client(server.url, verbose=False).predict(handle_file(str(path)), language, api_name="/tag")


def refused(server, path: Path) -> str:
    """The one-line message the console gives for ``path``: no traceback, no server folder."""
    with pytest.raises(Exception) as err:
        tag(server, path)
    message = str(err.value)
    assert "Traceback" not in message and 'File "' not in message and str(server.root) not in message, message
    return message


def test_gradio_client_gets_the_analysis_and_the_rich_text(server):
    json_path, rich = tag(server, TALK)
    result = api.load(json_path)
    assert result.stem == "talk" and result.spans("events", ["LAUGHTER"])
    assert "[Laughter]" in rich and rich == api.rich_text(result)
    assert result.source.path == "/talk.mp4"  # the visitor's documents name no folder of the server's


def test_three_visitors_at_once_each_get_their_own(server, tmp_path):
    inputs = [shutil.copy(TALK, tmp_path / f"{name}.mp4") for name in ("ana", "ben", "chen")]
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(lambda p: tag(server, p), inputs))
    results = [api.load(json_path) for json_path, _ in done]
    assert [r.source.path for r in results] == ["/ana.mp4", "/ben.mp4", "/chen.mp4"]
    assert len({rich for _, rich in done}) == 1  # the same audio: the same tags, whoever asked


def test_awkward_names_work(server, tmp_path):
    name = "my 'best' take & 第一集 (final).mp4"
    json_path, rich = tag(server, Path(shutil.copy(TALK, tmp_path / name)))
    assert api.load(json_path).stem == "my 'best' take & 第一集 (final)" and "[Laughter]" in rich


def test_an_upload_that_is_not_media_is_a_message(server, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("meeting notes, not a video")
    assert "notes.mp4" in refused(server, notes)


def test_an_empty_upload_is_a_message(server, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.touch()
    assert "empty.wav: the file is empty" in refused(server, empty)


def test_an_upload_over_the_limit_is_refused_by_the_server(server):
    """Straight to the upload endpoint, as a browser sends it (gradio_client checks sizes itself)."""
    body = b"".join([b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.mp4\"\r\n",
                     b"Content-Type: video/mp4\r\n\r\n", bytes((MAX_UPLOAD_MB + 1) * 1024 * 1024), b"\r\n--x--\r\n"])
    request = urllib.request.Request(server.url + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": "multipart/form-data; boundary=x"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 413 and "size" in err.value.read().decode().lower()


@pytest.mark.parametrize("target", [str(REPO / "README.md"), "/etc/passwd", "../../../../etc/passwd"])
def test_nothing_outside_the_sessions_is_served(server, target):
    url = server.url + "gradio_api/file=" + urllib.parse.quote(target)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url)
    assert err.value.code in (403, 404)


def test_mediatagger_serve_starts_warns_when_open_and_stops(tiny_model):
    """The command itself: a console on the port, a warning for 0.0.0.0 without --auth, Ctrl-C stops it."""
    import signal
    import subprocess
    import sys

    from tests.web.conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mediatagger", "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--model", str(tiny_model), "--vad", "silero"], stderr=subprocess.PIPE, text=True,
                            cwd=REPO)
    try:
        for _ in range(600):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert "mediatagger" in page
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert "warning: serving 0.0.0.0 without --auth" in err and "Traceback" not in err


@pytest.mark.parametrize(("flags", "message"), [(["--auth", "nopassword"], "give USER:PASS"),
                                                (["--ui-lang", "fr"], "'fr' is not one of")])
def test_bad_serve_flags_are_one_line(flags, message):
    from tests.conftest import run_cli

    done = run_cli("serve", *flags)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_a_file_with_several_tracks_offers_all_of_them_by_default():
    from mediatagger.web import app
    from tests.conftest import TWO_TRACKS

    assert app.track_choices(str(TWO_TRACKS)) == {"__type__": "update", "value": "all", "choices": [
        ("all", "all"), ("0 · Dialogue", "0"), ("1 · Audience", "1")]}
    assert app.track_choices(str(TALK)) == {"__type__": "update", "value": "all",
                                            "choices": [("all", "all"), ("0 · Program", "0")]}
