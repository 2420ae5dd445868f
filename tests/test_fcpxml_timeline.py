"""FCPXML times from outside: read through one bounded parser, kept exact, refused in one line.

Each case runs the real program (``mediatagger timeline`` / ``reel``) on an FCPXML next to a real clip,
under the audit hook of ``tests/audited.py``: the exit code, the one-line message naming the file, nothing
read but the timeline (a refused cut never reaches its media: no ffmpeg starts) and nothing written.
"""

from __future__ import annotations

import re
import shutil
import time
from fractions import Fraction
from pathlib import Path

import pytest
from lxml import etree

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
    changed = re.sub(rf'(<{tag}\b[^>]*? {attribute}=")[^"]*"', lambda m: m.group(1) + value + '"', text, count=1)
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
