"""FCPXML times from outside: read through one bounded parser, kept exact, refused in one line.

Each case runs the real program (``mediatagger timeline`` / ``reel``) on an FCPXML next to a real clip,
under the audit hook of ``tests/audited.py``: the exit code, the one-line message naming the file, nothing
read but the timeline (a refused cut never reaches its media: no ffmpeg starts) and nothing written.
The spine-origin cases at the end (where tcStart puts each clip) read and write the FCPXML directly.
"""

from __future__ import annotations

import re
import shutil
import time
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from lxml import etree

from mediatagger import fcpxml_timeline
from tests import audited, readers
from tests.conftest import DATA, TALK
from tests.reliability import case

ELEMENTS = {"duration": "asset-clip 'talk'", "offset": "asset-clip 'talk'", "start": "asset-clip 'talk'",
            "tcStart": "the sequence", "frameDuration": "format r1"}
TAGS = {"asset-clip 'talk'": "asset-clip", "the sequence": "sequence", "format r1": "format"}


def cut_with(sandbox: Path, attribute: str, value: str, media: Path | None = None) -> Path:
    """tests/data/talk.fcpxml (a 20 s clip at 29.97 on a one-hour timeline) with ``attribute`` of its
    element set to ``value``, pointing at ``media`` (a copy of samples/talk.mp4 in the sandbox)."""
    if media is None:
        media = sandbox / "media" / "talk.mp4"
        media.parent.mkdir(exist_ok=True)
        shutil.copy(TALK, media)
    text = (DATA / "talk.fcpxml").read_text().replace("file:///media/talk.mp4", media.as_uri())
    tag = TAGS[ELEMENTS[attribute]]
    head, project, timeline = text.partition("<project")   # the timeline's element, not the browser clip's

    def changing(part: str) -> str:
        return re.sub(rf'(<{tag}\b[^>]*? {attribute}=")[^"]*"', lambda m: m.group(1) + value + '"', part, count=1)

    changed = head + project + changing(timeline) if changing(timeline) != timeline else changing(head) + project + \
        timeline
    assert changed != text, (attribute, tag)
    path = sandbox / "cut.fcpxml"
    path.write_text(changed)
    return path


def refused(sandbox: Path, command: str, *args: str | Path) -> str:
    """Run ``mediatagger COMMAND cut.fcpxml -o out``: it must end at once with exit 1 and one line naming
    the file, having started no program, read nothing but the cut and written nothing. Returns the line."""
    started = time.monotonic()
    done = audited.run(sandbox, command, "cut.fcpxml", "-o", "out", *args, timeout=60)
    seconds = time.monotonic() - started
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, (done.returncode, done.stderr)
    assert lines[0].startswith("mediatagger: error: cut.fcpxml: "), lines[0]
    assert seconds < 30, f"took {seconds:.1f} s to refuse"   # the interpreter's start included; was: forever
    assert not done.programs, f"started {done.programs}"
    assert not (sandbox / "out").exists()
    audited.assert_confined(done, sandbox, [sandbox / "cut.fcpxml"], sandbox / "out")
    return lines[0].removeprefix("mediatagger: error: cut.fcpxml: ")


@case("Readers", "an FCPXML time with a huge exponent (`duration=\"1e99999999s\"`; also offset, start, tcStart, "
      "frameDuration) given to `mediatagger timeline`",
      "exit 1 at once and `<file>: malformed FCPXML: the duration of asset-clip 'x' is out of range: ...`; nothing "
      "read or written (was: 100 % CPU forever)")
@pytest.mark.parametrize("attribute", list(ELEMENTS))
def test_regression_a_huge_exponent_in_an_fcpxml_time_hung_the_timeline(tiny_model, tmp_path, attribute):
    cut_with(tmp_path, attribute, "1e99999999s")
    message = refused(tmp_path, "timeline", "--model", tiny_model, "--vad", "silero")
    assert message == (f"malformed FCPXML: the {attribute} of {ELEMENTS[attribute]} is out of range: "
                       "'1e99999999s' (more than 64 digits, or a power of ten beyond 10^±64)")


@case("Readers", "an FCPXML time with a huge exponent given to `mediatagger reel` (a reel cut from the timeline)",
      "exit 1 at once and `<file>: malformed FCPXML: ... is out of range: ...`; nothing read or written (was: 100 % "
      "CPU forever)")
@pytest.mark.parametrize("attribute", ["duration", "offset", "tcStart", "frameDuration"])
def test_regression_a_huge_exponent_in_an_fcpxml_time_hung_the_reel(tiny_model, tmp_path, attribute):
    cut_with(tmp_path, attribute, "1e99999999s")
    message = refused(tmp_path, "reel", "--model", tiny_model, "--vad", "silero")
    assert message.startswith(f"malformed FCPXML: the {attribute} of {ELEMENTS[attribute]} is out of range: ")


@pytest.mark.parametrize("value", ["-1e999s", "1E+400s", "1e-99999999s", "1/3e9s", "1e99999999", "0x10s", "1_000s"])
def test_other_unreadable_times_are_one_line_at_once(tiny_model, tmp_path, value):
    cut_with(tmp_path, "offset", value)
    message = refused(tmp_path, "timeline", "--model", tiny_model, "--vad", "silero")
    assert message.startswith("malformed FCPXML: the offset of asset-clip 'talk' is ")
    assert repr(value) in message


@case("Readers", "an FCPXML clip with a negative duration (`duration=\"-300300/30000s\"`)",
      "exit 1 and `<file>: malformed FCPXML: the duration of asset-clip 'x' is negative: ...`; nothing written "
      "(was: the tagged timeline written with that duration, which no editor imports)")
def test_regression_a_negative_clip_duration_was_written_back(tiny_model, tmp_path):
    """Refused rather than skipped with a warning: a clip cannot last less than nothing, so the file is
    damaged, and a tagged copy without that clip would quietly differ from the editor's cut."""
    cut_with(tmp_path, "duration", "-300300/30000s")
    message = refused(tmp_path, "timeline", "--model", tiny_model, "--vad", "silero")
    assert message == "malformed FCPXML: the duration of asset-clip 'talk' is negative: '-300300/30000s'"


@pytest.mark.parametrize("attribute, value, why", [("frameDuration", "0s", "zero"),
                                                   ("frameDuration", "-1001/30000s", "negative")])
def test_a_frame_duration_of_zero_or_less_is_one_line(tiny_model, tmp_path, attribute, value, why):
    cut_with(tmp_path, attribute, value)
    message = refused(tmp_path, "timeline", "--model", tiny_model, "--vad", "silero")
    assert message == f"malformed FCPXML: the {attribute} of format r1 is {why}: {value!r}"


@case("Readers", "an FCPXML offset beyond 10^7 s (`offset=\"100000000000000000000000s\"`)",
      "exit 1 and `<file>: malformed FCPXML: the offset of asset-clip 'x' is out of range: ... (at most "
      "10000000s either way)`; nothing written (was: written back through a float as "
      "`3000000000000000096234110976/30000s`)")
def test_regression_a_huge_offset_was_written_back_through_a_float(tiny_model, tmp_path):
    cut_with(tmp_path, "offset", "100000000000000000000000s")
    message = refused(tmp_path, "timeline", "--model", tiny_model, "--vad", "silero")
    assert message == ("malformed FCPXML: the offset of asset-clip 'talk' is out of range: "
                       "'100000000000000000000000s' (at most 10000000s either way)")


@case("Readers", "an FCPXML whose tcStart and clip offset are large (9,999,990 s, just under the 10^7 s bound)",
      "the tagged FCPXML keeps them as the same exact rationals (`299999700000/30000s`), valid against Apple's DTD")
@pytest.mark.slow
def test_a_large_offset_round_trips_as_the_same_exact_rational(tiny_model, tagged, tmp_path):
    big = f"{299_700_000 * 1001}/30000s"   # a frame boundary at 29.97 fps, 9,999,990 s in
    assert Fraction(big[:-1]) < 10**7
    path = cut_with(tmp_path, "offset", big, media=TALK)
    path.write_text(path.read_text().replace('tcStart="108108000/30000s"', f'tcStart="{big}"'))
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(tagged["talk"], out / "talk.analysis.json")   # the session's analysis of samples/talk.mp4, reused
    done = audited.run(tmp_path, "timeline", "cut.fcpxml", "-o", out, "--model", tiny_model, "--vad", "silero",
                       "-q")
    assert done.returncode == 0, done.stderr
    audited.assert_confined(done, tmp_path, [path, TALK], out)
    written = out / "cut.tagged.fcpxml"
    root = etree.parse(str(written)).getroot()
    assert root.find(".//sequence").get("tcStart") == big
    clip = root.find(".//spine/asset-clip")
    assert (clip.get("offset"), clip.get("duration")) == (big, "600600/30000s")
    assert clip.findall("marker"), "no markers: the media was not tagged"
    if readers.FCPXML_DTD.is_file():
        dtd = etree.DTD(str(readers.FCPXML_DTD))
        assert dtd.validate(root), dtd.error_log.filter_from_errors()


# --- the spine counts from the sequence's tcStart --------------------------------------------
# Read and written directly (no media, no model): where each clip sits on the timeline.

NLE_RATES = {"25": (Fraction(25), "01:00:00:00", False), "29.97": (Fraction(30000, 1001), "01:00:00;00", True)}


def nle_cut(name: str, origin: int | None = None) -> tuple[str, int, dict[str, int]]:
    """An FCPXML as Final Cut Pro and Resolve export a timeline that starts at 01:00:00:00 (Resolve's
    ``tcStart="3600/1s"`` with its first ``asset-clip offset="3600/1s"``, RollaEditor/rolla
    dev/fcpxml-doc.md; Final Cut's gap ``offset="3600s" start="3600s"``): tcStart is the start
    timecode's time, each spine item's offset is tcStart plus its record time; connected clips count in
    their parent's source time. ``origin``: the spine's first offset instead of tcStart (0: counted from
    zero, as mediatagger wrote it before). Returns the text, tcStart in frames and each clip's record frame."""
    rate, start_tc, drop = NLE_RATES[name]
    tc = otio.opentime.from_timecode(start_tc, float(rate)).to_frames()
    base = tc if origin is None else origin
    t = lambda frames: "0s" if frames == 0 else f"{frames * rate.denominator}/{rate.numerator}s"  # noqa: E731
    f = lambda seconds: round(seconds * rate)  # noqa: E731
    tc_format = "DF" if drop else "NDF"

    def clip(ref: str, name: str, offset: int, start: int, frames: int, lane: str = "") -> str:
        lane = f' lane="{lane}"' if lane else ""
        return (f'<asset-clip ref="{ref}"{lane} name="{name}" '
                f'offset="{t(offset)}" start="{t(start)}" duration="{t(frames)}" format="r1" tcFormat="{tc_format}" '
                'enabled="1"')

    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" name="FFVideoFormat1080p" frameDuration="{t(1)}" width="1920" height="1080"/>
    <asset id="r2" name="talk.mp4" start="0s" duration="{t(f(20))}" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="file:///media/talk.mp4"/>
    </asset>
    <asset id="r3" name="two.mov" start="{t(f(36000))}" duration="{t(f(20))}" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="file:///media/two.mov"/>
    </asset>
  </resources>
  <library>
    <event name="Timeline 1 (Resolve)">
      <project name="Timeline 1 (Resolve)">
        <sequence format="r1" duration="{t(f(10))}" tcStart="{t(tc)}" tcFormat="{tc_format}">
          <spine>
            {clip("r2", "one", base, f(2), f(5))}/>
            <gap name="Gap" offset="{t(base + f(5))}" start="{t(base + f(5))}" duration="{t(f(1))}">
              {clip("r2", "over the gap", base + f(5), f(12), f(1), lane="2")}/>
            </gap>
            {clip("r3", "two", base + f(6), f(36001), f(4))}>
              {clip("r2", "over two", f(36002), f(15), f(2), lane="1")}/>
              <marker start="{t(f(36002))}" duration="{t(1)}" value="theirs"/>
            </asset-clip>
          </spine>
        </sequence>
      </project>
    </event>
  </library>
</fcpxml>
"""
    return text, tc, {"one": 0, "over the gap": f(5), "two": f(6), "over two": f(7)}


def records(timeline: otio.schema.Timeline) -> dict[str, int]:
    """Each clip's first frame on the timeline, from the timeline's first frame."""
    return {clip.name: clip.range_in_parent().start_time.to_frames() for clip in timeline.find_clips()}


def dtd_valid(text: str) -> None:
    if readers.FCPXML_DTD.is_file():
        dtd = etree.DTD(str(readers.FCPXML_DTD))
        assert dtd.validate(etree.fromstring(text.encode())), dtd.error_log.filter_from_errors()


@pytest.mark.parametrize("name", NLE_RATES)
def test_regression_a_cut_starting_at_one_hour_was_read_an_hour_late(tmp_path, name):
    """Spine offsets counted from 0 put a one-hour gap before the first clip: every record time an hour late."""
    text, tc, want = nle_cut(name)
    dtd_valid(text)
    path = tmp_path / "cut.fcpxml"
    path.write_text(text)
    timeline = fcpxml_timeline.read(path)
    rate, start_tc, drop = NLE_RATES[name]
    assert timeline.global_start_time.to_frames() == tc
    assert otio.opentime.to_timecode(timeline.global_start_time, float(rate), drop) == start_tc
    assert records(timeline) == want
    assert [t.name for t in timeline.tracks] == ["V1", "V2", "V3"]
    assert isinstance(timeline.tracks[0][0], otio.schema.Clip), "a gap before the first clip"


@pytest.mark.parametrize("name", NLE_RATES)
def test_regression_the_written_spine_started_an_hour_before_tcstart(tmp_path, name):
    """The tagged FCPXML had tcStart 01:00:00:00 and its first clip at offset 0s: before the timeline's start.
    Now its spine is the editor's own (first item at offset == tcStart), valid, and reads back to the same
    record times through our reader and OpenTimelineIO's fcpx_xml adapter (which ignores tcStart)."""
    text, tc, want = nle_cut(name)
    source = tmp_path / "cut.fcpxml"
    source.write_text(text)
    rate, _, drop = NLE_RATES[name]
    media = {"file:///media/talk.mp4": (0, round(20 * rate), True),
             "file:///media/two.mov": (round(36000 * rate), round(20 * rate), True)}
    written = fcpxml_timeline.write(fcpxml_timeline.read(source), rate, (1920, 1080), drop, media)
    dtd_valid(written)
    root, given = etree.fromstring(written.encode()), etree.fromstring(text.encode())
    sequence = root.find(".//sequence")
    assert sequence.get("tcStart") == f"{tc * rate.denominator}/{rate.numerator}s"
    spine = list(root.find(".//spine"))
    assert readers.seconds(spine[0].get("offset")) == readers.seconds(sequence.get("tcStart"))
    assert [readers.seconds(e.get("offset")) for e in spine] == \
        [readers.seconds(e.get("offset")) for e in given.find(".//spine")]   # the editor's own spine offsets
    again = tmp_path / "again.fcpxml"
    again.write_text(written)
    assert records(fcpxml_timeline.read(again)) == want
    if "fcpx_xml" not in [a.name for a in otio.plugins.ActiveManifest().adapters]:
        pytest.skip("no OpenTimelineIO fcpx_xml adapter (pip install otio-fcpx-xml-adapter)")
    (theirs,) = otio.adapters.read_from_file(str(again), "fcpx_xml")
    assert theirs.global_start_time is None   # it reads no tcStart, and counts the spine from 0
    got = {c.name: int(c.range_in_parent().start_time.value) - tc for c in theirs.find_clips()}
    # At 29.97 its times say 29 fps, but the spine's are frame counts from the offsets, exact; a connected
    # clip's goes through its parent's start truncated at 29 fps and can land a frame early ("over two": 209).
    spine_clips = {"one", "two"}
    assert got == want if name == "25" else {k: got[k] for k in spine_clips} == {k: want[k] for k in spine_clips}


@pytest.mark.parametrize("name", NLE_RATES)
def test_a_spine_counted_from_zero_still_reads_from_the_timelines_start(tmp_path, name):
    """Tagged cuts mediatagger wrote before (tcStart 01:00:00:00, spine from 0s) read as they were meant."""
    text, tc, want = nle_cut(name, origin=0)
    path = tmp_path / "cut.fcpxml"
    path.write_text(text)
    timeline = fcpxml_timeline.read(path)
    assert timeline.global_start_time.to_frames() == tc and records(timeline) == want


def test_the_spine_origin_is_tcstart_unless_the_spine_starts_before_it():
    assert fcpxml_timeline.spine_origin(Fraction(3600), [Fraction(3600), Fraction(3605)]) == 3600
    assert fcpxml_timeline.spine_origin(Fraction(3600), [Fraction(3610)]) == 3600   # a gap-less start later on
    assert fcpxml_timeline.spine_origin(Fraction(3600), [Fraction(0), Fraction(5)]) == 0
    assert fcpxml_timeline.spine_origin(Fraction(0), []) == 0
