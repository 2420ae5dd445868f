from fractions import Fraction

import opentimelineio.opentime as otio_time
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediatagger.errors import UsageError
from mediatagger.timecode import (
    MAX_TIME_S,
    frame_to_ms,
    frames_at,
    frames_to_tc,
    is_drop_frame,
    ms_to_frame,
    parse_duration,
    parse_fraction,
    parse_int,
    parse_rate,
    snap_ms,
    tc_to_frames,
)

RATES = [Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
         Fraction(50), Fraction(60000, 1001), Fraction(60)]


@pytest.mark.parametrize("rate", RATES, ids=str)
def test_timecode_matches_opentimelineio(rate):
    frames = [*range(0, 4000), *range(17970, 18000), *range(107800, 108100), 2_000_000]
    for n in frames:
        expected = otio_time.to_timecode(otio_time.RationalTime(n, float(rate)), float(rate))
        assert frames_to_tc(n, rate) == expected
        assert tc_to_frames(expected, rate) == n


def test_drop_frame_examples():
    ntsc = Fraction(30000, 1001)
    assert frames_to_tc(1800, ntsc) == "00:01:00;02"
    assert frames_to_tc(17982, ntsc) == "00:10:00;00"
    assert tc_to_frames("01:00:00;00", ntsc) == 107892
    assert is_drop_frame(ntsc) and is_drop_frame(Fraction(60000, 1001))
    assert not is_drop_frame(Fraction(24000, 1001)) and not is_drop_frame(Fraction(30))


def test_parse_rate_snaps_ntsc_decimals():
    assert parse_rate("29.97") == Fraction(30000, 1001)
    assert parse_rate("23.976") == Fraction(24000, 1001)
    assert parse_rate("59.94") == Fraction(60000, 1001)
    assert parse_rate("25") == 25 and parse_rate("30000/1001") == Fraction(30000, 1001)
    with pytest.raises(UsageError):
        parse_rate("fast")


def test_bad_timecodes_are_usage_errors():
    for bad in ("1:00", "00:00:00:30", "aa:bb:cc:dd"):
        with pytest.raises(UsageError):
            tc_to_frames(bad, Fraction(30))


def test_start_maps_to_frame_on_screen_at_that_instant():
    """The rule: a time maps to the last frame starting at or before it (frame starts in whole ms)."""
    ntsc = Fraction(30000, 1001)
    assert frame_to_ms(3, ntsc) == 100  # 100.1 ms
    assert ms_to_frame(100, ntsc) == 3  # the frame that starts at (rounded) 100 ms
    assert ms_to_frame(99, ntsc) == 2
    assert ms_to_frame(132, ntsc) == 3 and ms_to_frame(133, ntsc) == 4  # frame 4 starts at 133.47
    assert snap_ms(120, ntsc) == 100


@given(st.integers(0, 10_000_000), st.sampled_from(RATES))
def test_frame_ms_round_trip(frame, rate):
    assert ms_to_frame(frame_to_ms(frame, rate), rate) == frame


@given(st.integers(0, 36_000_000), st.sampled_from(RATES))
def test_ms_lands_in_its_frame(ms, rate):
    frame = ms_to_frame(ms, rate)
    assert frame_to_ms(frame, rate) <= ms < frame_to_ms(frame + 1, rate)


@pytest.mark.parametrize("rate", [r for r in RATES if is_drop_frame(r)], ids=str)
def test_non_drop_counting_at_drop_frame_rates_matches_opentimelineio(rate):
    for n in [*range(0, 2000), *range(107800, 108100)]:
        expected = otio_time.to_timecode(otio_time.RationalTime(n, float(rate)), float(rate), drop_frame=False)
        assert frames_to_tc(n, rate, drop=False) == expected
        assert tc_to_frames(expected, rate, drop=False) == n


@pytest.mark.parametrize("text, value", [("25", 25), ("-0.5", Fraction(-1, 2)), ("1001/30000", Fraction(1001, 30000)),
                                         ("1e3", 1000), ("1.5e-3", Fraction(3, 2000)), ("0e0", 0), (" +3 ", 3),
                                         ("5.", 5), (".5", Fraction(1, 2)), ("1e3/7", Fraction(1000, 7))])
def test_parse_fraction_is_exact(text, value):
    assert parse_fraction(text) == value


@pytest.mark.parametrize("text, says", [("1e99999999", "out of range"), ("-1e999", "out of range"),
                                        ("1E+400", "out of range"), ("1e-99999999", "out of range"),
                                        ("1e16", "out of range"), ("1/0", "not a number"), ("nan", "not a number"),
                                        ("inf", "not a number"), ("1_000", "not a number"), ("٣", "not a number"),
                                        ("0x10", "not a number"), ("", "not a number"), ("1/3e9", "not a number")])
def test_parse_fraction_refuses_in_one_line(text, says):
    with pytest.raises(UsageError, match=f"^the lane is {says}: "):
        parse_fraction(text, "the lane")


def test_parse_int_wants_a_whole_number():
    assert parse_int("1e2") == 100
    with pytest.raises(UsageError, match="is not a whole number"):
        parse_int("1.5")


def test_durations_go_through_the_bounded_parser():
    assert parse_duration("1:30.5") == 90_500 and parse_duration("1h1m1.5s1ms") == 3_661_501
    for text in ("1_0:00", "1:1e99999999", "٣s"):
        with pytest.raises(UsageError, match="not a duration"):
            parse_duration(text)


def test_an_opentimelineio_time_beyond_the_bound_is_refused():
    """A double holds frame counts exactly only below 2**53: a time past ``MAX_TIME_S`` is refused, not rounded."""
    assert frames_at(otio_time.RationalTime(MAX_TIME_S * 25, 25), Fraction(25)) == MAX_TIME_S * 25
    with pytest.raises(UsageError, match="a time out of range"):
        frames_at(otio_time.RationalTime(1e23, 30000 / 1001), Fraction(30000, 1001))
