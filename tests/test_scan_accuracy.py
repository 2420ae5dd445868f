"""Issue 4 acceptance: timed, scored spans from the window scan on held-out media, and
analyse-once/export-many."""

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, TALK, run_cli, truth

pytestmark = pytest.mark.slow
SCAN = SAMPLES / "heldout" / "scan.mp4"


@pytest.fixture(scope="module")
def scanned(tiny_model, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("scan")
    done = run_cli("tag", SCAN, "--model", tiny_model, "--vad", "silero", "--track", "all", "--export",
                   "json,edl", "-o", out, "-q")
    assert done.returncode == 0, done.stderr
    return json.loads((out / "scan.analysis.json").read_text()), out


def events(doc: dict) -> list[dict]:
    return [e for t in doc["tracks"] for e in t["events"]]


def overlap(a: dict, b: dict) -> int:
    return max(0, min(a["end_ms"], b["end_ms"]) - max(a["start_ms"], b["start_ms"]))


def test_every_event_is_found_on_its_track_with_tight_boundaries(scanned):
    doc, _ = scanned
    items = [i for i in truth(SCAN) if i["label"] != "SPEECH" and i["end_ms"] - i["start_ms"] >= 800]
    errors = []
    for item in items:
        found = [e for e in events(doc) if e["track"] == item["track"] and e["label"] == item["label"]
                 and overlap(e, item) >= 0.5 * (item["end_ms"] - item["start_ms"])]
        assert len(found) == 1, (item, [e for e in events(doc) if overlap(e, item)])
        errors += [abs(found[0]["start_ms"] - item["start_ms"]), abs(found[0]["end_ms"] - item["end_ms"])]
    assert statistics.median(errors) <= 150 and max(errors) <= 300, sorted(errors)


def test_no_false_spans_over_silence(scanned):
    doc, _ = scanned
    for track in doc["tracks"]:
        items = [i for i in truth(SCAN) if i["track"] == track["index"]]
        for span in track["events"]:
            quiet = (span["end_ms"] - span["start_ms"]) - sum(overlap(span, i) for i in items)
            assert quiet < 500, span


def test_spans_of_a_label_never_overlap_on_a_track(scanned):
    doc, _ = scanned
    for track in doc["tracks"]:
        for kind in ("events", "emotions"):
            for label in {s["label"] for s in track[kind]}:
                mine = sorted((s["start_ms"], s["end_ms"]) for s in track[kind] if s["label"] == label)
                assert all(a[1] <= b[0] for a, b in zip(mine, mine[1:])), (label, mine)
                assert all(s["track"] == track["index"] for s in track[kind])


def test_scores_and_stored_curves(scanned):
    doc, _ = scanned
    assert all(0.0 <= e["score"] <= 1.0 for t in doc["tracks"] for e in t["events"] + t["emotions"])
    track = doc["tracks"][0]
    assert track["curves"]["grid_ms"] == 50 and "LAUGHTER" in track["curves"]["classes"]
    assert doc["settings"]["spans"]["on_level"] == 0.5 and doc["settings"]["scan"]["window_ms"] == 1000
    assert all(0.0 <= s["event_score"] <= 1.0 for s in track["segments"])


def all_spans(doc: dict) -> list[dict]:
    return [s for t in doc["tracks"] for s in t["events"] + t["emotions"]]


def test_raising_a_threshold_removes_low_score_spans(scanned, tmp_path):
    doc, out = scanned
    # the label with the least confident span, and a level between that span's score and the best
    weakest = min(all_spans(doc), key=lambda s: s["score"])
    label, scores = weakest["label"], sorted({s["score"] for s in all_spans(doc) if s["label"] == weakest["label"]})
    level = round((scores[0] + (scores[1] if len(scores) > 1 else 1.0)) / 2, 3)
    assert scores[0] < level <= 1.0
    preset = tmp_path / "strict.yaml"
    preset.write_text(f"spans: {{on_by_label: {{{label}: {level}}}}}\n")
    done = run_cli("export", out / "scan.analysis.json", "--preset", preset, "--export", "json", "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    strict = json.loads((tmp_path / "scan.analysis.json").read_text())
    before = [s for s in all_spans(doc) if s["label"] == label]
    kept = [s for s in all_spans(strict) if s["label"] == label]
    assert kept == [s for s in before if s["score"] >= level] and len(kept) < len(before)
    assert [s for s in all_spans(strict) if s["label"] != label] == [s for s in all_spans(doc) if s["label"] != label]


def test_export_writes_what_tag_writes(tiny_model, tmp_path):
    tagged = tmp_path / "tag"
    assert run_cli("tag", TALK, "--model", tiny_model, "--vad", "silero", "-o", tagged, "-q").returncode == 0
    exported = tmp_path / "export"
    done = run_cli("export", tagged / "talk.analysis.json", "-o", exported, "-q")
    assert done.returncode == 0, done.stderr
    for name in ("talk.analysis.json", "talk.ass", "talk.edl"):
        assert (exported / name).read_text() == (tagged / name).read_text(), name
    assert sorted(p.name for p in (exported / "clips").iterdir()) == \
        sorted(p.name for p in (tagged / "clips").iterdir()) != []


def test_export_never_imports_funasr_or_torch(tiny_model, tmp_path):
    assert run_cli("tag", TALK, "--model", tiny_model, "--vad", "none", "--export", "json", "-o", tmp_path,
                   "-q").returncode == 0
    code = ("import sys, runpy\n"
            f"sys.argv = ['mediatagger', 'export', {str(tmp_path / 'talk.analysis.json')!r}, '-o', "
            f"{str(tmp_path / 'out')!r}, '--export', 'ass,edl', '-q']\n"
            "try:\n    runpy.run_module('mediatagger', run_name='__main__')\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('torch', 'funasr') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
    assert (tmp_path / "out" / "talk.edl").is_file()


def test_tag_reuses_an_analysis_of_the_same_content(tiny_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    args = ["tag", TALK, "--model", model, "--vad", "none", "--export", "json,edl", "-o", tmp_path / "out", "-q"]
    assert run_cli(*args).returncode == 0
    (model / "model.pt").unlink()  # the model can no longer load: a second run must not need it
    (tmp_path / "out" / "talk.edl").unlink()
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "talk.edl").is_file()
    forced = run_cli(*args, "--force")  # force replaces outputs that would change; the analysis is still reused
    assert forced.returncode == 0, forced.stderr


def test_reel_clips_hold_the_ground_truth_they_were_cut_for(scanned, tmp_path):
    _, out = scanned
    done = run_cli("reel", out / "scan.analysis.json", "-o", tmp_path, "--cut", "accurate", "-q")
    assert done.returncode == 0, done.stderr
    plan = json.loads((tmp_path / "scan.clips.json").read_text())
    items = [i for i in truth(SCAN) if i["label"] in ("LAUGHTER", "APPLAUSE")]
    covered = set()
    for clip in plan["clips"]:
        for span in clip["spans"]:
            for n, item in enumerate(items):
                if item["label"] == span["label"] and item.get("track", 0) == span["track"] and \
                        overlap(item, span) > 0:
                    assert clip["in_ms"] <= item["start_ms"] and item["end_ms"] <= clip["out_ms"], (item, clip)
                    covered.add(n)
    assert covered == set(range(len(items)))  # every laugh and applause is in the reel
    assert (tmp_path / plan["reel"]).is_file()
