"""The fuzzed readers' worst finds, end to end: a real ``mediatagger`` subprocess on each bad input
ends with exit 1 (or 2 for a bad preset or flag), one line ``mediatagger: error: <file>: <problem>``
and no traceback; the input is untouched and nothing is written in the output folder.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import DATA, SAMPLES, run_cli
from tests.fuzz.test_preset_fuzz import TRICKS
from tests.reliability import case

MODEL = ["--model", str(SAMPLES / "model"), "--vad", "silero"]
LAUGHS = "".join(f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, 10))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def analysis_doc(change) -> str:
    doc = json.loads((DATA / "talk.analysis.json").read_text())
    change(doc)
    return json.dumps(doc, allow_nan=True)


def _set(path: list, value) -> callable:
    def change(doc):
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value
    return change


BAD_ANALYSES = {
    "segment-not-object": (analysis_doc(_set(["tracks", 0, "segments", 0], 7)), "tracks[0].segments[0]"),
    "words-not-list": (analysis_doc(_set(["tracks", 0, "segments", 0, "words"], "abc")), "words"),
    "time-1e20": (analysis_doc(_set(["tracks", 0, "events", 0, "end_ms"], 10**20)), "end_ms"),
    "nan-token": (analysis_doc(_set(["tracks", 0, "events", 0, "score"], float("nan"))), "NaN"),
    "deep": ('{"schema": "mediatagger.analysis/2", "source": ' + "[" * 100_000 + "]" * 100_000 + "}", "cannot read"),
    "schema-4": (analysis_doc(_set(["schema"], "mediatagger.analysis/4")), "not a mediatagger.analysis"),
}


def check_failed(done, bad: Path, before: str, out: Path, codes=(1,)) -> str:
    assert done.returncode in codes, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mediatagger: error: ") and str(bad) in lines[0], lines[0]
    assert digest(bad) == before, "the input changed"
    left = sorted(p.name for p in out.rglob("*")) if out.exists() else []
    assert not [n for n in left if n != ".mediatagger.lock"], left
    return lines[0]


@case("Readers", "`mediatagger export` of a corrupted analysis (non-object segment, words not a list, "
      "a 10^20 ms time, NaN, deep nesting, schema /4 from a later version)",
      "exit 1, `mediatagger: error: <file>: malformed analysis: <key>: <problem>`, nothing written")
@pytest.mark.parametrize("name", sorted(BAD_ANALYSES))
def test_export_of_a_corrupted_analysis_is_one_line(name, tmp_path):
    text, says = BAD_ANALYSES[name]
    bad = tmp_path / "talk.analysis.json"
    bad.write_text(text)
    before, out = digest(bad), tmp_path / "out"
    line = check_failed(run_cli("export", bad, "-o", out), bad, before, out)
    assert says in line, line


TIMELINES = {
    "external-entity": (".xml", '<?xml version="1.0"?><!DOCTYPE xmeml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                "<xmeml><sequence><name>&x;</name></sequence></xmeml>", "entities"),
    "billion-laughs": (".fcpxml", f'<?xml version="1.0"?><!DOCTYPE fcpxml [<!ENTITY l0 "ha">{LAUGHS}]>'
                                  "<fcpxml>&l9;</fcpxml>", "entities"),
    "unknown-encoding": (".fcpxml", '<?xml version="1.0" encoding="UTF3"?><fcpxml/>', "encoding"),
    "otio-plain-dict": (".otio", '{"a": 1}', "timeline"),
    "edl-garbage": (".edl", "TITLE: x\n001  AX  V  C  99:99:99:99\n", "timeline"),
}


@case("Readers", "`mediatagger timeline` of a bad cut (XML entities, unknown encoding, an OTIO file that is "
      "no timeline, a garbled EDL)",
      "exit 1, `mediatagger: error: <file>: ...`, no entity read or expanded, nothing written")
@pytest.mark.parametrize("name", sorted(TIMELINES))
def test_timeline_of_a_bad_cut_is_one_line(name, tmp_path):
    suffix, text, says = TIMELINES[name]
    bad = tmp_path / f"cut{suffix}"
    bad.write_text(text)
    before, out = digest(bad), tmp_path / "out"
    line = check_failed(run_cli("timeline", bad, "-o", out, *MODEL), bad, before, out)
    assert says in line and "root:" not in line, line


@case("Readers", "`--preset bad.yaml` holding an alias bomb, a python tag or deep nesting",
      "exit 2, `mediatagger: error: <file>: ...` at once, no code run, nothing written")
@pytest.mark.parametrize("trick", ["- &a [", "description: !!python/object/apply", "[[[[", "spans:\n  pad_ms: 99999"])
def test_a_bad_preset_file_is_one_line(trick, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(next(text for text in TRICKS if text.startswith(trick)))
    before, out = digest(bad), tmp_path / "out"
    check_failed(run_cli("export", DATA / "talk.analysis.json", "-o", out, "--preset", bad), bad, before, out,
                 codes=(2,))


@case("Readers", "`mediatagger timeline --fps 1e999999999` (a rate that would take forever to build)",
      "exit 2 and `mediatagger: error: not a frame rate: '1e999999999'` at once; nothing written")
def test_a_huge_fps_is_refused_at_once(tmp_path):
    cut = tmp_path / "cut.edl"
    cut.write_text("TITLE: x\n")
    out = tmp_path / "out"
    done = run_cli("timeline", cut, "-o", out, "--fps", "1e999999999", *MODEL)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == "mediatagger: error: not a frame rate: '1e999999999'", done.stderr
    assert not out.exists() or not any(out.iterdir())


@case("Readers", "`mediatagger tag --track` with a 5000-digit number (more than Python's int() reads)",
      "exit 2 and `Error: Invalid value for '--track': the track is not a number: ...` at once; nothing written "
      "(was: a ValueError traceback)")
@pytest.mark.parametrize("track", ["9" * 5000, "99999"])
def test_regression_a_huge_track_number_was_a_traceback(tmp_path, track):
    out = tmp_path / "out"
    done = run_cli("tag", SAMPLES / "talk.mp4", "-o", out, "--track", track, *MODEL)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "Invalid value for '--track': the track is " in done.stderr.strip().splitlines()[-1], done.stderr
    assert not out.exists() or not any(out.iterdir())
