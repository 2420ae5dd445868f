"""The batch summary in a real headless Chromium: a self-contained page whose names stay text and
whose links lead to the outputs, wherever the folder is moved."""

import os
import shutil
from urllib.parse import unquote

import pytest

from tests.conftest import REPO
from tests.test_batch import make_batch

pytestmark = pytest.mark.slow
SCREENSHOT = os.environ.get("MEDIATAGGER_SUMMARY_SCREENSHOT")  # e.g. docs/summary.png


def test_the_summary_page_is_self_contained_escaped_and_movable(browser, tiny_model, tmp_path):
    out = make_batch(tiny_model, tmp_path / "made")
    moved = shutil.move(out, tmp_path / "shared")  # handed to someone else: links must still work
    page = browser.new_page(viewport={"width": 1300, "height": 700})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"file://{moved}/summary.html")
    rows = page.locator("tr")
    assert rows.count() == 5 and page.locator("td b").count() == 0
    assert page.get_by_text("show/ep2/<b>bold.mp4").count() == 1  # shown as text
    assert page.locator("tr.failed").inner_text().startswith("show/ep2/broken.mp4")
    assert page.locator("svg rect").count() >= 12 and "Laughter" in page.locator("table").inner_text()
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) == 9  # analysis, ASS and EDL of three tagged inputs
    for href in hrefs:
        assert href.startswith(f"file://{moved}/") and (moved / unquote(href[len(f"file://{moved}/"):])).is_file(), href
    assert all(u.startswith("file://") for u in requests), requests
    if SCREENSHOT:
        page.screenshot(path=str(REPO / SCREENSHOT), full_page=True)
    page.close()
