"""Files with several audio tracks are tagged whole by default, and each track is called by its stream's
title or language ("The first hour": two_tracks.mov, dialogue on 0 and audience on 1, reported no laugh
and no applause in summary.html, because ``tag`` and batches took track 0 alone).

A real two-track MOV through the real pipeline, every output read back by its consumer: OpenTimelineIO's
EDL reader, pysubs2 for ASS and VTT, lxml and csv for the summary."""

from __future__ import annotations

import csv
import json
import shutil
from fractions import Fraction

import lxml.html
import opentimelineio as otio
import pysubs2
import pytest

from mediatagger import clips, highlights, media
from mediatagger.exporters import markers
from mediatagger.timeline import Span
from tests import readers
from tests.conftest import TALK, TWO_TRACKS, run_cli


@pytest.fixture(scope="module")
def batch(tiny_model, tmp_path_factory):
    """A folder holding two_tracks.mov tagged as a batch with no ``--track``: (done, out folder)."""
    root = tmp_path_factory.mktemp("tracks")
    (root / "show").mkdir()
    shutil.copy(TWO_TRACKS, root / "show" / TWO_TRACKS.name)
    done = run_cli("tag", root / "show", "--model", tiny_model, "--vad", "silero", "--detector", "sensevoice",
                   "--export", "json,edl,ass,vtt,csv", "-o", root / "out", "-q")
    return done, root / "out"


def test_a_batch_tags_every_track_by_default(batch):
    done, out = batch
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / "two_tracks.analysis.json").read_text(encoding="utf-8"))
    assert [t["index"] for t in doc["tracks"]] == [0, 1]
    audience = doc["tracks"][1]
    assert {"LAUGHTER", "APPLAUSE"} <= {e["label"] for e in audience["events"]}


def test_the_summary_counts_the_audience_track(batch):
    """Regression: 0 laughs and 0 applause for a file whose audience track holds both."""
    _, out = batch
    (row,) = csv.DictReader((out / "summary.csv").open(encoding="utf-8"))
    assert row["status"] == "done" and int(row["laughter_n"]) >= 1 and int(row["applause_n"]) >= 1, row
    assert "(Audience)" in row["best_moments"], row
    page = lxml.html.fromstring((out / "summary.html").read_bytes())
    assert page.xpath("//small[@class='tracks']/text()") == ["Dialogue, Audience"]
    moments = page.xpath("string(//td[@class='moments'])")
    assert "Laughter" in moments and "(Audience)" in moments, moments


def test_markers_name_the_track_they_were_heard_on(batch):
    _, out = batch
    text = (out / "two_tracks.edl").read_text(encoding="utf-8")
    assert otio.adapters.read_from_string(text, "cmx_3600", rate=25).find_clips()   # it imports
    names = [m.name for m in readers.resolve_markers(text, Fraction(25), 0)]
    assert {"Laughter (Audience)", "Applause (Audience)"} <= set(names), names
    assert all(markers.label_of(n) for n in names) and not any("(track" in n for n in names), names
    (row, *_) = [r for r in csv.DictReader((out / "two_tracks.markers.csv").open(encoding="utf-8"))
                 if r["label"] == "Laughter"]
    assert (row["name"], row["track"]) == ("Laughter (Audience)", "1")


def test_subtitles_name_each_line_by_its_track(batch):
    _, out = batch
    ass = pysubs2.load(str(out / "two_tracks.ass"))
    badges = {(e.plaintext, e.name) for e in ass if e.style == "Badge"}
    assert {("[Laughter]", "Audience"), ("[Applause]", "Audience")} <= badges, badges
    assert {e.name for e in ass if e.style != "Badge"} == {"Dialogue"}
    vtt = (out / "two_tracks.vtt").read_text(encoding="utf-8")
    assert "<v Audience>[laughter]</v>" in vtt and "<v Dialogue>" in vtt
    assert len(pysubs2.SSAFile.from_string(vtt, format_="vtt")) == len(ass)


def test_the_api_and_one_file_take_every_track_too(tagged, tiny_model, tmp_path):
    """``Tagger.run`` with no ``tracks`` (the session's ``tagged`` fixture), and ``tag FILE``."""
    assert [t["index"] for t in json.loads(tagged["two_tracks"].read_text())["tracks"]] == [0, 1]
    done = run_cli("tag", TWO_TRACKS, "--model", tiny_model, "--vad", "silero", "--detector", "sensevoice",
                   "--export", "json", "-o", tmp_path, "-q")
    assert done.returncode == 0, done.stderr
    assert len(json.loads((tmp_path / "two_tracks.analysis.json").read_text())["tracks"]) == 2


@pytest.mark.parametrize("tracks,names", [
    ([{"title": "Dialogue"}, {"title": "Audience"}], ["Dialogue", "Audience"]),
    ([{"language": "eng"}, {"language": "jpn"}], ["English", "Japanese"]),
    ([{"language": "eng"}, {"language": "eng"}], ["English 0", "English 1"]),
    ([{"title": "  Host \n mic "}, {}], ["Host mic", "track 1"]),
    ([{"language": "xho"}, {"title": "x" * 80}], ["xho", "x" * 60]),
])
def test_a_track_is_called_by_its_title_else_its_language(tracks, names):
    info = media.probe(TALK)
    made = tuple(media.AudioTrack(i, "aac", 2, 48000, t.get("language"), t.get("title")) for i, t in enumerate(tracks))
    info = type(info)(**{**vars(info), "audio_tracks": made})
    assert [info.track_name(i) for i in range(len(tracks))] == names


def test_clip_files_are_named_by_the_labels_names():
    """Regression: clips said ``bgm`` where every other output says Music."""
    clip = highlights.Clip(0, 1000, (Span(0, 500, "BGM", 0.9), Span(500, 900, "CRY", 0.8),
                                     Span(900, 1000, "GUNSHOT_GUNFIRE", 0.7)))
    path = clips.clip_path(TALK.parent, "talk", 3, clip)
    assert path.name == "talk_03_music_crying_gunshot_gunfire.mp4"
