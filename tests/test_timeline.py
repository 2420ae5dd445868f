import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediatagger.timeline import Span, drop_short, join_close, merge, pad, split_long


def test_span_validates():
    with pytest.raises(ValueError):
        Span(100, 100, "LAUGHTER")
    with pytest.raises(ValueError):
        Span(-1, 10, "LAUGHTER")
    with pytest.raises(TypeError):
        Span(0.5, 10, "LAUGHTER")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Span(0, 10, "LAUGHTER", score=1.5)
    assert Span(0, 10, "BGM").duration_ms == 10


def test_merge_joins_close_spans_of_one_label_and_track_only():
    spans = [Span(0, 1000, "LAUGHTER", 0.5), Span(1300, 2000, "LAUGHTER", 1.0),
             Span(1100, 1200, "APPLAUSE"), Span(1500, 1800, "LAUGHTER", track=1)]
    merged = merge(spans, gap_ms=500)
    laugh = next(s for s in merged if s.label == "LAUGHTER" and s.track == 0)
    assert (laugh.start_ms, laugh.end_ms) == (0, 2000)
    assert laugh.score == pytest.approx((0.5 * 1000 + 1.0 * 700) / 1700)  # duration-weighted
    assert Span(1100, 1200, "APPLAUSE") in merged
    assert Span(1500, 1800, "LAUGHTER", track=1) in merged
    assert len(merge(spans, gap_ms=100)) == 4


def test_pad_clamps_to_the_source():
    assert pad([Span(500, 1000, "BGM")], 1000, 1000, 1500) == [Span(0, 1500, "BGM")]


def test_drop_short():
    assert drop_short([Span(0, 100, "COUGH"), Span(0, 300, "COUGH")], 200) == [Span(0, 300, "COUGH")]


def test_regions_join_and_split():
    assert join_close([(1000, 2000), (0, 500), (2100, 3000)], 200) == [(0, 500), (1000, 3000)]
    assert split_long([(0, 35000)], 15000) == [(0, 11666), (11666, 23333), (23333, 35000)]


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 3000), st.sampled_from(["A", "B"])),
                max_size=30), st.integers(0, 1000))
def test_merged_spans_of_a_label_never_overlap(raw, gap):
    spans = [Span(s, s + d, label) for s, d, label in raw]
    merged = merge(spans, gap)
    for label in "AB":
        mine = [s for s in merged if s.label == label]
        assert all(a.end_ms + gap < b.start_ms for a, b in zip(mine, mine[1:]))
        covered = sum(s.duration_ms for s in mine)
        assert covered >= max((s.duration_ms for s in spans if s.label == label), default=0)
