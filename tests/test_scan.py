"""The scan's pure parts: tiling gaps, curves from windows, boundaries, hysteresis, spans."""

import numpy as np
import pytest

from mediatagger import scan
from mediatagger.presets import ScanOptions, SpanOptions


def test_gaps_and_tiles():
    assert scan.gaps(10000, [(1000, 3000), (2500, 4000)]) == [(0, 1000), (4000, 10000)]
    assert scan.tile([(0, 1000), (4000, 6300)], 1000) == [(0, 1000), (4000, 5000), (5000, 6300)]
    assert scan.tile([(0, 150)], 1000) == []  # too short to tag


def test_curves_take_the_shortest_covering_window():
    windows = [scan.Window(0, 4000, {"LAUGHTER": 0.2}), scan.Window(1000, 1500, {"LAUGHTER": 0.9})]
    curve = scan.curves(windows, 5000, 500, ["LAUGHTER"])
    assert list(np.round(curve.probability("LAUGHTER"), 2)) == [0.2, 0.2, 0.9, 0.2, 0.2, 0.2, 0.2, 0.2, 0.0, 0.0]
    assert scan.crossings(curve, ["LAUGHTER"], 0.5) == [1000, 1500]
    segment = scan.Window(0, 4000, {"LAUGHTER": 0.2}, rank=0)  # a speech segment wins inside it
    assert scan.curves([segment, windows[1]], 5000, 500, ["LAUGHTER"]).probability("LAUGHTER").max() < 0.3


def test_curves_round_trip_through_json():
    curve = scan.curves([scan.Window(0, 900, {"BGM": 0.5})], 1000, 100, ["BGM", "CRY"])
    again = scan.Curves.from_dict(curve.to_dict())
    assert again.grid_ms == 100 and all(np.array_equal(again.values[k], curve.values[k]) for k in curve.values)


def test_fine_windows_surround_each_boundary():
    opts = ScanOptions(window_ms=1000, fine_window_ms=500, fine_hop_ms=250)
    wins = scan.fine_windows([2000], 10000, opts)
    assert wins == [(1250, 1750), (1500, 2000), (1750, 2250), (2000, 2500), (2250, 2750)]


def test_fine_windows_stay_inside_the_gaps():
    assert scan.within([(700, 1200), (1900, 2400)], [(0, 1000), (2000, 5000)], 200) == [(700, 1000), (2000, 2400)]
    assert scan.within([(1200, 1700)], [(0, 1000), (2000, 5000)], 200) == []  # centre in speech


def test_hysteresis():
    values = np.array([0.1, 0.4, 0.6, 0.45, 0.3, 0.2, 0.55, 0.1])
    assert scan.hysteresis(values, on=0.5, off=0.35) == [(1, 4), (6, 7)]
    assert scan.hysteresis(values, on=0.7, off=0.35) == []


def test_spans_score_merge_and_thresholds():
    probs = [0.0] * 4 + [0.9] * 10 + [0.0] * 2 + [0.8] * 10 + [0.0] * 4 + [0.6] * 4 + [0.0] * 6
    windows = [scan.Window(i * 100, (i + 1) * 100, {"LAUGHTER": p}) for i, p in enumerate(probs)]
    curve = scan.curves(windows, 4000, 100, ["LAUGHTER"])
    opts = SpanOptions(on_level=0.5, off_level=0.35, merge_gap_ms=300, min_duration_ms=300)
    spans = scan.spans(curve, ["LAUGHTER"], opts, track=1, duration_ms=4000)
    assert [(s.start_ms, s.end_ms, s.track) for s in spans] == [(400, 2600, 1), (3000, 3400, 1)]
    assert spans[0].score == pytest.approx(0.9, abs=0.01)  # the peak; merged runs keep a weighted score
    assert all(0 <= s.score <= 1 for s in spans)
    stricter = SpanOptions(merge_gap_ms=300, min_duration_ms=300, on_by_label={"LAUGHTER": 0.7})
    assert len(scan.spans(curve, ["LAUGHTER"], stricter, 1, 4000)) == 1  # the 0.6 span is gone
    padded = SpanOptions(pad_ms=500, merge_gap_ms=0, min_duration_ms=0)
    (joined,) = scan.spans(curve, ["LAUGHTER"], padded, 1, 4000)[:1]
    assert joined.start_ms == 0  # clamped at the start of the track
