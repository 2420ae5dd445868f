"""What the console shows, without a server: text from media is escaped everywhere, names never
leave the visitor's folder, abandoned folders are swept."""

import os
import time
from dataclasses import replace

import pytest

from mediatagger import analysis, api, tags
from mediatagger.web import views
from mediatagger.web.session import Sessions, safe_name
from tests.conftest import load_fixed

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def hostile_analysis() -> analysis.Analysis:
    doc = load_fixed()
    track = doc.tracks[0]
    segments = tuple(replace(s, text=HOSTILE) for s in track.segments)
    return replace(doc, tracks=(replace(track, segments=segments),))


@pytest.mark.parametrize("form", tags.RICH_FORMS)
def test_rich_text_from_media_is_escaped_in_every_form(form):
    page = views.rich_html(api.rich_text(hostile_analysis(), form), form)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and page.count("<br>") == len(load_fixed().segments()) - 1


def test_the_timeline_escapes_what_was_said_and_draws_every_span():
    doc = hostile_analysis()
    svg = views.timeline_svg(doc)
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    bars = svg.count('class="mt-bar"')
    assert bars == len(doc.spans("events")) + len(doc.spans("emotions")) + len(doc.segments())
    laugh = next(s for s in doc.spans("events") if s.label == "LAUGHTER")
    assert f"Laughter {laugh.score:.2f} {views.clock(laugh.start_ms)}" in svg  # the hover: label, score, time


def test_the_table_has_timecodes_labels_and_what_was_said():
    doc = load_fixed()
    rows = views.span_rows(doc, "zh")
    assert len(rows) == len(doc.spans("events")) + len(doc.spans("emotions"))
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert all(len(r[1]) == 11 and r[1][2] == ":" for r in rows)  # 29.97 fps: HH:MM:SS;FF or :FF
    assert "笑声" in [r[3] for r in rows]
    assert len(views.span_starts(doc)) == len(rows)


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\talk.mp4", "talk.mp4"),
    ("..", "media"),
    (".hidden.mp4", "hidden.mp4"),
    ("my \"best\" 'take' 第一集.mov", "my _best_ 'take' 第一集.mov"),
    ("<img src=x onerror=alert(1)>.mp4", "_img src=x onerror=alert(1)_.mp4"),
    ("a\x00b\nc.wav", "a_b_c.wav"),
    ("x" * 300 + ".mp4", "x" * 116 + ".mp4"),  # 120 in all
])
def test_uploaded_names_stay_names(sent, kept):
    assert safe_name(sent) == kept


def test_a_session_folder_is_the_visitors_own_and_goes_when_abandoned(tmp_path):
    sessions = Sessions(tmp_path / "root", max_age=60)
    mine, theirs = sessions.new(), sessions.new()
    upload = tmp_path / "up.mp4"
    upload.write_bytes(b"x")
    copied = sessions.adopt(upload, mine, "../../../outside.mp4")
    assert copied == mine / "input" / "outside.mp4" and upload.read_bytes() == b"x" == copied.read_bytes()
    assert sessions.owns(mine) and not sessions.owns(tmp_path) and not sessions.owns(mine / "input")
    sessions.drop(tmp_path)  # not a session folder: left alone
    assert tmp_path.exists()
    (sessions.root / "gradio").mkdir()  # Gradio's own cache lives beside the visitors' folders
    old = time.time() - 120
    for path in [theirs, sessions.root / "gradio", *theirs.rglob("*")]:
        os.utime(path, (old, old))
    assert sessions.sweep() == [theirs] and mine.exists() and not theirs.exists()
    sessions.close()
    assert not (tmp_path / "root").exists()
