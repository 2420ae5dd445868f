"""YouTube chapters (``--export chapters``): every list keeps YouTube's rules (first at 0:00, at least
three, each at least 10 s, in order), read back by a parser of the description format written here from
YouTube's help page, not from the exporter."""

from __future__ import annotations

import re

import pytest

from mediatagger import analysis, presets
from mediatagger.errors import UsageError
from mediatagger.exporters import EXPORTERS
from tests.conftest import load_fixed, repeated, run_cli

LINE = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2}) (\S.*)")


def read_chapters(text: str) -> list[tuple[int, str]]:
    """(seconds, title) per line of a description's chapter list."""
    out = []
    for line in text.splitlines():
        found = LINE.fullmatch(line)
        assert found, f"not a chapter line: {line!r}"
        hours, minutes, seconds, title = found.groups()
        out.append((int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds), title))
    return out


def rule_breaks(text: str, duration_s: int) -> list[str]:
    """How the list breaks YouTube's chapter rules (none: YouTube shows the chapters)."""
    chapters = read_chapters(text)
    times = [t for t, _ in chapters]
    lengths = [b - a for a, b in zip(times, [*times[1:], duration_s])]
    return ([] if times[:1] == [0] else ["the first chapter is not at 0:00"]) + \
        ([] if len(times) >= 3 else [f"{len(times)} chapters, fewer than 3"]) + \
        [f"chapter at {t} s lasts {n} s" for t, n in zip(times, lengths) if n < 10] + \
        [f"title {title!r} has < or >" for _, title in chapters if "<" in title or ">" in title]


def chapters_of(doc: analysis.Analysis) -> str:
    return EXPORTERS["chapters"].to_string(doc, presets.load())


@pytest.mark.parametrize("times", [2, 3, 9, 30, 200])   # 40 s to an hour and six minutes
def test_every_list_keeps_youtubes_rules(times):
    doc = repeated(load_fixed(), times)
    text = chapters_of(doc)
    assert rule_breaks(text, doc.source.duration_ms // 1000) == []
    assert len(read_chapters(text)) <= 1 + max(3, doc.source.duration_ms // 120_000)   # a moment each 2 min


def test_chapters_start_at_the_setup_of_a_moment_and_are_named_by_it():
    doc = repeated(load_fixed(), 30)   # ten minutes: a laugh, applause and music every 20 s
    chapters = read_chapters(chapters_of(doc))
    assert chapters[0] == (0, "Music: And that is when the music started.")   # the music from 14 s, its setup at 7 s
    starts = {s.start_ms // 1000: s.text for _, s in doc.segments()}
    for at, title in chapters[1:]:
        label, _, said = title.partition(": ")
        assert label in ("Laughter", "Applause", "Music", "Crying"), title
        assert starts[at] == said, (at, title)   # the line the chapter starts with


def test_an_hour_long_video_has_hours_in_every_time():
    text = chapters_of(repeated(load_fixed(), 200))
    assert all(re.match(r"\d+:\d{2}:\d{2} ", line) for line in text.splitlines())
    assert text.splitlines()[-1].startswith("1:0")


def test_a_show_without_moments_is_split_at_lines_said():
    doc = analysis.to_dict(repeated(load_fixed(), 6))   # two minutes, the spans taken away
    doc["tracks"][0]["events"] = []
    doc = analysis.from_dict(doc)
    chapters = read_chapters(chapters_of(doc))
    assert rule_breaks(chapters_of(doc), 120) == []
    lines = {s.text for _, s in doc.segments()}
    assert all(title in lines for _, title in chapters)


def test_a_silent_show_is_split_where_it_can_be():
    doc = analysis.to_dict(repeated(load_fixed(), 2))
    doc["tracks"][0].update(events=[], emotions=[], segments=[])
    text = chapters_of(analysis.from_dict(doc))
    assert read_chapters(text) == [(0, "Start"), (10, "Part"), (20, "Part")]


def test_titles_are_one_short_line_without_angle_brackets():
    doc = analysis.to_dict(repeated(load_fixed(), 3))
    doc["tracks"][0]["events"] = []
    doc["tracks"][0]["segments"][0]["text"] = "<b>Hello</b>\nthere " + "word " * 40
    text = chapters_of(analysis.from_dict(doc))
    first = read_chapters(text)[0][1]
    assert first.startswith("bHello/b there word") and first.endswith("…") and len(first) <= 81
    assert rule_breaks(text, 60) == []


def test_a_video_under_thirty_seconds_is_refused_naming_it():
    with pytest.raises(UsageError, match=r"talk\.mp4: 20 s is too short for YouTube chapters"):
        chapters_of(load_fixed())


def test_the_cli_says_so_in_one_line_and_writes_nothing(tmp_path):
    source = tmp_path / "talk.analysis.json"
    source.write_text(EXPORTERS["json"].to_string(load_fixed(), presets.load()), encoding="utf-8")
    done = run_cli("export", source, "--export", "chapters,edl", "-o", tmp_path / "out")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(
        "talk.mp4: 20 s is too short for YouTube chapters (they need 3 of at least 10 s)")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_longer_show_exports_chapters_from_the_cli(tmp_path):
    source = tmp_path / "show.analysis.json"
    source.write_text(EXPORTERS["json"].to_string(repeated(load_fixed(), 9), presets.load()), encoding="utf-8")
    done = run_cli("export", source, "--export", "chapters", "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert rule_breaks((tmp_path / "out" / "show.chapters.txt").read_text(encoding="utf-8"), 180) == []
