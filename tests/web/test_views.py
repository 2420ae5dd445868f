"""What the console shows, without a server: text from media is escaped everywhere, names never
leave the visitor's folder, abandoned folders are swept."""

import os
import re
import time
from dataclasses import replace

import pytest

from mediatagger import analysis, api, tags
from mediatagger.progress import Progress
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


def test_the_table_has_times_labels_and_what_was_said():
    doc = load_fixed()
    rows = views.span_rows(doc, "zh")
    assert len(rows) == len(doc.spans("events")) + len(doc.spans("emotions"))
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert all(re.fullmatch(r"\d+:\d\d\.\d", r[1]) and re.fullmatch(r"\d+:\d\d\.\d", r[2]) for r in rows)
    assert "笑声" in [r[3] for r in rows]
    assert len(views.span_starts(doc)) == len(rows)


@pytest.mark.parametrize(("ms", "hours", "shown"), [
    (0, False, "0:00.0"), (3967, False, "0:04.0"), (59_960, False, "1:00.0"), (61_049, False, "1:01.0"),
    (3_599_960, True, "1:00:00.0"), (3_725_400, True, "1:02:05.4"), (-5, False, "0:00.0")])
def test_times_are_minutes_and_seconds_as_the_player_counts(ms, hours, shown):
    """The table, the ruler and the hovers show one kind of time, from the media's start (regression: the
    table's 00:00:03;29 drop-frame timecode from zero beside an EDL counting non-drop from 01:00:00:00)."""
    assert views.clock(ms, hours) == shown


def test_a_long_medias_times_all_have_hours():
    doc = load_fixed()
    long = replace(doc, source=replace(doc.source, duration_ms=2 * 3_600_000))
    assert all(r[1].count(":") == 2 for r in views.span_rows(long)) and views.in_hours(long)
    assert not views.in_hours(doc)


@pytest.mark.parametrize(("duration_ms", "step"), [(900, 100), (20_000, 2000), (95_000, 10_000),
                                                   (3_600_000, 600_000), (50 * 3_600_000, 5 * 3_600_000)])
def test_the_ruler_has_round_steps_and_at_most_ten_of_them(duration_ms, step):
    assert views.tick_ms(duration_ms) == step and duration_ms / step <= views.MOST_TICKS


def test_the_timeline_has_a_ruler_and_lanes_in_words():
    svg = views.timeline_svg(load_fixed())
    ticks = re.findall(r'class="mt-tick"[^>]*>([^<]*)<', svg)
    assert ticks[0] == "0:00" and len(ticks) >= 5 and all(re.fullmatch(r"\d+:\d\d", t) for t in ticks)
    assert all(f">{lane}<" in svg for lane in ("Audio track 0 · Program", "Events", "Emotions", "Speech"))
    assert "p(event)" not in svg and 'class="mt-bar-name"' in svg and ">Laughter</text>" in svg


@pytest.mark.parametrize("stage", ["load models", "extract track 0", "vad track 0", "tag track 0", "scan track 0",
                                   "refine track 0", "audioset track 0", "export", "cut clips", "join reel", "burn"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_stage_of_a_job_has_plain_words(stage, lang):
    """Regression: the page said "vad track 0 - 0.0%" over every pane."""
    words = views.stage_words(stage, lang)
    assert words != views.stage_words("no such stage", lang) and "track" not in words and stage not in words
    line = views.progress_html(Progress(stage, 1, 4), lang)
    assert line.count('class="mt-progress-text"') == 1 and 'style="width:25%"' in line


def test_a_later_tracks_stage_names_its_track():
    assert views.stage_words("vad track 1") == "Finding speech (audio track 1)"
    assert views.progress_html(None) == ""


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
