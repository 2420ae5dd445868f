"""The console as a new user first sees it ("The first hour"): one progress line in plain words while
tagging, a timeline with a time ruler, a table whose header and times read at a glance, label names
rather than codes, and no text that needs an emoji font. Real server, real Chromium."""

import re
import time
from pathlib import Path

import pytest

from mediatagger.web.strings import STAGES
from tests.conftest import REPO, TALK, TWO_TRACKS
from tests.web.test_browser import SCREENSHOT, table, visit

pytestmark = pytest.mark.slow
CLOCK = re.compile(r"\d+:\d\d\.\d")  # the page's one kind of time: minutes and seconds from the media's start
# code points that need an emoji font: pictographs, symbols and dingbats, arrows and the like, VS-16
EMOJI = r"[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u{1f000}-\u{1faff}]"
# every few milliseconds of a run: the page's progress texts that can be seen, ours and Gradio's own
WATCH_PROGRESS = """() => {
  window.mtSeen = [];
  const clear = el => { for (; el; el = el.parentElement) if (getComputedStyle(el).opacity === '0') return true; };
  const seen = el => { const r = el.getBoundingClientRect(), style = getComputedStyle(el);
                       return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && !clear(el); };
  const texts = sel => [...document.querySelectorAll(sel)].filter(seen)
                             .map(e => `${e.closest('[id]')?.id}: ${e.textContent.trim()}`);
  const look = () => {
    const ours = [...document.querySelectorAll('.mt-progress-text')].filter(seen).map(e => e.textContent.trim());
    const gradios = texts('.wrap .meta-text, .wrap .meta-text-center, .wrap .progress-level, .wrap .eta-bar');
    if (ours.length || gradios.length) window.mtSeen.push({ours, gradios});
  };
  window.mtWatch = setInterval(look, 25);
}"""


def running_shot() -> Path | None:
    """Where the picture of a run goes: beside the README's picture of the console, when one is asked for."""
    return REPO / Path(SCREENSHOT).with_name("console-running.png") if SCREENSHOT else None


@pytest.fixture(scope="module")
def watched(browser, server):
    """talk.mp4 tagged with the page's progress texts watched from the click to the result."""
    visitor = visit(browser, server)
    page = visitor.page
    page.locator("#mt-upload input[type=file]").set_input_files(str(TALK))
    page.locator("#mt-upload").get_by_text(".mp4", exact=False).first.wait_for()
    page.evaluate(WATCH_PROGRESS)
    page.locator("#mt-start").click()
    if (shot := running_shot()) is not None:
        page.locator("#mt-progress .mt-progress-text").wait_for()
        page.screenshot(path=str(shot), full_page=True)
    page.locator("#mt-rich .mt-rich").wait_for()
    time.sleep(0.3)
    seen = page.evaluate("() => { clearInterval(window.mtWatch); return window.mtSeen; }")
    yield visitor, seen
    page.context.close()


def test_a_run_shows_one_progress_line_in_plain_words(watched):
    """Regression: "vad track 0 - 0.0%" over every output pane, on top of the sliders."""
    visitor, seen = watched
    plain = set(STAGES["en"].values())
    assert seen, "no progress was shown during the run"
    assert all(s["gradios"] == [] for s in seen), [s for s in seen if s["gradios"]][:3]
    assert all(len(s["ours"]) == 1 for s in seen), [s for s in seen if len(s["ours"]) != 1][:3]
    said = {s["ours"][0] for s in seen}
    assert said <= plain and not any("track" in text for text in said), said
    assert visitor.page.locator("#mt-progress .mt-progress-text").count() == 0   # gone when done


def test_the_timeline_has_a_time_ruler(watched):
    visitor, _ = watched
    ticks = visitor.page.locator("#mt-timeline text.mt-tick").all_text_contents()
    assert ticks[0] == "0:00" and len(ticks) >= 5 and all(re.fullmatch(r"\d+:\d\d", t) for t in ticks), ticks
    lanes = visitor.page.locator("#mt-timeline text.mt-lane").all_text_contents()
    assert {"Audio track 0 · Program", "Events", "Emotions", "Speech"} <= set(lanes) and "p(event)" not in lanes
    size = visitor.page.locator("#mt-timeline text.mt-lane").first.evaluate(
        "e => e.getBoundingClientRect().height")
    assert size >= 11, f"lane names {size:.1f} px high"    # readable at the page's width


def test_the_table_header_is_one_line_each(watched):
    """Regression: the "track" header wrapped to "tr/ac/k"."""
    visitor, _ = watched
    lines = visitor.page.evaluate("""() => {
      const header = [...document.querySelectorAll('#mt-spans [role=columnheader], #mt-spans th')];
      return header.map(cell => {
        const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        let node, text = '';
        const lines = new Set();
        while ((node = walk.nextNode())) {
          if (!node.textContent.trim() || node.parentElement.closest('button')) continue;   // the column's menu
          const range = document.createRange(); range.selectNodeContents(node);
          text += node.textContent.trim();
          [...range.getClientRects()].forEach(r => lines.add(Math.round(r.top)));
        }
        return [text, lines.size];
      }).filter(([text]) => text);
    }""")
    assert ["track", 1] in lines and all(boxes == 1 for _, boxes in lines), lines


def test_times_are_minutes_and_seconds_everywhere(watched):
    """Regression: the table said 00:00:03;29 (drop-frame from zero) beside an EDL counting non-drop
    from 01:00:00:00; the page now counts as its player does, the exports as the editor's timeline."""
    visitor, _ = watched
    rows = table(visitor)[1:]
    assert rows and all(CLOCK.fullmatch(r[1]) and CLOCK.fullmatch(r[2]) for r in rows), rows
    laugh = next(r for r in rows if r[3] == "Laughter")
    assert laugh[1:3] == ["0:04.0", "0:06.6"]
    hover = visitor.page.locator("#mt-timeline rect.mt-bar title").first.inner_html()
    assert re.search(rf"{CLOCK.pattern}–{CLOCK.pattern}", hover), hover


def test_the_page_needs_no_emoji_font(watched, browser, server):
    """Regression: "Model ready" began with a check mark emoji that a machine without an emoji font draws
    as a box. Every text of the page, before and after a run (its rich text in the default form)."""
    every_text = f"""() => {{
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const found = []; let node;
      while ((node = walk.nextNode())) {{ if (/{EMOJI}/u.test(node.textContent)) found.push(node.textContent); }}
      return found;
    }}"""
    visitor, _ = watched
    fresh = visit(browser, server)
    try:
        assert fresh.page.evaluate(every_text) == [] and visitor.page.evaluate(every_text) == []
    finally:
        fresh.page.context.close()


def test_the_reel_offers_label_names(watched, browser, server):
    """Music and Crying, as the table and timeline say, not BGM and CRY; the values sent stay the labels."""
    visitor, _ = watched
    fresh = visit(browser, server)
    try:
        for page in (fresh.page, visitor.page):
            boxes = page.locator("#mt-reel-labels label").all_inner_texts()
            assert {"Music", "Crying", "Laughter"} <= {b.strip() for b in boxes}, boxes
            assert not {"BGM", "CRY", "LAUGHTER"} & {b.strip() for b in boxes}
    finally:
        fresh.page.context.close()


def test_a_reel_shows_its_progress_on_one_line(watched):
    visitor, _ = watched
    page = visitor.page
    page.evaluate(WATCH_PROGRESS)
    page.locator("#mt-make-reel").click()
    page.locator("#mt-made a[download$='.reel.mp4']").wait_for()
    time.sleep(0.3)
    seen = page.evaluate("() => { clearInterval(window.mtWatch); return window.mtSeen; }")
    assert all(s["gradios"] == [] and len(s["ours"]) <= 1 for s in seen), seen[:3]
    assert {s["ours"][0] for s in seen if s["ours"]} <= set(STAGES["en"].values())
    assert page.locator(".mt-progress-text").count() == 0


def test_a_file_with_two_tracks_is_tagged_whole_and_names_its_tracks(browser, server):
    """Regression: the console took every track while ``tag`` took track 0 alone. Now every front end
    takes all of them by default, and names each by its stream's title: two_tracks.mov's audience
    track holds the laugh and the applause."""
    visitor = visit(browser, server)
    page = visitor.page
    try:
        page.locator("#mt-upload input[type=file]").set_input_files(str(TWO_TRACKS))
        page.locator("#mt-upload").get_by_text(".mov", exact=False).first.wait_for()
        tracks = page.locator("#mt-tracks input")
        page.wait_for_function("() => document.querySelector('#mt-tracks input').value === 'all'")
        tracks.click()
        options = page.locator("ul[role=listbox] li")
        options.nth(2).wait_for()
        offered = [o.strip().splitlines()[-1] for o in options.all_inner_texts()]   # after Gradio's ✓ on the chosen
        page.keyboard.press("Escape")
        assert offered == ["all", "0 · Dialogue", "1 · Audience"], offered
        page.locator("#mt-start").click()
        page.locator("#mt-rich .mt-rich").wait_for()
        lanes = page.locator("#mt-timeline text.mt-track").all_text_contents()
        assert lanes == ["Audio track 0 · Dialogue", "Audio track 1 · Audience"], lanes
        overlaps = page.evaluate("""() => {
          const box = e => e.getBoundingClientRect();
          const texts = [...document.querySelectorAll('#mt-timeline text')].map(e => [e.textContent, box(e)]);
          const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          return texts.flatMap(([t, a], i) => texts.slice(i + 1).filter(([, b]) => meet(a, b)).map(([u]) => [t, u]))
                      .filter(([t, u]) => /Audio track/.test(t + u));
        }""")
        assert overlaps == [], overlaps    # a track's name once ran over the ruler's 0:00
        rows = table(visitor)[1:]
        heard = {(r[0], r[3]) for r in rows}
        assert {("1 · Audience", "Laughter"), ("1 · Audience", "Applause")} <= heard, rows
    finally:
        page.context.close()
