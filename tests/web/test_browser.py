"""The console in a real headless Chromium (Debian's), as an editor uses it: upload, Start, read the
tags, tune a threshold, jump to a span, take the EDL and a reel home; offline, escaped, tidy."""

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import readers
from tests.conftest import REPO, TALK, ffprobe
from tests.web.conftest import Server

pytestmark = pytest.mark.slow
SCREENSHOT = os.environ.get("MEDIATAGGER_SCREENSHOT")  # e.g. docs/console.png, to refresh the README's picture
READY = re.compile("^(Model ready|模型已就绪)$")


@dataclass
class Visitor:
    page: object
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def visit(browser, server: Server, locale: str = "en-US") -> Visitor:
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    visitor = Visitor(page)
    page.on("request", lambda r: visitor.requests.append(r.url))
    page.on("dialog", lambda d: (visitor.dialogs.append(d.message), d.dismiss()))
    page.goto(server.url)
    page.locator("#mt-status").get_by_text(READY).wait_for()
    return visitor


def start(visitor: Visitor, media: Path) -> float:
    """Upload ``media``, press Start, wait for the rich text; the seconds from the click."""
    page = visitor.page
    page.locator("#mt-upload input[type=file]").set_input_files(str(media))
    page.locator("#mt-upload").get_by_text(media.suffix, exact=False).first.wait_for()
    clicked = time.monotonic()
    page.locator("#mt-start").click()
    page.locator("#mt-rich .mt-rich").wait_for()
    return time.monotonic() - clicked


def table(visitor: Visitor) -> list[list[str]]:
    """The span table as shown (Gradio draws it as an ARIA grid; the first row is the header)."""
    rows = visitor.page.locator("#mt-spans [role=row]")
    cells = [[c.strip() for c in rows.nth(i).locator("[role=gridcell]").all_inner_texts()] for i in range(rows.count())]
    return [row for row in cells if row]


def link(visitor: Visitor, box: str, name: str) -> bytes:
    """A file offered for download in ``box``, fetched the way the browser's link does."""
    anchor = visitor.page.locator(f"{box} a[download$='{name}']").first
    response = visitor.page.request.get(anchor.get_attribute("href"))
    assert response.ok, response.status
    return response.body()


@pytest.fixture(scope="module")
def tagged(browser, server):
    visitor = visit(browser, server)
    seconds = start(visitor, TALK)
    print(f"\nconsole: page up {server.started_s:.1f} s, model ready {server.ready_s:.1f} s after start; "
          f"talk.mp4 click-to-result {seconds:.1f} s")
    yield visitor
    visitor.page.context.close()


def test_start_shows_the_rich_text_the_timeline_and_the_spans(tagged):
    page = tagged.page
    assert "[Laughter]" in page.locator("#mt-rich").inner_text()
    assert page.locator("#mt-timeline rect.mt-bar").count() >= 6
    assert page.locator("#mt-timeline rect.mt-bar title").first.inner_html().count(":") >= 2  # label, score, time
    rows = table(tagged)
    assert ["0", "0:04.0", "0:06.6", "Laughter", "event", "1"] == rows[1][:6]
    page.locator("#mt-downloads").scroll_into_view_if_needed()
    if SCREENSHOT:
        page.screenshot(path=str(REPO / SCREENSHOT), full_page=True)


def test_nothing_is_fetched_from_outside(tagged, server):
    outside = [u for u in tagged.requests if not u.startswith((server.url, "data:", "blob:"))]
    assert tagged.requests and outside == []
    assert tagged.dialogs == []


def test_a_row_click_moves_the_player_there(tagged):
    page = tagged.page
    page.locator("#mt-spans [role=row]", has_text="Applause").locator("[role=gridcell]").nth(1).click()
    page.wait_for_function("() => Math.abs(document.querySelector('#mt-player video').currentTime - 10.4771) < 0.05")
    header, events = readers.resolve_edl(link(tagged, "#mt-downloads", "talk.edl").decode())  # as downloaded
    assert header["TITLE"] == "talk" and {e.name for e in events} >= {"Applause", "Laughter", "Music"}


@pytest.mark.parametrize(("button", "suffix", "seconds"), [("#mt-make-reel", ".reel.mp4", (3, 20)),
                                                         ("#mt-burn", ".subtitled.mp4", (19.5, 20.5))])
def test_a_reel_and_burned_subtitles_are_previewed_and_downloaded(tagged, tmp_path, button, suffix, seconds):
    page = tagged.page
    page.locator(button).click()
    page.locator(f"#mt-made a[download$='{suffix}']").wait_for()
    assert page.locator("#mt-preview video").count() == 1
    made = tmp_path / f"made{suffix}"
    made.write_bytes(link(tagged, "#mt-made", suffix))
    probe = ffprobe(made)
    assert probe["video"] and probe["audio"] and seconds[0] < float(probe["format"]["duration"]) < seconds[1]
    if button == "#mt-make-reel":   # why the clip was chosen, beside the preview
        why = page.locator("#mt-reel-why li").first.inner_text()
        # with how loud the laughter is, as the reel's clips run measured it from the sound
        assert re.match(r"0:00\.0\u20130:1\d\.\d score \d+\.\d\d: [\d.]+ s of laughter \(\d\.\d\d, -\d+(\.\d)? dBFS\)",
                        why), why
        assert "s of applause after" in why and "setup: \u201c" in why


def test_the_reel_rank_rule_is_chosen_in_the_panel(tagged):
    """With the laughs rule a clip's score is its seconds of laughter times their score, as it says."""
    page = tagged.page
    shown = page.locator("#mt-reel-why li")
    before = shown.first.inner_text() if shown.count() else ""
    page.locator("#mt-reel-rank label", has_text="laughs").click()
    page.locator("#mt-make-reel").click()
    page.wait_for_function("(old) => { const li = document.querySelector('#mt-reel-why li');"
                           " return li !== null && li.textContent !== old; }", arg=before)
    why = page.locator("#mt-reel-why li").first.inner_text()
    score, seconds, sure = re.search(r"score ([\d.]+): ([\d.]+) s of laughter \(([\d.]+),", why).groups()
    assert abs(float(score) - float(seconds) * float(sure)) < 0.02, why


def test_a_slider_re_derives_the_spans_and_the_downloads(tagged):
    """Minimum duration to 5 s: only the 6 s of music are left, in the table and in the EDL offered."""
    page = tagged.page
    before = table(tagged)
    slider = page.locator("#mt-min-duration input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 1, box["y"] + box["height"] / 2)  # to the end: 5000 ms
    page.wait_for_function("() => document.querySelectorAll('#mt-spans [role=row]').length === 2")
    assert [r[3] for r in table(tagged)] == ["Music"] and len(before) == 6
    _, events = readers.resolve_edl(link(tagged, "#mt-downloads", "talk.edl").decode())
    assert {e.name for e in events} == {"Music"}


def test_a_chinese_browser_gets_the_chinese_page(browser, server):
    visitor = visit(browser, server, locale="zh-CN")
    assert visitor.page.locator("#mt-start").inner_text().strip() == "开始 AI 识别"
    visitor.page.context.close()


def test_a_hostile_file_name_stays_text(browser, server, tmp_path):
    hostile = Path(shutil.copy(TALK, tmp_path / "<img src=x onerror=alert(1)>.mp4"))
    visitor = visit(browser, server)
    start(visitor, hostile)
    page = visitor.page
    assert page.locator("img[src='x']").count() == 0 and visitor.dialogs == []
    assert page.get_by_text("onerror=alert(1)", exact=False).count() >= 1  # shown, as text
    visitor.page.context.close()


def test_a_visitors_folder_goes_when_they_leave(browser, server):
    before = set(server.root.iterdir())
    visitor = visit(browser, server)
    start(visitor, TALK)
    mine = [p for p in set(server.root.iterdir()) - before if p.name != "gradio"]
    assert len(mine) == 1 and (mine[0] / "out" / "talk.edl").is_file()
    visitor.page.context.close()
    deadline = time.monotonic() + 60
    while mine[0].exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not mine[0].exists()


def test_the_chromium_probe_finds_a_real_binary_or_nothing():
    """The browser tests skip (with a reason) exactly when this finds nothing: a found path must be
    the executable itself, not Debian's wrapper script."""
    from tests.web.conftest import chromium_path

    found = chromium_path()
    assert found is None or (os.access(found, os.X_OK) and Path(found).read_bytes()[:4] == b"\x7fELF")
