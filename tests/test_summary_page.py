"""The batch summary page as a new user reads it: one clock, a link to every output, names escaped,
a legend and one time scale for all strips, best moments from the preset's highlight labels.

Inputs are analysis documents written into a batch's output folders (no model); the last test runs
a real batch. Every check reads the written ``summary.html`` back through lxml."""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote

import lxml.html
import pytest

from mediatagger import presets, summary
from mediatagger.clips import PLAN_SCHEMA
from mediatagger.exporters import EXPORTERS
from mediatagger.timeline import Span
from tests.conftest import TALK, load_fixed, run_cli

HOSTILE = '<b>&"x.mp4'
CLOCK = re.compile(r"\d+:\d\d\.\d")                # m:ss.s
LONG_CLOCK = re.compile(r"\d+:\d\d:\d\d\.\d")      # h:mm:ss.s
PX = 0.051                                         # the page writes coordinates to 0.1 px
OTHER_TIMES = re.compile(r"\d\d:\d\d:\d\d[:;]\d\d|\d+:\d\d:\d\d\.\d|\d+(\.\d+)? s\b")  # timecode, clock, "2.5 s"


def tagged(out_dir: Path, name: str, duration_ms: int, events: list[Span], fps: Fraction | None = Fraction(30000, 1001),
           start_tc: str | None = None, exports: tuple[str, ...] = ()) -> summary.Row:
    """An input's analysis (and ``exports``, written by the real exporters) in its output folder, read back
    as the batch reads it."""
    base = load_fixed()
    emotions = (Span(0, duration_ms // 2, "HAPPY", 0.8), Span(duration_ms // 2, duration_ms, "NEUTRAL", 0.7))
    track = replace(base.tracks[0], segments=(), events=tuple(events), emotions=emotions, duration_ms=duration_ms)
    source = replace(base.source, path=f"/media/{name}", duration_ms=duration_ms, fps=fps, start_timecode=start_tc)
    doc = replace(base, source=source, tracks=(track,))
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(name).stem
    for export in ("json", *exports):
        exporter = EXPORTERS[export]
        exporter.path(out_dir, stem).write_text(exporter.to_string(doc, presets.load()), encoding="utf-8")
    return summary.row(f"show/{name}", out_dir, stem)


def with_clips(row: summary.Row, count: int) -> list[Path]:
    """A clips-and-reel job's files beside the row's outputs, and the plan that lists them."""
    made = [row.out_dir / "clips" / f"{row.stem}_{n:02d}_laughter.mp4" for n in range(1, count + 1)]
    reel = row.out_dir / f"{row.stem}.reel.mp4"
    for path in [*made, reel]:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"not really a video")
    plan = {"schema": PLAN_SCHEMA, "reel": reel.name, "status": "complete", "stale": [],
            "clips": [{"file": p.relative_to(row.out_dir).as_posix()} for p in made]}
    (row.out_dir / f"{row.stem}.clips.json").write_text(json.dumps(plan), encoding="utf-8")
    return [reel, row.out_dir / f"{row.stem}.clips.json", *made]


def season(out: Path) -> list[summary.Row]:
    """Four inputs as a new user's batch had them: a 29.97 fps file, one with a 10:00:00:00 start
    timecode, an audio file, a file named like markup; and a broken one."""
    talk = [Span(4000, 6500, "LAUGHTER", 0.6), Span(10500, 13500, "APPLAUSE", 0.88), Span(8000, 15000, "CRY", 0.99),
            Span(14000, 20000, "BGM", 0.75)]   # crying: the longest, surest span
    return [tagged(out / "ep1", "talk.mp4", 20000, talk, exports=("edl", "ass", "srt", "csv")),
            tagged(out / "ep1", "camera.mov", 40000, [Span(9700, 12000, "LAUGHTER", 0.9)], start_tc="10:00:00:00"),
            tagged(out / "ep2", "radio.wav", 30000, [Span(3970, 5000, "APPLAUSE", 0.7)], fps=None),
            tagged(out / "ep2", HOSTILE, 10000, [Span(1000, 3000, "COUGH", 0.5)], exports=("edl",)),
            summary.row("show/ep2/broken.mp4", out / "ep2", "broken", "broken.mp4: not a media file")]


def page(out: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((out / "summary.html").read_bytes())


def by_input(doc: lxml.html.HtmlElement) -> dict[str, lxml.html.HtmlElement]:
    return {tr.xpath("string(td[1])"): tr for tr in doc.xpath("//table/tr[td]")}


def moments_of(tr: lxml.html.HtmlElement) -> str:
    """The best moments a row names, without the lines that say why."""
    return "".join(tr.xpath("td[@class='moments']//text()[not(ancestor::small[@class='why'])]"))


def test_one_time_style_on_the_page_regression_three_styles_in_one_column(tmp_path):
    """0:00:09.7 (audio), 00:00:03;29 (drop-frame) and 10:00:01:00 (a start timecode) were one column."""
    rows = season(tmp_path)
    summary.write(rows, tmp_path)
    doc = page(tmp_path)
    times = [t.text_content() for t in doc.iter("time")]
    assert len(times) == 4 * 4 + 4 + 1, times   # per input its duration and three totals; 4 moments; the longest
    assert all(CLOCK.fullmatch(t) for t in times), times
    ruler = doc.xpath("//svg[@class='scale']//text/text()")
    assert ruler[:3] == ["0:00.0", "0:10.0", "0:20.0"] and all(CLOCK.fullmatch(t) for t in ruler), ruler
    titles = doc.xpath("//svg[@class='strip']//title/text()")
    assert titles and all(re.fullmatch(rf".+ {CLOCK.pattern}–{CLOCK.pattern}", t) for t in titles), titles
    outside = doc.xpath("//body//text()[not(ancestor::time) and not(ancestor::svg)]")
    assert not [t for t in outside if OTHER_TIMES.search(t) or CLOCK.search(t)], outside
    moments = by_input(doc)
    assert moments_of(moments["show/camera.mov"]) == "Laughter 0:09.7"
    assert moments_of(moments["show/radio.wav"]) == "Applause 0:04.0"
    best = [r["best_moments"] for r in csv.DictReader((tmp_path / "summary.csv").open(encoding="utf-8"))]
    assert best[:3] == ["Laughter 0:04.0; Applause 0:10.5", "Laughter 0:09.7", "Applause 0:04.0"]


def test_a_page_with_an_hour_long_input_shows_every_time_with_hours(tmp_path):
    rows = [tagged(tmp_path, "short.mp4", 20000, [Span(4000, 6500, "LAUGHTER", 0.9)]),
            tagged(tmp_path, "long.mp4", 5_400_000, [Span(3_700_000, 3_705_000, "APPLAUSE", 0.9)])]
    summary.write(rows, tmp_path)
    times = [t.text_content() for t in page(tmp_path).iter("time")]
    assert all(LONG_CLOCK.fullmatch(t) for t in times) and "0:00:04.0" in times and "1:01:40.0" in times, times


def test_every_output_is_linked_and_the_links_work_once_the_folder_is_moved(tmp_path):
    rows = season(tmp_path / "made")
    media = with_clips(rows[0], 3)
    summary.write(rows, tmp_path / "made")
    moved = Path(shutil.move(tmp_path / "made", tmp_path / "shared"))
    links = {tr_name: [(a.get("href"), a.text_content()) for a in tr.iter("a")]
             for tr_name, tr in by_input(page(moved)).items()}
    for name, found in links.items():
        for link, _ in found:
            assert not re.match(r"[a-z]+:|/", link), link   # relative: no scheme, no root
            assert (moved / unquote(link)).is_file(), (name, link)
    ep1 = [p.relative_to(tmp_path / "made").as_posix() for p in media]
    assert [unquote(h) for h, _ in links["show/talk.mp4"]] == [
        "ep1/talk.analysis.json", "ep1/talk.ass", "ep1/talk.srt", "ep1/talk.edl", "ep1/talk.markers.csv", *ep1]
    assert [text for _, text in links["show/talk.mp4"]] == [
        "analysis.json", "ass", "srt", "edl", "markers.csv", "reel.mp4", "clips.json", "clip 1", "clip 2", "clip 3"]
    assert [unquote(h) for h, _ in links["show/radio.wav"]] == ["ep2/radio.analysis.json"]
    assert links["show/ep2/broken.mp4"] == []
    row = next(csv.DictReader((moved / "summary.csv").open(encoding="utf-8")))
    assert (row["reel"], row["edl"], row["ass"]) == ("ep1/talk.reel.mp4", "ep1/talk.edl", "ep1/talk.ass")


def test_a_plan_never_leads_a_link_out_of_the_folder_or_to_another_inputs_files(tmp_path):
    row = tagged(tmp_path, "talk.mp4", 20000, [])
    (tmp_path / "talk.clips.json").write_text(json.dumps({
        "schema": PLAN_SCHEMA, "reel": "../../etc/passwd", "stale": [],
        "clips": [{"file": "/etc/passwd"}, {"file": "clips/other_01_laughter.mp4"}]}), encoding="utf-8")
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "other_01_laughter.mp4").write_bytes(b"another input's clip")
    summary.write([row], tmp_path)
    assert [a.get("href") for a in page(tmp_path).iter("a")] == ["talk.analysis.json", "talk.clips.json"]


def test_a_file_named_like_markup_is_text_on_the_page_and_quoted_in_its_links(tmp_path):
    summary.write(season(tmp_path), tmp_path)
    text = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "<b>" not in text and '&"x' not in text and "&lt;b&gt;&amp;&quot;x.mp4" in text
    row = by_input(page(tmp_path))[f"show/{HOSTILE}"]
    assert row.xpath("count(.//b)") == 0
    hrefs = [a.get("href") for a in row.iter("a")]
    assert hrefs == ["ep2/%3Cb%3E%26%22x.analysis.json", "ep2/%3Cb%3E%26%22x.edl"]
    assert all((tmp_path / unquote(h)).is_file() for h in hrefs)


def test_the_legend_names_and_colours_each_label_the_strips_show(tmp_path):
    summary.write(season(tmp_path), tmp_path)
    doc = page(tmp_path)
    keys = {k.text_content().strip(): k.xpath("string(.//rect/@fill)") for k in doc.xpath("//p[@class='legend']/span")}
    assert list(keys) == ["Laughter", "Applause", "Music", "Crying", "Cough", "Happy", "Neutral"]
    bars = {b.xpath("string(title)").split(" ")[0]: b.get("fill")
            for b in doc.xpath("//svg[@class='strip']/rect[title]")}
    assert bars == keys
    shown = doc.text_content()
    assert "BGM" not in shown and "Music" in doc.xpath("string(//table/tr[1])")


def test_all_strips_share_one_scale_the_longest_input(tmp_path):
    rows = season(tmp_path)
    summary.write(rows, tmp_path)
    doc = page(tmp_path)
    strips = {name: tr.xpath(".//svg[@class='strip']")[0] for name, tr in by_input(doc).items()
              if tr.xpath(".//svg[@class='strip']")}
    px_per_ms = summary.STRIP_W / 40000   # camera.mov, 40 s, is the longest
    durations = {r.name: r.result.source.duration_ms for r in rows if r.result is not None}
    assert {name: float(s.get("width")) for name, s in strips.items()} == \
        pytest.approx({name: ms * px_per_ms for name, ms in durations.items()}, abs=PX)
    laugh = strips["show/talk.mp4"].xpath("rect[title]")[0]   # 4.0-6.5 s
    assert [float(laugh.get("x")), float(laugh.get("width"))] == pytest.approx([4000 * px_per_ms, 2500 * px_per_ms],
                                                                                abs=PX)
    ruler = [float(x) for x in doc.xpath("//svg[@class='scale']/line/@x1")]
    assert ruler == pytest.approx([ms * px_per_ms for ms in range(0, 40001, 10000)], abs=PX)


def test_crying_is_never_a_best_moment_regression_it_was_offered_as_one(tmp_path):
    """The longest, surest span is crying: best moments are the preset's highlight labels (laughter
    and applause by default), as its clips and reel are."""
    rows = season(tmp_path)
    summary.write(rows, tmp_path)
    moments = moments_of(by_input(page(tmp_path))["show/talk.mp4"])
    assert moments == "Laughter 0:04.0Applause 0:10.5"
    assert page(tmp_path).xpath("//th[starts-with(., 'Best moments')]/small/text()") == ["Laughter, Applause"]
    assert moments_of(by_input(page(tmp_path))[f"show/{HOSTILE}"]) == "none"  # a cough
    default = presets.load()
    crying = replace(default, clips=replace(default.clips, labels=("CRY",)))
    summary.write(rows, tmp_path, crying)
    assert moments_of(by_input(page(tmp_path))["show/talk.mp4"]) == "Crying 0:08.0"
    assert page(tmp_path).xpath("//th[starts-with(., 'Best moments')]/small/text()") == ["Crying"]


def test_each_best_moment_says_why_once_per_clip(tmp_path):
    """The laugh at 4 s and the applause at 10.5 s are one clip: its why is told once, in words and
    scores, without durations (the page's times are clocks)."""
    rows = season(tmp_path)
    summary.write(rows, tmp_path)
    whys = by_input(page(tmp_path))["show/talk.mp4"].xpath("td[@class='moments']/small[@class='why']/text()")
    assert whys == ["laughter (0.60) \u00b7 applause after"]   # no swing: cheerful before the laugh too
    assert by_input(page(tmp_path))["show/camera.mov"].xpath("td[@class='moments']/small/text()") == \
        ["laughter (0.90)"]


@pytest.mark.slow
def test_a_real_batch_links_every_file_it_wrote(tiny_model, tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(TALK, tmp_path / "in" / HOSTILE)
    shutil.copy(TALK, tmp_path / "in" / "talk.mp4")
    run = run_cli("tag", tmp_path / "in", "--model", tiny_model, "--vad", "silero", "--export", "json,edl,srt,reel",
                  "-o", tmp_path / "out", "-q")
    assert run.returncode == 0, run.stderr
    journal = [json.loads(line) for line in (tmp_path / "out" / "mediatagger.journal.jsonl").read_text().splitlines()]
    written = {e["input"]: sorted(e["written"]) for e in journal if e["status"] == "done"}
    doc = page(tmp_path / "out")
    for name, tr in by_input(doc).items():
        linked = sorted(unquote(a.get("href")) for a in tr.iter("a"))
        assert linked == written[name] and any(p.endswith(".reel.mp4") for p in linked), (linked, written[name])
    assert all(CLOCK.fullmatch(t.text_content()) for t in doc.iter("time"))
    # each best moment's why has the loudness the reel's clips run measured of its laughter (clips.json)
    plan = json.loads((tmp_path / "out" / "talk.clips.json").read_text())
    measured = [e["why"]["laughter_db"] for e in plan["clips"] if e["why"] and e["why"]["laughter_db"] is not None]
    (row,) = [tr for name, tr in by_input(doc).items() if name.endswith("talk.mp4") and HOSTILE not in name]
    whys = row.xpath("td[@class='moments']/small[@class='why']/text()")
    assert measured and any(f"{measured[0]:g} dBFS" in why for why in whys), (measured, whys)
