"""The analysis reader: every key checked once for type and range, errors naming the file and the key."""

import json
import re

import pytest

from mediatagger import analysis
from mediatagger.errors import AnalysisError
from tests.conftest import DATA, run_cli
from tests.test_cli import one_line_error


def document() -> dict:
    return json.loads((DATA / "talk.analysis.json").read_text())


def broken(tmp_path, change) -> str:
    doc = document()
    change(doc)
    path = tmp_path / "talk.analysis.json"
    path.write_text(json.dumps(doc))
    return str(path)


CASES = {
    "fps not a rate": (lambda d: d["source"].update(fps="abc"), "source.fps: 'abc' is not a frame rate"),
    "span past 100 hours": (lambda d: d["tracks"][0]["events"][0].update(end_ms=10**15),
                            "tracks[0].events[0].end_ms: 1000000000000000 is out of range"),
    "span ends before it starts": (lambda d: d["tracks"][0]["emotions"][1].update(end_ms=10),
                                   "tracks[0].emotions[1].end_ms: 10 is not after start_ms 7000"),
    "segment not an object": (lambda d: d["tracks"][0]["segments"].append(7),
                              "tracks[0].segments[3]: must be object, got 7"),
    "words not a list": (lambda d: d["tracks"][0]["segments"][0].update(words="hi"),
                         "tracks[0].segments[0].words: must be list, got 'hi'"),
    "score above 1": (lambda d: d["tracks"][0]["events"][1].update(score=3.5),
                      "tracks[0].events[1].score: 3.5 is out of range (0 to 1)"),
    "time as text": (lambda d: d["tracks"][0]["events"][1].update(start_ms="10"),
                     "tracks[0].events[1].start_ms: must be int, got '10'"),
    "bool as a time": (lambda d: d["source"].update(duration_ms=True), "source.duration_ms: must be int, got True"),
    "missing model": (lambda d: d.pop("model"), "model: is missing"),
    "bad timecode": (lambda d: d["source"].update(start_timecode="noon"), "source.start_timecode: 'noon' is not"),
    "bad curves": (lambda d: d["tracks"][0].update(curves={"grid_ms": 50, "encoding": "uint8-base64",
                                                           "classes": {"LAUGHTER": "@@@"}}),
                   "tracks[0].curves: cannot decode"),
}


@pytest.mark.parametrize("case", CASES)
def test_corrupt_analysis_names_the_file_and_the_key(tmp_path, case):
    change, message = CASES[case]
    path = broken(tmp_path, change)
    with pytest.raises(AnalysisError) as error:
        analysis.load(path)
    assert str(error.value).startswith(f"{path}: malformed analysis: ") and message in str(error.value)


def test_nan_and_infinity_are_not_numbers(tmp_path):
    path = tmp_path / "talk.analysis.json"
    path.write_text((DATA / "talk.analysis.json").read_text().replace('"score": 0.93', '"score": NaN'))
    with pytest.raises(AnalysisError, match="NaN is not a JSON number"):
        analysis.load(path)


@pytest.mark.parametrize("case", ["fps not a rate", "span past 100 hours"])
def test_cli_export_of_a_corrupt_analysis_is_exit_1_and_one_line(tmp_path, case):
    path = broken(tmp_path, CASES[case][0])
    done = run_cli("export", path, "-o", tmp_path / "out", "--export", "ass,srt,edl,otio")
    one_line_error(done, path, CASES[case][1])
    assert done.returncode == 1 and not (tmp_path / "out").exists()


def test_a_written_analysis_reads_back_the_same(fixed_analysis):
    assert analysis.from_dict(json.loads(analysis.dumps(analysis.to_dict(fixed_analysis)))) == fixed_analysis


def test_preset_out_of_range_through_the_cli(tmp_path):
    preset = tmp_path / "mine.yaml"
    for text, key in (("clips: {pad_before_ms: -5000}\n", "clips.pad_before_ms = -5000"),
                      ("spans: {on_level: 0.4, off_level: 0.6}\n", "spans.off_level")):
        preset.write_text(text)
        done = run_cli("export", DATA / "talk.analysis.json", "--preset", preset, "-o", tmp_path / "out")
        one_line_error(done, str(preset), key)
        assert done.returncode == 2 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("change, says", [
    (lambda d: d["source"].update(start_timecode="99:99:99:99"), "source.start_timecode: '99:99:99:99' is not a time"),
    (lambda d: d["source"].update(fps="25", start_timecode="01:00:00:29"), "source.start_timecode: '01:00:00:29'"),
    (lambda d: d["source"].update(path=""), "source.path: '' is not a file's path"),
])
def test_source_timecode_fits_the_rate_and_the_path_names_a_file(tmp_path, change, says):
    with pytest.raises(AnalysisError, match=re.escape(says)):
        analysis.load(broken(tmp_path, change))
