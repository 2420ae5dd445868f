"""Fuzzed timecode, frame-rate and duration strings (``--start-tc``, ``--fps``, ``--target``,
``--crossfade``, a preset's ``edl.start_tc``, an analysis's ``fps``): each parses to a value every
consumer can count with, or is one ``UsageError`` line; never another exception or a hang
(``Fraction("1e999999999")`` would never end, ``round(inf)`` raises OverflowError).

Examples per property: ``MEDIATAGGER_FUZZ_EXAMPLES`` (default 100 in CI; the nightly job sets 5000).
"""

from __future__ import annotations

import math
import tempfile
from fractions import Fraction
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mediatagger import analysis, cli, presets
from mediatagger.errors import UsageError
from mediatagger.timecode import (
    MAX_DIGITS,
    MAX_DURATION_MS,
    MAX_NUMBER,
    MAX_RATE,
    frame_to_ms,
    frames_to_tc,
    ms_to_frame,
    ms_to_tc,
    parse_duration,
    parse_fraction,
    parse_rate,
    tc_to_frames,
)
from tests.conftest import DATA
from tests.fuzz.support import bounded, fuzz_settings, outcome
from tests.reliability import case

digits = st.text("0123456789", min_size=1, max_size=6)
# numbers with exponents of any size: Fraction("1e99999999") would build a hundred-million-digit integer
exponents = st.one_of(
    st.sampled_from(["1e99999999", "-1e999", "1E+400", "0e0", "1e-99999999", "1e99999999s", "1/3e9", "1e9/3",
                     "1e64", "1e65", "-1e-64", "9" * 64, "9" * 65, "1/" + "9" * 64, "0e99999999", ".5e-3", "5.e2"]),
    st.builds(lambda mantissa, e, power, over: f"{mantissa}{e}{power}{over}",
              st.sampled_from(["1", "-1", "0", "2.5", ".5", "+3", "30000"]), st.sampled_from(["e", "E"]),
              st.one_of(st.integers(-100, 100), st.integers(-10**12, 10**12)).map(str),
              st.sampled_from(["", "/1001", "/0", "/1e3"])))
rate_texts = st.one_of(
    st.sampled_from(["25", "29.97", "30000/1001", "23.976", "0", "-25", "0/0", "1/0", "nan", "inf", "-inf", "1e400",
                     "1e-400", "1e999999999", "1e-999999999", "9" * 5000, "1/" + "9" * 5000, "0.001", "0.3", "1.4",
                     "1000000", "1000001", "٣٠", "25 fps", "29.97 DF", "", " ", "1_000", "+25", ".5", "5.", "1e2",
                     "2997/100", "30000/1001/2", "0x19"]),
    st.builds(lambda a, b: f"{a}/{b}", digits, digits), st.builds(lambda a, b: f"{a}.{b}", digits, digits),
    exponents, st.text(max_size=12))
rate_values = st.one_of(rate_texts, st.integers(), st.floats(), st.fractions())
tc_texts = st.one_of(
    st.sampled_from(["01:00:00:00", "00:00:00;00", "23:59:59:29", "23:59:59;29", "99:59:59:59", "00:60:00:00",
                     "00:00:60:00", "00:00:00:30", "00:00:00:999", "00:01:00;00", "00:01:00;01", "0:00:00:00",
                     "٠١:٠٠:٠٠:٠٠", "01:00:00:00\n", "source", "SOURCE", "", "-1:00:00:00", "01:00:00"]),
    st.builds(lambda h, m, s, sep, f: f"{h}:{m}:{s}{sep}{f}", digits, digits, digits, st.sampled_from(":;.,"),
              digits),
    st.text(max_size=14))
duration_texts = st.one_of(
    st.sampled_from(["60s", "1m30s", "90", "1:30", "1:00:00", "500ms", "0", "1:1e400", "1e400", "inf:1", "nan",
                     "9" * 400, "9" * 5000 + "h", "1:2:3:4", "-1", "1:-1", "1h1m1s1ms", "1000h", "1001h", ":", "1:",
                     "٣s", "1.5.5s", "1_0"]),
    st.builds(lambda parts: ":".join(parts), st.lists(digits, min_size=1, max_size=4)),
    st.builds(lambda n, unit: f"{n}{unit}", digits, st.sampled_from(["h", "m", "s", "ms", "", "x"])),
    st.builds(lambda a, b: f"{a}:{b}", exponents, exponents), exponents, st.text(max_size=12))
rates = st.one_of(st.sampled_from([Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001), Fraction(60000, 1001),
                                   Fraction(1, 3), Fraction(1), Fraction(MAX_RATE)]),
                  st.fractions(min_value=Fraction(1, 1000), max_value=1000, max_denominator=1001))


def counts(rate: Fraction) -> None:
    """What the exporters do with a rate: frames and timecode both ways, and back."""
    for frame in (0, 1, 1799, 17982, 10**7):
        tc = frames_to_tc(frame, rate)
        tc_to_frames(tc, rate)
        if rate <= 1000:   # faster, frames are shorter than the millisecond times are counted in
            assert ms_to_frame(frame_to_ms(frame, rate), rate) == frame
    ms_to_tc(3_600_000, rate)


@case("Readers", "a frame rate string or number (--fps, an analysis's fps, a timeline's)",
      "a rate every exporter counts with, or exit 2 and `not a frame rate: <text>`")
@fuzz_settings(share=0.5)
@given(value=rate_values)
def test_a_rate_parses_to_a_usable_rate_or_is_one_line(value):
    got = outcome(lambda: parse_rate(value), limit_s=2)
    if isinstance(got, Fraction):
        assert 0 < got <= MAX_RATE
        outcome(lambda: counts(got), limit_s=2)
    else:
        assert isinstance(got, UsageError)


@case("Readers", "a number from outside text (an FCPXML time, a lane, a rate, a duration) with any exponent or "
      "length: `1e99999999`, `-1e999`, `1E+400`, `1e-99999999`, 70 digits",
      "its exact value (the same as Python's Fraction of it), or at once `<what> is out of range: <text> (...)` / "
      "`<what> is not a number: <text>`")
@fuzz_settings(share=0.5)
@given(text=st.one_of(exponents, rate_texts, duration_texts, st.integers(-10**70, 10**70).map(str)))
def test_a_number_parses_exactly_or_is_one_line_at_once(text):
    got = outcome(lambda: parse_fraction(text, "the offset"), limit_s=2)
    if isinstance(got, Fraction):
        assert abs(got) <= MAX_NUMBER
        number, _, over = text.strip().partition("/")   # small enough now for Python's own parser (1e3/7 too)
        assert got == Fraction(number) / Fraction(over or 1), text
    else:
        assert isinstance(got, UsageError) and str(got).startswith("the offset is "), str(got)


@case("Readers", "a duration string (--target, --crossfade)",
      "milliseconds up to 1000 h, or exit 2 and `not a duration: <text> (e.g. 60s, 1m30s, 1:30; 1000h at most)`")
@fuzz_settings(share=0.5)
@given(text=duration_texts)
def test_a_duration_parses_or_is_one_line(text):
    got = outcome(lambda: parse_duration(text), limit_s=2)
    if isinstance(got, int):
        assert 0 <= got <= MAX_DURATION_MS
    else:
        assert isinstance(got, UsageError)
        with pytest.raises(click.BadParameter):
            cli.bad_parameter(parse_duration)(None, None, text)   # type: ignore[arg-type]


@case("Readers", "a timecode string at any rate, drop-frame or not (--start-tc, edl.start_tc)",
      "a frame count, or exit 2 and `not a timecode: <text> (expected HH:MM:SS:FF)`")
@fuzz_settings(share=0.5)
@given(text=tc_texts, rate=rates, drop=st.sampled_from([None, True, False]))
def test_a_timecode_parses_or_is_one_line(text, rate, drop):
    got = outcome(lambda: tc_to_frames(text, rate, drop), limit_s=2)
    if isinstance(got, int):
        assert got >= -1   # 00:00:00;00 counted drop-frame at a rate that drops none is 0
    start = outcome(lambda: presets.check_start_tc(text), limit_s=2)
    if isinstance(start, str):
        outcome(lambda: presets.override(presets.Preset(), "edl", start_tc=start), limit_s=2)


@pytest.fixture(scope="module")
def analysis_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("doc")
    doc = analysis.load(DATA / "talk.analysis.json")
    path = folder / "talk.analysis.json"
    path.write_text(analysis.dumps(analysis.to_dict(doc)))
    return path


@case("Readers", "`mediatagger export --start-tc TEXT` with any text",
      "the EDL written, or exit 2 and `Error: Invalid value for '--start-tc': ...`; nothing written")
@fuzz_settings(share=0.3)
@given(text=tc_texts)
def test_the_start_tc_flag_exports_or_is_one_line(analysis_file, text):
    with tempfile.TemporaryDirectory() as out, bounded(5):
        result = CliRunner().invoke(cli.cli, ["export", str(analysis_file), "-o", out, "--export", "edl",
                                              "--start-tc", text, "-q"])
        assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        written = sorted(p.name for p in Path(out).iterdir() if not p.name.startswith("."))
        if result.exit_code:
            lines = [line for line in result.output.splitlines() if line.strip()]
            assert lines and any("Error" in line or "error" in line for line in lines), result.output
            assert written == [], written
        else:
            assert written == ["talk.analysis.json", "talk.edl"], written


def test_the_huge_exponent_ends_at_once():
    """``Fraction("1e999999999")`` would build a billion-digit number: the form is refused first."""
    with bounded(1):
        for text in ("1e999999999", "1e-999999999", "9" * 5000):
            with pytest.raises(UsageError):
                parse_rate(text)
        for text in ("1e99999999", "-1e999", "1E+400", "1e-99999999", "1" + "0" * (MAX_DIGITS + 1)):
            with pytest.raises(UsageError, match="is out of range"):
                parse_fraction(text)
    assert math.isclose(float(parse_rate("1e2")), 100)
    assert parse_fraction("0e0") == 0 and parse_fraction("-1e-64", max_digits=64) == Fraction(-1, 10**64)
