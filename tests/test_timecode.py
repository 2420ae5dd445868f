from fractions import Fraction

import opentimelineio.opentime as otio_time
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediatagger.errors import UsageError
from mediatagger.timecode import (
    frame_to_ms,
    frames_to_tc,
    is_drop_frame,
    ms_to_frame,
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
