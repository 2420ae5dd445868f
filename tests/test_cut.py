"""``mediatagger timeline``: an editor's cut read with real OpenTimelineIO adapters, tagged, written back.

Timelines are built here at 23.976, 25 and 29.97 DF from two sources (re-encoded at the rate),
trimmed, reordered and with a gap, with each video clip's sound linked on A1. Each is written with
the consumer's own writer (OpenTimelineIO's otio_json, fcp_xml and cmx_3600; FCPXML by ours, checked
against Apple's DTD), then tagged. Where each marker must land is computed here from the analysis
spans and the clips' ranges, by the rule of ``mediatagger.timecode`` (a frame is on screen from its
start rounded to the millisecond), not by the code under test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from lxml import etree

from mediatagger import analysis, api, fcpxml_timeline, media
from mediatagger.tags import label_name
from mediatagger.timecode import format_rate
from tests import readers
from tests.conftest import TALK, TWO_TRACKS, ffmpeg, run_cli

pytestmark = pytest.mark.slow
RATES = {"23.976": Fraction(24000, 1001), "25": Fraction(25), "29.97": Fraction(30000, 1001)}
START_TC = {"23.976": "01:00:00:00", "25": "01:00:00:00", "29.97": "01:00:00;00"}
KINDS = ("events", "emotions")


@dataclass(frozen=True)
class Used:
    """A clip as the test built it: its media, the frames it uses and where they sit."""

    name: str
    media: Path
    source: int   # first frame used, from the media's first
    frames: int
    record: int   # from the timeline's first frame


def on_screen(ms: int, rate: Fraction) -> int:
    """The frame on screen at ``ms``: the last whose start, rounded half up to the ms, is at or before it."""
    k = max(0, math.floor(Fraction(ms) * rate / 1000) - 2)
    while math.floor(Fraction((k + 1) * 1000) / rate + Fraction(1, 2)) <= ms:
        k += 1
    return k


def expected(doc: analysis.Analysis, clip: Used, rate: Fraction) -> list[tuple[str, float | None, int]]:
    """(label, score, source frame of its first frame on screen in the clip) for every span the clip shows."""
    out = []
    for span in (s for kind in KINDS for s in doc.spans(kind)):
        first, last = on_screen(span.start_ms, rate), on_screen(span.end_ms, rate)
        if max(last, first + 1) > clip.source and first < clip.source + clip.frames:
            out.append((span.label, span.score, max(first, clip.source)))
    return sorted(out, key=lambda e: e[2])


@pytest.fixture(scope="session")
def sources(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """talk.mp4 and two_tracks.mov (its first audio track) at each rate, re-encoded once."""
    folder = tmp_path_factory.mktemp("sources")
    out = {}
    for name, rate in RATES.items():
        pair = []
        for source, stem in ((TALK, "talk"), (TWO_TRACKS, "two")):
            target = folder / f"{stem}_{name}{source.suffix}"
            ffmpeg("-i", source, "-map", "0:v:0", "-map", "0:a:0", "-r", format_rate(rate), "-c:v", "libx264",
                   "-preset", "ultrafast", "-c:a", "aac", target)
            pair.append(target)
        out[name] = (pair[0], pair[1])
    return out


@pytest.fixture(scope="session")
def tagger(tiny_model) -> api.Tagger:
    return api.Tagger(model=str(tiny_model), vad="silero")


def layout(name: str, sources: dict[str, tuple[Path, Path]]) -> list[Used | int]:
    """talk 2 s..7 s, a 1 s gap, two 1 s..9 s, then talk 10 s..16 s: trimmed, reordered, with a gap."""
    rate = RATES[name]
    talk, two = sources[name]
    f = lambda seconds: round(seconds * rate)  # noqa: E731
    return [Used("talk early", talk, f(2), f(5), 0), f(1), Used("two", two, f(1), f(8), f(6)),
            Used("talk late", talk, f(10), f(6), f(14))]


def own_timecode(path: Path, rate: float) -> int:
    """The media file's start timecode (two_tracks.mov has 10:00:00:00) as a frame count, by OpenTimelineIO."""
    timecode = media.probe(path).start_timecode
    return otio.opentime.from_timecode(timecode, rate).to_frames() if timecode else 0


def build(name: str, sources: dict[str, tuple[Path, Path]], audio: bool = True) -> otio.schema.Timeline:
    rate = float(RATES[name])
    time = lambda frames: otio.opentime.RationalTime(frames, rate)  # noqa: E731
    timeline = otio.schema.Timeline(name=f"cut {name}",
                                    global_start_time=otio.opentime.from_timecode(START_TC[name], rate))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(video)
    for item in layout(name, sources):
        if isinstance(item, int):
            video.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(time(0), time(item))))
            continue
        first = own_timecode(item.media, rate)   # source time counts from the media's own timecode
        ref = otio.schema.ExternalReference(target_url=item.media.as_uri(), available_range=otio.opentime.TimeRange(
            time(first), time(round(20 * rate))))
        video.append(otio.schema.Clip(name=item.name, media_reference=ref, source_range=otio.opentime.TimeRange(
            time(first + item.source), time(item.frames))))
    if audio:
        sound = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
        for item in video:
            sound.append(item.clone())
        timeline.tracks.append(sound)
    return timeline


def write_cut(name: str, fmt: str, sources: dict, folder: Path) -> Path:
    rate = RATES[name]
    if fmt == "fcpxml":
        timeline = build(name, sources)
        media = {c.media_reference.target_url: (c.media_reference.available_range.start_time.to_frames(),
                                                round(20 * rate), True) for c in timeline.find_clips()}
        text = fcpxml_timeline.write(timeline, rate, (640, 360), name == "29.97", media)
        root = etree.fromstring(text.encode())
        dtd = etree.DTD(str(readers.FCPXML_DTD)) if readers.FCPXML_DTD.is_file() else None
        assert dtd is None or dtd.validate(root), dtd.error_log.filter_from_errors()
    elif fmt == "edl":   # one video track: CMX 3600 has no room for more
        text = otio.adapters.write_to_string(build(name, sources, audio=False), "cmx_3600")
    else:
        text = otio.adapters.write_to_string(build(name, sources), {"otio": "otio_json", "xmeml": "fcp_xml"}[fmt])
        if fmt == "xmeml" and name == "29.97":   # as Premiere writes a drop-frame sequence
            text = text.replace("<displayformat>NDF</displayformat>", "<displayformat>DF</displayformat>")
    path = folder / f"cut_{name.replace('.', '')}.{ {'xmeml': 'xml'}.get(fmt, fmt)}"
    path.write_text(text, encoding="utf-8")
    return path


def clip_markers_read_back(path: Path, fmt: str) -> dict[str, list[otio.schema.Marker]]:
    """The video clips' markers, by clip name, as the format's reader gives them."""
    if fmt == "fcpxml":
        root = etree.parse(str(path)).getroot()
        if readers.FCPXML_DTD.is_file():
            dtd = etree.DTD(str(readers.FCPXML_DTD))
            assert dtd.validate(root), dtd.error_log.filter_from_errors()
        timeline = fcpxml_timeline.read(path)
    else:
        timeline = otio.adapters.read_from_file(str(path), {"otio": "otio_json", "xmeml": "fcp_xml"}[fmt])
    video = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video][0]
    return {c.name: list(c.markers) for c in video.find_clips(shallow_search=True)}


def check_clip_markers(got: dict[str, list], name: str, sources: dict, analyses: dict[Path, analysis.Analysis],
                       fmt: str = "otio"):
    rate = RATES[name]
    for clip in (c for c in layout(name, sources) if isinstance(c, Used)):
        want, markers = expected(analyses[clip.media], clip, rate), got[clip.name]
        assert len(markers) == len(want), clip.name
        # markers are in source time, from the media's timecode; FCP7 XML counts them from its first frame
        first = 0 if fmt == "xmeml" else own_timecode(clip.media, float(rate))
        frames = [round(m.marked_range.start_time.to_seconds() * rate) - first for m in markers]
        assert len(set(frames)) == len(frames), "two markers on one frame"
        assert all(clip.source <= f < clip.source + clip.frames for f in frames), "a marker outside the clip"
        for (label, _, frame), marker, at in zip(want, sorted(markers, key=lambda m: m.marked_range.start_time),
                                                 sorted(frames)):
            assert marker.name == label_name(label)
            assert at == frame or (at > frame and "starts" in (marker.comment or marker.metadata.get(
                "fcp_xml", {}).get("comment", ""))), (clip.name, label, frame, at)


def analyses_of(out: Path, name: str, sources: dict) -> dict[Path, analysis.Analysis]:
    return {p: analysis.load(out / f"{p.stem}.analysis.json") for p in sources[name]}


@pytest.mark.parametrize("name", RATES)
@pytest.mark.parametrize("fmt", ["otio", "xmeml", "fcpxml"])
def test_markers_land_on_each_clip_where_its_spans_are_on_screen(name, fmt, sources, tagger, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"cut-{fmt}")
    cut_file = write_cut(name, fmt, sources, folder)
    out = tmp_path_factory.getbasetemp() / f"tagged-{name}"   # one folder a rate: each source tagged once
    written = tagger.tag_timeline(cut_file, out)
    (result,) = [w.path for w in written]
    assert result.name == f"{cut_file.stem}.tagged{cut_file.suffix}"
    check_clip_markers(clip_markers_read_back(result, fmt), name, sources, analyses_of(out, name, sources), fmt)
    assert cut_file.read_text(encoding="utf-8") == write_cut(name, fmt, sources, tmp_path_factory.mktemp("again")
                                                             ).read_text(encoding="utf-8")  # input untouched


def record_expected(name: str, sources: dict, analyses: dict) -> list[tuple[str, int]]:
    out = []
    for clip in (c for c in layout(name, sources) if isinstance(c, Used)):
        out += [(label, clip.record + frame - clip.source) for label, _, frame in expected(analyses[clip.media], clip,
                                                                                         RATES[name])]
    return sorted(out, key=lambda e: e[1])


@pytest.mark.parametrize("name", RATES)
def test_timeline_level_markers_land_on_the_record_frame(name, sources, tagger, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cut-edl")
    cut_file = write_cut(name, "edl", sources, folder)
    out = tmp_path_factory.getbasetemp() / f"tagged-{name}"
    written = {w.path.suffix: w.path for w in tagger.tag_timeline(cut_file, out, ["edl", "csv", "ass"])}
    rate, analyses = RATES[name], analyses_of(out, name, sources)
    header, events = readers.resolve_edl(written[".edl"].read_text())
    assert header["FCM"] == ("DROP FRAME" if name == "29.97" else "NON-DROP FRAME")
    start = otio.opentime.from_timecode(START_TC[name], float(rate)).to_frames()   # the preset's 01:00:00:00
    frames = [otio.opentime.from_timecode(e.rec_in, float(rate)).to_frames() - start for e in events]
    want = record_expected(name, sources, analyses)
    assert len(events) == len(want)
    assert len(set(frames)) == len(frames)
    for (label, frame), event, at in zip(want, events, frames):
        assert event.name == label_name(label)
        assert at == frame or (at > frame and "starts" in event.note), (label, frame, at)


def otio_cut(name: str, sources: dict, folder: Path, change=None) -> Path:
    timeline = build(name, sources)
    if change is not None:
        change(timeline)
    path = folder / "cut.otio"
    path.write_text(otio.adapters.write_to_string(timeline, "otio_json"), encoding="utf-8")
    return path


def tagged_clips(path: Path) -> dict[str, list[tuple[str, int]]]:
    timeline = otio.adapters.read_from_file(str(path))
    return {c.name: [(m.name, m.marked_range.start_time.to_frames()) for m in c.markers]
            for c in timeline.tracks[0].find_clips(shallow_search=True)}


def test_a_transition_shifts_no_marker(sources, tagger, tmp_path):
    (tmp_path / "a").mkdir()
    plain = tagger.tag_timeline(otio_cut("25", sources, tmp_path / "a"), tmp_path / "out")

    def dissolve(timeline):   # a 10-frame dissolve between "two" and "talk late"
        video = timeline.tracks[0]
        video.insert(3, otio.schema.Transition(in_offset=otio.opentime.RationalTime(5, 25),
                                               out_offset=otio.opentime.RationalTime(5, 25)))
    (tmp_path / "b").mkdir()
    crossed = tagger.tag_timeline(otio_cut("25", sources, tmp_path / "b", dissolve), tmp_path / "out2")
    assert tagged_clips(plain[0].path) == tagged_clips(crossed[0].path)
    assert sum(len(m) for m in tagged_clips(crossed[0].path).values()) > 0


def test_a_speed_change_is_left_out_with_a_warning_naming_the_clip(sources, tiny_model, tmp_path):
    def faster(timeline):
        timeline.tracks[0][2].effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
        timeline.tracks[1][2].effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
    cut_file = otio_cut("25", sources, tmp_path, faster)
    done = run_cli("timeline", cut_file, "-o", tmp_path / "out", "--model", tiny_model, "--vad", "silero", "-q")
    assert done.returncode == 0, done.stderr
    assert "warning: clip 'two' on V1: speed change" in done.stderr
    clips = tagged_clips(tmp_path / "out" / "cut.tagged.otio")
    assert clips["two"] == [] and clips["talk early"] and clips["talk late"]


def test_missing_media_are_named_together_and_media_root_finds_them(sources, tiny_model, tmp_path):
    moved = tmp_path / "moved" / "deeper"
    moved.mkdir(parents=True)
    copies = []
    for source in sources["25"]:
        copy = tmp_path / source.name
        copy.write_bytes(source.read_bytes())
        copies.append(copy)
    cut_file = otio_cut("25", {"25": tuple(copies)}, tmp_path)
    for copy in copies:
        copy.rename(moved / copy.name)
    done = run_cli("timeline", cut_file, "-o", tmp_path / "out", "--model", tiny_model, "--vad", "silero")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert str(cut_file) in line and "2 media files not found" in line and "--media-root" in line
    assert all(copy.name in line for copy in copies)
    assert not (tmp_path / "out").exists()
    done = run_cli("timeline", cut_file, "-o", tmp_path / "out", "--media-root", tmp_path / "moved", "--model",
                   tiny_model, "--vad", "silero", "--to", "otio,edl,ass", "-q")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"cut.tagged.otio", "cut.tagged.edl", "cut.tagged.ass"}
    rerun = run_cli("timeline", cut_file, "-o", tmp_path / "out", "--media-root", tmp_path / "moved", "--model",
                    tiny_model, "--vad", "silero", "--to", "otio,edl,ass")
    assert rerun.returncode == 0 and rerun.stderr.count("unchanged: ") == 3   # same analyses, same outputs


def test_the_cuts_subtitles_follow_record_time(sources, tagger, tmp_path):
    import pysubs2

    cut_file = otio_cut("25", sources, tmp_path)
    out = tmp_path / "out"
    (ass,) = tagger.tag_timeline(cut_file, out, ["ass"])
    subs = pysubs2.load(str(ass.path))
    analyses = analyses_of(out, "25", sources)
    clip = next(c for c in layout("25", sources) if isinstance(c, Used) and c.name == "talk late")
    laughs = [s for s in analyses[clip.media].spans("events") if s.label == "APPLAUSE"
              and clip.source <= on_screen(s.start_ms, RATES["25"]) < clip.source + clip.frames]
    badges = [e for e in subs if e.style == "Badge"]
    for span in laughs:   # the applause of talk's second half shows where that half sits in the cut
        at = (clip.record + on_screen(span.start_ms, RATES["25"]) - clip.source) * 40
        assert any(abs(b.start - at) < 40 and "Applause" in b.plaintext for b in badges), (at, badges)
    assert laughs


def test_a_file_that_is_no_timeline_is_one_line(tmp_path, tiny_model):
    bad = tmp_path / "cut.xml"
    bad.write_text("<xmeml><sequence><broken></xmeml>")
    done = run_cli("timeline", bad, "-o", tmp_path / "out", "--model", tiny_model)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and str(bad) in done.stderr
    odd = tmp_path / "cut.mov"
    odd.write_bytes(b"x")
    done = run_cli("timeline", odd, "-o", tmp_path / "out")
    assert done.returncode != 0 and ".fcpxml" in done.stderr and "Traceback" not in done.stderr


def test_the_reel_of_a_cut_is_cut_from_record_time(sources, tiny_model, tmp_path):
    """Each clip of the reel holds the cut's record frames: its frame n is the frame the cut shows there."""
    import json

    from tests.conftest import frame_count, gray_frame

    cut_file = otio_cut("25", sources, tmp_path)
    out = tmp_path / "out"
    done = run_cli("reel", cut_file, "-o", out, "--model", tiny_model, "--vad", "silero", "--labels",
                   "LAUGHTER,APPLAUSE,BGM", "--crossfade", "0", "-q")
    assert done.returncode == 0, done.stderr
    plan = json.loads((out / "cut.clips.json").read_text())
    assert plan["clips"] and (out / "cut.reel.mp4").is_file()
    rate, pieces = RATES["25"], [c for c in layout("25", sources) if isinstance(c, Used)]
    checked = 0
    for clip in plan["clips"]:
        path = out / clip["file"]
        assert frame_count(path)[0] == clip["frames"]
        for n in (0, clip["frames"] // 2):
            record = clip["in_frame"] + n
            piece = next((p for p in pieces if p.record <= record < p.record + p.frames), None)
            if piece is None:
                continue   # the gap: black
            shot = gray_frame(path, n)
            same = gray_frame(piece.media, piece.source + record - piece.record)
            other = gray_frame(piece.media, (piece.source + record - piece.record + 120) % round(14 * rate))
            assert abs(shot - same).mean() < 6 < abs(shot - other).mean(), (clip["file"], n)
            checked += 1
    assert checked >= 2
    total = sum(c["frames"] for c in plan["clips"])
    assert frame_count(out / "cut.reel.mp4")[0] == total


@pytest.mark.parametrize("name", ["25", "29.97"])
def test_resolve_script_markers_are_the_cuts_record_markers(name, sources, tagger, tmp_path_factory):
    """What the Resolve script passes to Timeline.AddMarker, from the clips as Resolve's API lists them."""
    from mediatagger.editors import resolve

    rate = RATES[name]
    out = tmp_path_factory.getbasetemp() / f"tagged-{name}"
    tagger.tag_timeline(write_cut(name, "otio", sources, tmp_path_factory.mktemp("resolve")), out, ["otio"])
    analyses = analyses_of(out, name, sources)
    start = otio.opentime.from_timecode(START_TC[name], float(rate)).to_frames()   # GetStartFrame()
    items = [resolve.Item(c.name, c.media, track, start + c.record, c.source, c.frames)
             for c in layout(name, sources) if isinstance(c, Used) for track in ("V1", "A1")]
    placed = resolve.timeline_markers(items, analyses, rate, start, api.preset_of("default"))
    want = record_expected(name, sources, analyses)
    assert len(placed) == len(want) and len({m.frame for m in placed}) == len(placed)
    for (label, frame), marker in zip(want, placed):
        assert marker.name == label_name(label) and marker.custom == f"mediatagger:{label}"
        assert marker.frame == frame or (marker.frame > frame and "starts" in marker.note)
    assert all(m.color in presets_colors() for m in placed) and all(m.duration >= 1 for m in placed)


def presets_colors() -> tuple[str, ...]:
    from mediatagger.presets import RESOLVE_COLORS

    return RESOLVE_COLORS


def test_a_kdenlive_cut_gets_guides_in_record_time(sources, tagger, tmp_path):
    """The Kdenlive adapter writes only timeline-level markers: they come back as the cut's guides."""
    if "kdenlive" not in [a.name for a in otio.plugins.ActiveManifest().adapters]:
        pytest.skip("no OpenTimelineIO Kdenlive adapter (pip install otio-kdenlive-adapter)")
    cut_file = tmp_path / "cut.kdenlive"
    cut_file.write_text(otio.adapters.write_to_string(build("25", sources), "kdenlive"), encoding="utf-8")
    out = tmp_path / "out"
    (written,) = tagger.tag_timeline(cut_file, out)
    assert written.path == out / "cut.tagged.kdenlive"
    guides = otio.adapters.read_from_file(str(written.path)).tracks.markers
    want = record_expected("25", sources, analyses_of(out, "25", sources))
    frames = [g.marked_range.start_time.to_frames() for g in guides]
    assert len(guides) == len(want) and len(set(frames)) == len(frames)
    for (label, frame), guide, at in zip(want, guides, frames):
        assert guide.name == label_name(label) and (at == frame or at > frame)


def test_tagging_a_tagged_cut_again_adds_no_second_set(sources, tagger, tmp_path):
    (once,) = tagger.tag_timeline(otio_cut("25", sources, tmp_path), tmp_path / "out")
    (twice,) = tagger.tag_timeline(once.path, tmp_path / "out")
    assert twice.path.name == "cut.tagged.tagged.otio"
    assert tagged_clips(once.path) == tagged_clips(twice.path)


def test_an_edls_record_start_is_the_cuts_start(sources, tagger, tmp_path):
    """OpenTimelineIO's EDL reader keeps no start: the first event's record timecode is where the cut starts."""
    import re

    from mediatagger import presets

    text = write_cut("25", "edl", sources, tmp_path).read_text()
    shifted = re.sub(r"(\d\d:\d\d:\d\d:\d\d) (\d\d:\d\d:\d\d:\d\d)$",
                     lambda m: " ".join("10" + tc[2:] for tc in m.groups()), text, flags=re.MULTILINE)
    assert shifted.count(" 10:00:") >= 3
    cut_file = tmp_path / "shifted.edl"
    cut_file.write_text(shifted)
    source_start = tagger.variant(presets.override(tagger.preset, "edl", start_tc="source"))
    (edl,) = source_start.tag_timeline(cut_file, tmp_path / "out", ["edl"])
    _, events = readers.resolve_edl(edl.path.read_text())
    start = otio.opentime.from_timecode("10:00:00:00", 25).to_frames()
    frames = [otio.opentime.from_timecode(e.rec_in, 25).to_frames() - start for e in events]
    want = record_expected("25", sources, analyses_of(tmp_path / "out", "25", sources))
    assert [label_name(label) for label, _ in want] == [e.name for e in events]
    assert all(at == frame or at > frame for (_, frame), at in zip(want, frames)) and frames[0] == want[0][1]


def test_tagging_a_tagged_fcpxml_again_keeps_one_set(sources, tagger, tmp_path):
    """FCPXML keeps no metadata: our markers are known by their names and notes."""
    once = tagger.tag_timeline(write_cut("25", "fcpxml", sources, tmp_path), tmp_path / "out")[0].path
    twice = tagger.tag_timeline(once, tmp_path / "out")[0].path
    count = lambda path: {k: len(v) for k, v in clip_markers_read_back(path, "fcpxml").items()}  # noqa: E731
    assert count(once) == count(twice) and sum(count(once).values()) > 0


def test_an_edl_audio_event_keeps_its_record_time(tagger, tmp_path):
    """OpenTimelineIO starts each EDL track at its own first event: an A event 10 s in stays 10 s in."""
    edl = tmp_path / "audio.edl"
    edl.write_text("TITLE: audio\nFCM: NON-DROP FRAME\n\n"
                   "001  AX       V     C        00:00:00:00 00:00:03:00 01:00:00:00 01:00:03:00\n"
                   "* FROM CLIP NAME: talk.mp4\n\n"
                   "002  AX       A     C        00:00:10:00 00:00:14:00 01:00:10:00 01:00:14:00\n"
                   "* FROM CLIP NAME: talk.mp4\n")
    from mediatagger import cut

    timeline = cut.read(edl, TALK.parent, Fraction(25))
    assert timeline.start == 90000 and sorted((p.track, p.record, p.source) for p in timeline.pieces) == \
        [("A1", 250, 250), ("V", 0, 0)]


def test_titles_and_bare_clips_do_not_stop_the_cut(sources, tagger, tmp_path):
    def extras(timeline):
        video = timeline.tracks[0]
        video.append(otio.schema.Clip(name="Title", media_reference=otio.schema.GeneratorReference(
            generator_kind="SolidColor"), source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(50, 25))))
        video[0].source_range = None   # the whole media: its available range
    warnings: list[str] = []
    (out,) = tagger.tag_timeline(otio_cut("25", sources, tmp_path, extras), tmp_path / "out", warn=warnings.append)
    assert any("'Title'" in w and "no media file" in w for w in warnings)
    clips = tagged_clips(out.path)
    assert clips["talk early"] and clips["Title"] == []


def test_media_root_prefers_the_path_the_timeline_names(tmp_path):
    from mediatagger import cut

    for cam in ("CAM_A", "CAM_B"):
        (tmp_path / "cards" / cam).mkdir(parents=True)
        (tmp_path / "cards" / cam / "C0001.MP4").write_bytes(cam.encode())
    found = cut.find_media("/Volumes/old/CAM_B/C0001.MP4", tmp_path, tmp_path / "cards")
    assert found == (tmp_path / "cards" / "CAM_B" / "C0001.MP4").resolve()
    assert cut.find_media("/Volumes/old/C0001.MP4", tmp_path, tmp_path / "cards") is None   # two: neither
    (tmp_path / "cards" / "CAM_A" / "my [a] take.mp4").write_bytes(b"x")
    assert cut.find_media("/x/my [a] take.mp4", tmp_path, tmp_path / "cards") is not None


def test_a_marker_never_steps_back_out_of_its_clip():
    from mediatagger.exporters import markers

    assert markers.free_frame(150, {150, 151}, 152, 150) is None
    assert markers.free_frame(151, {151}, 152, 150) == 150


def nle_fcpxml(name: str, sources: dict) -> str:
    """The layout as Final Cut Pro and Resolve export a timeline that starts at 01:00:00:00: tcStart is that
    timecode's time and each spine item's offset is tcStart plus its record time (Resolve: ``tcStart="3600/1s"``
    and a first ``asset-clip offset="3600/1s"``); the gap's start is its offset, as Final Cut writes it; each
    asset starts at its media's own timecode."""
    rate = RATES[name]
    tc = otio.opentime.from_timecode(START_TC[name], float(rate)).to_frames()
    t = lambda frames: "0s" if frames == 0 else f"{frames * rate.denominator}/{rate.numerator}s"  # noqa: E731
    drop = "DF" if name == "29.97" else "NDF"
    ids = {path: f"r{n}" for n, path in enumerate(sources[name], 2)}
    assets = "".join(
        f'\n        <asset id="{ids[path]}" name="{path.name}" start="{t(own_timecode(path, float(rate)))}" '
        f'duration="{t(round(20 * rate))}" hasVideo="1" hasAudio="1" format="r1">'
        f'\n            <media-rep kind="original-media" src="{path.as_uri()}"/>\n        </asset>' for path in ids)
    items, cursor = [], 0
    for item in layout(name, sources):
        if isinstance(item, int):
            items.append(f'<gap name="Gap" offset="{t(tc + cursor)}" start="{t(tc + cursor)}" duration="{t(item)}"/>')
            cursor += item
            continue
        first = own_timecode(item.media, float(rate))
        items.append(f'<asset-clip ref="{ids[item.media]}" name="{item.name}" offset="{t(tc + item.record)}" '
                     f'start="{t(first + item.source)}" duration="{t(item.frames)}" format="r1" tcFormat="{drop}" '
                     'enabled="1"/>')
        cursor = item.record + item.frames
    spine = "".join(f"\n                        {item}" for item in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
    <resources>
        <format id="r1" name="FFVideoFormat360p" frameDuration="{t(1)}" width="640" height="360"/>{assets}
    </resources>
    <library>
        <event name="Timeline 1 (Resolve)">
            <project name="Timeline 1 (Resolve)">
                <sequence format="r1" duration="{t(cursor)}" tcStart="{t(tc)}" tcFormat="{drop}">
                    <spine>{spine}
                    </spine>
                </sequence>
            </project>
        </event>
    </library>
</fcpxml>
"""


@pytest.mark.parametrize("name", ["25", "29.97"])
def test_regression_an_fcpxml_cut_starting_at_one_hour_put_every_record_marker_an_hour_late(
        name, sources, tiny_model, tmp_path_factory):
    """The reader counted spine offsets from 0, not from tcStart: a one-hour gap before the first clip, so
    every record marker (and the reel) an hour late; the writer put the spine an hour before tcStart."""
    rate, folder = RATES[name], tmp_path_factory.mktemp("nle")
    cut_file = folder / f"nle_{name.replace('.', '')}.fcpxml"
    text = nle_fcpxml(name, sources)
    cut_file.write_text(text, encoding="utf-8")
    dtd = etree.DTD(str(readers.FCPXML_DTD)) if readers.FCPXML_DTD.is_file() else None
    assert dtd is None or dtd.validate(etree.fromstring(text.encode())), dtd.error_log.filter_from_errors()
    out = tmp_path_factory.getbasetemp() / f"tagged-{name}"   # one folder a rate: each source tagged once
    done = run_cli("timeline", cut_file, "-o", out, "--model", tiny_model, "--vad", "silero", "--to", "fcpxml,edl",
                   "-q")
    assert done.returncode == 0, done.stderr
    analyses = analyses_of(out, name, sources)
    tc = otio.opentime.from_timecode(START_TC[name], float(rate)).to_frames()

    # record markers: the cut's own start (tcStart) plus each clip's record frame, not an hour later
    header, events = readers.resolve_edl((out / f"{cut_file.stem}.tagged.edl").read_text())
    assert header["FCM"] == ("DROP FRAME" if name == "29.97" else "NON-DROP FRAME")
    want = record_expected(name, sources, analyses)
    frames = [otio.opentime.from_timecode(e.rec_in, float(rate)).to_frames() - tc for e in events]
    assert len(events) == len(want) > 0 and events[0].rec_in.startswith("01:00:")
    for (label, frame), event, at in zip(want, events, frames):
        assert event.name == label_name(label)
        assert at == frame or (at > frame and "starts" in event.note), (label, frame, at)

    # the FCPXML written back: the editor's spine (first item at tcStart), valid, the same record times
    written = out / f"{cut_file.stem}.tagged.fcpxml"
    root = etree.parse(str(written)).getroot()
    sequence, given = root.find(".//sequence"), etree.fromstring(text.encode()).find(".//sequence")
    assert readers.seconds(sequence.get("tcStart")) == readers.seconds(given.get("tcStart")) == Fraction(tc) / rate
    offsets = [readers.seconds(e.get("offset")) for e in root.find(".//spine")]
    assert offsets[0] == readers.seconds(sequence.get("tcStart"))
    assert offsets == [readers.seconds(e.get("offset")) for e in given.find(".//spine")]
    check_clip_markers(clip_markers_read_back(written, "fcpxml"), name, sources, analyses, "fcpxml")   # validates
    placed = {c.name: c.record for c in layout(name, sources) if isinstance(c, Used)}
    ours = fcpxml_timeline.read(written)
    assert ours.global_start_time.to_frames() == tc
    assert {c.name: c.range_in_parent().start_time.to_frames() for c in ours.tracks[0].find_clips()} == placed
    if "fcpx_xml" in [a.name for a in otio.plugins.ActiveManifest().adapters]:
        # OpenTimelineIO's adapter reads no tcStart (its spine counts from 0) and labels 29.97 as 29 fps; the
        # values of its spine clips' places are still the frame counts of their offsets
        (theirs,) = otio.adapters.read_from_file(str(written), "fcpx_xml")
        spine = [t for t in theirs.tracks if t.name == "0"][0]
        assert {c.name: int(c.range_in_parent().start_time.value) - tc
                for c in spine.find_clips(shallow_search=True)} == placed
