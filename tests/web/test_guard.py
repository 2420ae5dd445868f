"""The console's one door for failed calls, without a server: what a reply and the log line say."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio", reason="the web console needs Gradio: pip install 'mediatagger[web]'")

from gradio.exceptions import Error  # noqa: E402

from mediatagger.web import guard  # noqa: E402


@pytest.mark.parametrize(("text", "shown"), [
    ("/tmp/mediatagger-web-x/0a1b/input/talk.mp4: Invalid data", "talk.mp4: Invalid data"),
    ("src=file:///srv/media/talk.mp4 at 30000/1001 fps", "src=file://talk.mp4 at 30000/1001 fps"),
    ("see https://example.org/a/b and and/or 1/2", "see https://example.org/a/b and and/or 1/2"),
    ("gradio/abc/notes.mp4: not media", "gradio/abc/notes.mp4: not media"),
])
def test_unpathed_keeps_base_names_only(text, shown):
    assert guard.unpathed(text) == shown


def test_unpathed_knows_the_servers_folders_with_spaces(tmp_path, monkeypatch):
    folder = tmp_path / "my clips"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert guard.unpathed(f"cannot read '{folder}/take 1.mov'") == "cannot read 'take 1.mov'"


def test_a_refusal_is_one_log_line_and_the_same_reply(capsys):
    error = guard.reply(Error("unknown language 'xyz'\n(choose from: auto)"), "tag", "127.0.0.1", debug=False)
    assert error.message == "unknown language 'xyz' (choose from: auto)" and not error.print_exception
    assert capsys.readouterr().err == \
        "mediatagger: refused tag (127.0.0.1): unknown language 'xyz' (choose from: auto)\n"


def test_a_bug_is_one_log_line_and_a_reply_without_its_details(capsys):
    try:
        raise RuntimeError("/srv/secret/state.db is locked\nsecond line")
    except RuntimeError as exc:
        error = guard.reply(exc, "start", "10.0.0.7", debug=False)
    assert error.message == guard.INTERNAL and not error.print_exception
    assert capsys.readouterr().err.splitlines() == [
        "mediatagger: internal error, please report it: start (10.0.0.7): RuntimeError: /srv/secret/state.db is "
        "locked second line (verbose=True shows where)"]


def test_a_bug_under_debug_shows_its_traceback(capsys):
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        guard.reply(exc, "start", "?", debug=True)
    err = capsys.readouterr().err
    assert err.startswith("mediatagger: internal error, please report it: start (?): RuntimeError: boom\n")
    assert "Traceback" in err


def test_a_log_line_is_bounded():
    assert len(guard.clipped("x" * 10_000, guard.LOG_LIMIT)) == guard.LOG_LIMIT
    assert repr(guard.Shown("y" * 10_000)) == "'" + "y" * 38 + "…"
