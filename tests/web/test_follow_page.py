"""The console follows a recording as ffmpeg writes it (``serve --recordings DIR``): spans appear in the
table while the recording goes on, the downloads come when it ends, Stop ends it early. The session's
console (its recordings folder), real Chromium, real ffmpeg in real time."""

from __future__ import annotations

import time

import pytest

from tests.conftest import TALK
from tests.test_follow import writer
from tests.web.test_browser import table, visit

pytestmark = pytest.mark.slow


def rows_while(visitor, running) -> list[list[str]]:
    end = time.monotonic() + 60
    while time.monotonic() < end and running():
        rows = table(visitor)
        if len(rows) > 1:
            return rows
        time.sleep(0.5)
    return []


def follow_newest(page, name: str) -> None:
    """The list refreshed: ``name`` is offered first; Follow pressed."""
    time.sleep(2)
    page.locator("#mt-follow-list").click()
    page.locator("#mt-follow-pick input").wait_for()
    page.wait_for_function("(name) => document.querySelector('#mt-follow-pick input').value === name", arg=name,
                           timeout=15_000)   # the listing comes back from the server
    page.locator("#mt-follow").click()


def test_a_recording_is_followed_with_its_spans_shown_as_they_are_found(browser, server):
    recording = writer(TALK, server.recordings / "show.mkv", loops=1)   # 40 s
    visitor = visit(browser, server)
    page = visitor.page
    try:
        follow_newest(page, "show.mkv")
        progress = page.locator("#mt-follow-progress .mt-progress-text")
        progress.wait_for()
        rows = rows_while(visitor, lambda: recording.poll() is None)
        assert rows, "no span in the table while the recording went on"
        assert recording.poll() is None
        assert "Following show.mkv:" in progress.inner_text() and "heard" in progress.inner_text()
        recording.wait(60)
        page.locator("#mt-downloads a[download$='show.analysis.json']").wait_for(timeout=40_000)
    finally:
        recording.kill()
    final = table(visitor)
    assert len(final) >= len(rows) and any("Laughter" in " ".join(r) for r in final)
    assert page.locator("#mt-follow-progress .mt-progress-text").count() == 0
    page.context.close()


def test_stop_ends_a_follow_and_shows_what_came(browser, server):
    recording = writer(TALK, server.recordings / "late.mkv", loops=3)
    visitor = visit(browser, server)
    page = visitor.page
    try:
        follow_newest(page, "late.mkv")   # the newest first
        page.locator("#mt-follow-progress .mt-progress-text").wait_for()
        assert rows_while(visitor, lambda: recording.poll() is None)
        page.locator("#mt-follow-stop").click()
        page.locator("#mt-downloads a[download$='late.analysis.json']").wait_for(timeout=40_000)
        assert recording.poll() is None   # the recording goes on; the follow ended
    finally:
        recording.kill()
    page.context.close()
