"""Choosing highlight clips: padding, joining, length limits, ranking, target length, order."""

import dataclasses
from fractions import Fraction

from mediatagger import analysis, highlights, presets
from mediatagger.timecode import frame_to_ms
from tests.conftest import load_fixed


def options(**changes):
    return dataclasses.replace(presets.load().clips, **changes)


def doc_with(events, duration_ms=60_000):
    data = analysis.to_dict(load_fixed())
    data["source"]["duration_ms"] = duration_ms
    data["tracks"][0]["events"] = [{"start_ms": s, "end_ms": e, "label": label, "score": score, "track": 0}
                                   for s, e, label, score in events]
    return analysis.from_dict(data)


EVENTS = [(10_000, 12_000, "LAUGHTER", 0.9), (13_000, 14_000, "APPLAUSE", 0.6),
          (30_000, 31_000, "LAUGHTER", 0.4), (50_000, 58_000, "LAUGHTER", 0.8), (20_000, 21_000, "BGM", 0.99)]


def spans_of(clips):
    return [[(s.label, s.start_ms) for s in c.spans] for c in clips]


def test_preroll_postroll_and_joining_near_clips():
    clips = highlights.plan(doc_with(EVENTS), options(merge_gap_ms=1000, max_clip_ms=0))
    assert spans_of(clips) == [[("LAUGHTER", 10_000), ("APPLAUSE", 13_000)], [("LAUGHTER", 30_000)],
                               [("LAUGHTER", 50_000)]]  # BGM is not a clip label
    first = clips[0]
    fps = Fraction(30000, 1001)
    # 10 s - 4 s pre-roll = 6000 ms lies in frame 179 (from 5972.6 ms); 14 s + 1 s post-roll in frame 449
    assert first.first_frame == 179 and first.start_ms == frame_to_ms(179, fps) == 5973
    assert first.end_ms == frame_to_ms(449, fps) and first.frames == 449 - 179
    assert first.seek == Fraction(179 * 1001, 30000) and first.length == Fraction(270 * 1001, 30000)
    assert clips[2].end_ms <= 60_000  # post-roll stops at the end of the source


def test_max_length_keeps_the_best_spans_preroll_and_min_length_widens_evenly():
    clips = highlights.plan(doc_with(EVENTS), options(max_clip_ms=6000, min_clip_ms=7000, pad_before_ms=1000,
                                                     pad_after_ms=500))
    lengths = [c.end_ms - c.start_ms for c in clips]
    assert all(abs(n - 7000) <= 34 for n in lengths[:2])  # widened to 7 s (on frame starts)
    long = clips[-1]  # 49-58.5 s padded: cut to 6 s from the pre-roll, then widened evenly to 7 s
    assert 48_000 <= long.start_ms <= 49_000 and abs(long.end_ms - long.start_ms - 7000) <= 34


def test_min_score_target_and_order():
    doc = doc_with(EVENTS)
    assert len(highlights.plan(doc, options(min_score=0.5))) == 2  # the 0.4 laugh is left out
    best = highlights.plan(doc, options(target_ms=15_000, max_clip_ms=0))
    # ranks: 50 s laugh 8 s x 0.8 = 6.4, 10 s group 1.8 + 0.6 = 2.4, 30 s laugh 0.4: 13 s + 6 s fit in 15 s? no
    assert spans_of(best) == [[("LAUGHTER", 50_000)]]
    ranked = highlights.plan(doc, options(order="score", max_clip_ms=0))
    assert [c.spans[0].start_ms for c in ranked] == [50_000, 10_000, 30_000]
    timed = highlights.plan(doc, options(order="time", max_clip_ms=0))
    assert [c.spans[0].start_ms for c in timed] == [10_000, 30_000, 50_000]


def test_audio_only_clips_keep_milliseconds():
    doc = dataclasses.replace(doc_with(EVENTS), source=dataclasses.replace(doc_with(EVENTS).source, fps=None))
    clip = highlights.plan(doc, options())[0]
    assert clip.frames is None and (clip.start_ms, clip.seek) == (6000, Fraction(6))


def with_feelings(doc, emotions):
    data = analysis.to_dict(doc)
    data["tracks"][0]["emotions"] = [{"start_ms": s, "end_ms": e, "label": label, "score": 0.8, "track": 0}
                                     for s, e, label in emotions]
    return analysis.from_dict(data)


def test_each_clip_says_why_it_scored_as_it_did():
    doc = with_feelings(doc_with(EVENTS), [(2_000, 9_000, "NEUTRAL"), (9_000, 15_000, "HAPPY")])
    first = highlights.plan(doc, options(max_clip_ms=0))[0]
    why = first.why
    assert why.laughter_s == 2.0 and why.laughter_score == 0.9
    assert why.applause_after_s == 1.0          # applause 13-14 s, within 5 s of the laugh's end at 12 s
    # before the laugh (0-10 s): 1 s cheerful of 8 heard; during the clip (6-15 s): 6 of 9
    assert why.swing == round(6 / 9 - 1 / 8, 3)
    assert why.setup == "And that is when the music started."   # 7-9.1 s, just before the laugh at 10 s
    assert first.score == first.rank == 0.9 * 2 + 0.6 * 1      # the default rule: every span's score x seconds


def test_the_rank_rule_chooses_the_order():
    doc = with_feelings(doc_with(EVENTS), [(2_000, 9_000, "NEUTRAL"), (9_000, 15_000, "HAPPY")])
    by = {rule: highlights.plan(doc, options(order="score", max_clip_ms=0, rank=rule)) for rule in highlights.RANKS}
    assert [c.spans[0].start_ms for c in by["length"]] == [50_000, 10_000, 30_000]
    for clip in by["reaction"]:
        w = clip.why
        assert clip.score == w.laughter_s * w.laughter_score + w.applause_after_s + 2 * w.swing
    # the 10 s laugh has applause after it and a swing to cheer, which only the reaction rule counts
    reaction = {c.spans[0].start_ms: c.score for c in by["reaction"]}
    assert reaction[10_000] == 1.8 + 1.0 + 2 * round(6 / 9 - 1 / 8, 3) and reaction[50_000] == 8 * 0.8
    assert [round(c.score, 3) for c in by["laughs"]] == [6.4, 1.8, 0.4]


def test_two_clips_of_one_laugh_become_one():
    """Widened to 12 s, the clips of laughs 3 s apart would overlap (both hold the first laugh's end)."""
    doc = doc_with([(10_000, 11_000, "LAUGHTER", 0.9), (15_000, 16_000, "LAUGHTER", 0.8)])
    clips = highlights.plan(doc, options(pad_before_ms=0, pad_after_ms=0, merge_gap_ms=0, min_clip_ms=12_000))
    assert spans_of(clips) == [[("LAUGHTER", 10_000), ("LAUGHTER", 15_000)]]
    assert all(a.end_ms <= b.start_ms for a, b in zip(clips, clips[1:]))
