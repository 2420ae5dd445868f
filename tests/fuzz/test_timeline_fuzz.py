"""Fuzzed editor's cuts: ``cut.read`` (the reader behind ``mediatagger timeline``) gives a Cut every
writer renders, or one ``MediaError`` line naming the file; never another exception, a hang, a
traceback, a file read that the cut names as an XML entity, or an entity expanded.

Cuts are real documents of each format (an FCPXML, an FCP7 XML and an OTIO file mediatagger wrote,
and a CMX EDL) pointing at a real two-second clip, whose numbers and flags are replaced by random
ones (zero, negative, huge, fractions over zero, NaN, text, exponents such as ``1e99999999s`` that
``Fraction`` would spend forever on), whose lines are dropped, doubled or
spoiled with bytes; plus XML entity tricks: an external entity naming a file (it must never be read:
its content appears in no output and no message), a billion-laughs expansion (refused at once) and
entities in attribute values. A cut that reads is rendered to every output format with an analysis of
its media.

Examples per property: ``MEDIATAGGER_FUZZ_EXAMPLES`` (default 100 in CI; the nightly job sets 5000).
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediatagger import analysis, cut
from mediatagger.errors import MediaError, MediaTaggerError
from mediatagger.presets import Preset
from mediatagger.timecode import parse_rate
from tests.conftest import DATA, ffmpeg, load_fixed
from tests.fuzz.support import fuzz_settings, outcome, tally
from tests.reliability import case

SECRET = "mediatagger-fuzz-secret-7d1c"   # the content of the file an external entity names
EDL = """TITLE: cut
FCM: NON-DROP FRAME

001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
* FROM CLIP NAME: tiny.mp4
002  AX       V     C        00:00:00:10 00:00:01:20 01:00:01:00 01:00:02:10
* FROM CLIP NAME: tiny.mp4
003  AX       AA    C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
* FROM CLIP NAME: tiny.mp4
"""
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:/\d+)?s?|\b(?:TRUE|FALSE|NDF|DF|V|AA)\b")
TIMECODE_TOKEN = re.compile(r"\d\d:\d\d:\d\d[:;]\d\d")
FCPXML_TIME = re.compile(r'\b(duration|offset|start|tcStart|frameDuration)="([^"]*)"')
# numbers with exponents, as an FCPXML time (trailing s) or bare: Fraction("1e99999999") never ends
exponents = st.builds(
    lambda mantissa, e, power, over, unit: f"{mantissa}{e}{power}{over}{unit}",
    st.sampled_from(["1", "-1", "0", "9.5", ".5", "+3", "1001/30000", "-300300"]), st.sampled_from(["e", "E"]),
    st.one_of(st.sampled_from(["99999999", "-99999999", "+400", "999", "-999", "0", "64", "65", "-64", "+0"]),
              st.integers(-10**12, 10**12).map(str)),
    st.sampled_from(["", "", "/30000", "/1", "/0", "/1e9"]), st.sampled_from(["s", "s", ""]))
huge_times = st.one_of(exponents, st.sampled_from(
    ["1e99999999s", "-1e999s", "1E+400s", "0e0s", "1e-99999999s", "1e99999999", "-1e999", "1E+400", "0e0",
     "1e-99999999", "1/3e9s", "1001/30000e9s", "30000/1001e99999999s", "100000000000000000000000s", "10000001s",
     "-10000001s", "9999999s", "1/" + "9" * 70 + "s", "9" * 70 + "s", "1" + "0" * 64 + "s"]))
replacements = st.one_of(huge_times,
    st.integers(0, 2000).map(str), st.builds(lambda a, b: f"{a}/{b}s", st.integers(0, 10**6), st.integers(1, 30000)),
    st.builds(lambda h, m, s, f: f"{h:02d}:{m:02d}:{s:02d}:{f:02d}", st.integers(0, 23), st.integers(0, 59),
              st.integers(0, 59), st.integers(0, 29)),
    st.sampled_from(["0", "-1", "1", "0s", "-1s", "1/0s", "0/0s", "1/0", "NaN", "nan", "inf", "-inf", "1e400",
                     "1e20", "100000000000000000000", "9223372036854775808", "9" * 400, "1.5", "30000/1001s",
                     "1001/30000s", "-1001/30000s", "", "x", "TRUE", "FALSE", "DF", "NDF", "24", "25", "30",
                     "99:99:99:99", "23:59:59:29", "00:00:00;00", "&#0;", "&x;", "\u202e"]),
    st.integers(-10**25, 10**25).map(str), st.text(max_size=6))


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """A real two-second clip (video 25 fps and audio) the cuts point at."""
    folder = tmp_path_factory.mktemp("media")
    path = folder / "tiny.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=64x36:r=25:d=2", "-f", "lavfi", "-i", "sine=d=2:sample_rate=16000",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", path)
    return path


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text(SECRET + "\n")
    return path


def templates(media: Path) -> dict[str, str]:
    """Suffix -> a real cut of that format whose clips use ``media``."""
    url = media.as_uri()
    return {".fcpxml": (DATA / "talk.fcpxml").read_text().replace("file:///media/talk.mp4", url),
            ".xml": (DATA / "talk.xml").read_text().replace("file://localhost/media/talk.mp4", url),
            ".otio": (DATA / "talk.otio").read_text().replace("file:///media/talk.mp4", url),
            ".edl": EDL}


def entity_tricks(secret: Path) -> list[tuple[str, str]]:
    """(suffix, text): XML that tries to read a file or expand without end, in both XML formats."""
    laughs = "".join(f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, 10))
    out = []
    for suffix, root in ((".fcpxml", "fcpxml"), (".xml", "xmeml")):
        out += [
            (suffix, f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
                     f"<{root}><name>&x;</name></{root}>"),
            (suffix, f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY x SYSTEM "{secret}">]><{root}>&x;</{root}>'),
            (suffix, f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>'
                     f"<{root}/>"),
            (suffix, f'<?xml version="1.0"?><!DOCTYPE {root} SYSTEM "{secret.as_uri()}"><{root}/>'),
            (suffix, f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY l0 "ha">{laughs}]><{root}>&l9;</{root}>'),
            (suffix, f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY l0 "ha">{laughs}]>'
                     f'<{root} version="&l9;"/>'),
            (suffix, f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY a "&b;"><!ENTITY b "&a;">]>'
                     f"<{root}>&a;</{root}>"),
            (suffix, f"<{root}>" + "<a>" * 100_000 + "</a>" * 100_000 + f"</{root}>"),
            (suffix, f'<?xml version="1.0" encoding="UTF3"?><{root}/>'),
        ]
    clips = '<asset-clip lane="1" ref="r2" offset="0s" start="0s" duration="1s">' * 5000
    out.append((".fcpxml", (DATA / "talk.fcpxml").read_text().replace(
        "<spine>", "<spine>" + clips + "</asset-clip>" * 5000)))
    return out


json_values = st.one_of(
    st.integers(0, 2000), st.floats(0, 100), st.sampled_from([
        -1, 0, 10**20, -10**20, 2**63, 1e400, -1e400, 1e-300, math.nan, 0.0, 24.0, 25.0, 29.97, 30000 / 1001, "",
        "x", None, True, [], {}, {"OTIO_SCHEMA": "Clip.2"}, {"OTIO_SCHEMA": "Nope.1"}, "file:///nowhere.mov"]),
    st.text(max_size=8))


def spoil_json(text: str, data: st.DataObject) -> str:
    """An OTIO document with some of its values (times, rates, names, URLs, schemas) replaced."""
    doc = json.loads(text)
    for _ in range(data.draw(st.integers(1, 4), label="values")):
        leaves = [(parent, key) for parent, key in _leaves(doc)]
        parent, key = data.draw(st.sampled_from(leaves), label="leaf")
        parent[key] = copy.deepcopy(data.draw(json_values, label="value"))   # never the shared sample itself
    return json.dumps(doc, indent=1, allow_nan=True)


def _leaves(node: Any) -> list[tuple[Any, Any]]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    out = []
    for key, value in items:
        out += _leaves(value) if isinstance(value, (dict, list)) and value else [(node, key)]
    return out


def tc(frame: int, fps: int, sep: str) -> str:
    seconds, ff = divmod(abs(frame), fps)
    return f"{seconds // 3600 % 100:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}{ff:02d}"


@st.composite
def edl_texts(draw: st.DrawFn) -> str:
    """A CMX EDL of 1-4 cuts of the media (source and record lengths agree, as the format wants) at
    plausible and odd times, drop-frame or not, video and audio."""
    fps, sep, fcm = draw(st.one_of(st.just((25, ":", "NON-DROP FRAME")), st.sampled_from([
        (30, ";", "DROP FRAME"), (24, ":", "NON-DROP FRAME"), (30, ":", "DROP FRAME")])), label="rate")
    lines = ["TITLE: " + draw(st.sampled_from(["cut", "", "x" * 300, "ümlaut"]), label="title"), f"FCM: {fcm}", ""]
    record = draw(st.one_of(st.just(fps * 3600), st.sampled_from([0, fps * 3600 * 23 + fps * 3599])), label="record")
    for n in range(1, draw(st.integers(1, 4), label="events") + 1):
        source = draw(st.one_of(st.integers(0, 49), st.sampled_from([50, 51, 1000, fps * 3600 * 99])), label="source")
        length = draw(st.one_of(st.integers(1, 50), st.sampled_from([100, 0, fps * 3600])), label="length")
        kind = draw(st.one_of(st.sampled_from(["V", "A", "AA"]), st.sampled_from(["B", "A2", "V1"])), label="track")
        lines.append(f"{n:03d}  AX       {kind:<5} C        {tc(source, fps, sep)} {tc(source + length, fps, sep)} "
                     f"{tc(record, fps, sep)} {tc(record + length, fps, sep)}")
        name = draw(st.one_of(st.just("tiny.mp4"), st.sampled_from(["missing.mov", "", "../tiny.mp4", "tiny.mp4 "])),
                    label="clip")
        lines.append(f"* FROM CLIP NAME: {name}")
        record += length + draw(st.one_of(st.just(0), st.sampled_from([5, -5])), label="gap")
    return "\n".join(lines) + "\n"


def spoil(text: str, data: st.DataObject) -> bytes:
    """``text`` with some of its numbers, timecodes and flags replaced, lines dropped or doubled, bytes added."""
    counts = st.sampled_from([0, 0, 0, 1, 2]) if text.startswith("TITLE") else st.integers(1, 4)
    for _ in range(data.draw(counts, label="numbers")):
        spots = list(NUMBER.finditer(text)) + list(TIMECODE_TOKEN.finditer(text))
        if not spots:
            break
        spot = data.draw(st.sampled_from(spots), label="spot")
        text = text[:spot.start()] + data.draw(replacements, label="new") + text[spot.end():]
    lines = text.split("\n")
    for _ in range(data.draw(st.sampled_from([0, 0, 0, 1, 2]), label="lines")):
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        if data.draw(st.booleans(), label="drop"):
            del lines[i]
        else:
            lines.insert(i, lines[i])
        if not lines:
            break
    raw = "\n".join(lines).encode("utf-8", "surrogatepass")
    if data.draw(st.integers(0, 9), label="bytes?") == 0:
        at = data.draw(st.integers(0, len(raw)), label="at")
        raw = raw[:at] + data.draw(st.binary(min_size=1, max_size=16), label="bytes") + raw[at:]
    return raw


def analysis_of(media: Path) -> analysis.Analysis:
    """A real analysis document's spans, standing for ``media``'s (the writers never call the model)."""
    doc = analysis.to_dict(load_fixed())
    doc["source"] = {**doc["source"], "path": str(media), "duration_ms": 2000, "fps": "25"}
    return analysis.from_dict(doc)


def read_and_render(raw: bytes, suffix: str, media: Path, secret: Path | None = None,
                    fps: str | None = None) -> cut.Cut | MediaTaggerError:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(media, folder / media.name)   # an EDL names its media by clip name, found beside it
        path = folder / f"cut{suffix}"
        path.write_bytes(raw)
        got = outcome(lambda: cut.read(path, fps=parse_rate(fps) if fps else None), names=path)
        assert path.read_bytes() == raw, "the reader changed its input"
        if isinstance(got, MediaTaggerError):
            tally(f"{suffix} refused")
            assert isinstance(got, MediaError), f"{type(got).__name__}: {got}"
            assert secret is None or SECRET not in str(got)
            return got
        tally(f"{suffix} read")
        analyses = {p: analysis_of(p) for p in got.infos}
        for fmt in cut.OUTPUTS:
            text = outcome(lambda fmt=fmt: cut.render(got, analyses, fmt, Preset()))
            assert secret is None or SECRET not in str(text), f"{fmt} holds the entity's file"
        assert secret is None or all(SECRET not in str(w) for w in got.warnings)
        assert secret is None or all(SECRET not in (c.name or "") for c in got.timeline.find_clips())
        return got


@case("Readers", "a timeline (EDL, FCPXML, FCP7 XML, OTIO) with random numbers, flags, lines and bytes",
      "a cut every writer renders, or exit 1 and `<file>: cannot read the timeline: ...` / `malformed ...`")
@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".fcpxml", ".xml", ".otio", ".edl"])
@fuzz_settings(share=0.3)
@given(data=st.data(), fps=st.one_of(st.none(), st.sampled_from(["25", "29.97", "0.001", "1/3", "1000000"])))
def test_a_spoiled_timeline_reads_or_is_one_line(media, data, suffix, fps):
    text = data.draw(edl_texts(), label="edl") if suffix == ".edl" else templates(media)[suffix]
    raw = spoil_json(text, data).encode() if suffix == ".otio" else spoil(text, data)
    read_and_render(raw, suffix, media, fps=fps if suffix == ".edl" else None)


@case("Readers", "an FCPXML time (offset, duration, start, tcStart, frameDuration) with any exponent or size: "
      "`1e99999999s`, `-1e999`, `1E+400s`, `1/3e9s`, 10^23 s",
      "a cut every writer renders, or exit 1 at once and `<file>: malformed FCPXML: the offset of asset-clip 'x' "
      "is out of range: ...`")
@fuzz_settings(share=0.3)
@given(data=st.data())
def test_fcpxml_times_with_huge_exponents_end_at_once(media, data):
    text = templates(media)[".fcpxml"]
    for _ in range(data.draw(st.integers(1, 3), label="times")):
        spot = data.draw(st.sampled_from(list(FCPXML_TIME.finditer(text))), label="attribute")
        value = data.draw(huge_times, label="value")
        text = text[:spot.start(2)] + value + text[spot.end(2):]
    read_and_render(text.encode(), ".fcpxml", media)


@case("Readers", "an XML timeline with an external entity naming a file",
      "exit 1 and `<file>: declares XML entities (...); not read`; the named file is never read")
@case("Readers", "an XML timeline with a billion-laughs entity expansion",
      "exit 1 and `<file>: declares XML entities (...); not read` at once; nothing expanded")
@pytest.mark.parametrize("trick", range(19))
def test_xml_entity_tricks_are_refused_unread(media, secret, trick):
    suffix, text = entity_tricks(secret)[trick]
    got = read_and_render(text.encode(), suffix, media, secret)
    assert isinstance(got, MediaError), got
    if "<!ENTITY" in text:   # refused before any XML parser sees it
        assert "declares XML entities" in str(got), str(got)


@case("Readers", "a timeline file of random bytes under each format's suffix",
      "exit 1 and `<file>: cannot read the timeline: ...`")
@fuzz_settings(share=0.2)
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".fcpxml", ".xml", ".otio", ".edl", ".kdenlive"]))
def test_random_bytes_are_one_line(media, raw, suffix):
    read_and_render(raw, suffix, media)


@pytest.mark.parametrize("suffix", [".fcpxml", ".xml", ".otio", ".edl"])
def test_each_template_reads_and_renders(media, suffix, tmp_path):
    """The unspoiled documents read into pieces: the property starts from cuts that work."""
    shutil.copy(media, tmp_path / media.name)
    path = tmp_path / f"cut{suffix}"
    path.write_text(templates(media)[suffix])
    got = cut.read(path)
    assert got.pieces and all(p.media.name == media.name for p in got.pieces)
    for fmt in cut.OUTPUTS:
        assert cut.render(got, {p: analysis_of(p) for p in got.infos}, fmt, Preset())


@case("Readers", "an EDL whose video starts at 00:00:00:00 and whose audio starts later (found by the fuzzer)",
      "the cut read with its start at 0 and every writer renders it (was: ValueError from a span at -40 ms)")
def test_an_edl_with_video_at_zero_and_audio_later_starts_at_zero(media, tmp_path):
    shutil.copy(media, tmp_path / media.name)
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: cut\nFCM: NON-DROP FRAME\n\n"
                    "001  AX       V     C        00:00:00:00 00:00:00:13 00:00:00:00 00:00:00:13\n"
                    "* FROM CLIP NAME: tiny.mp4\n"
                    "002  AX       A     C        00:00:00:00 00:00:00:01 00:00:00:13 00:00:00:14\n"
                    "* FROM CLIP NAME: tiny.mp4\n")
    got = cut.read(path)
    assert got.start == 0 and sorted(p.record for p in got.pieces) == [0, 13]
    for fmt in cut.OUTPUTS:
        assert cut.render(got, {p: analysis_of(p) for p in got.infos}, fmt, Preset())
