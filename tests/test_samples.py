"""The committed samples and the layout-driven generator that made them."""

import json
import shutil
import subprocess
import sys

import pytest

from mediatagger import media
from tests.conftest import SAMPLES, TALK, TWO_TRACKS, truth


@pytest.mark.parametrize("sample", [TALK, TWO_TRACKS])
def test_committed_samples_are_small_with_truth(sample):
    assert sample.stat().st_size < 2 * 1024 * 1024
    labels = {item["label"] for item in truth(sample)}
    assert {"SPEECH", "LAUGHTER", "APPLAUSE"} <= labels


def test_generator_composes_numeric_kinds_with_exact_truth(tmp_path):
    layout = tmp_path / "l.yaml"
    layout.write_text("duration: 6\nseed: 3\nvideo: {fps: '24000/1001', size: '320x180'}\n"
                      "tracks:\n  - - {kind: laughter, start: 0.5, end: 2.0}\n"
                      "    - {kind: cough, start: 3.0, end: 3.6}\n"
                      "  - - {kind: bgm, start: 0, end: 6, gain_db: -12}\n    - {kind: silence, start: 1, end: 2}\n")
    out = tmp_path / "gen.mp4"
    subprocess.run([sys.executable, str(SAMPLES / "make_samples.py"), str(layout), "-o", str(out)], check=True)
    info = media.probe(out)
    assert len(info.audio_tracks) == 2 and info.fps_text == "24000/1001"
    items = json.loads((tmp_path / "gen.mp4.truth.json").read_text())["items"]
    assert [(i["track"], i["label"], i["start_ms"], i["end_ms"]) for i in items] == \
        [(0, "LAUGHTER", 500, 2000), (0, "COUGH", 3000, 3600), (1, "BGM", 0, 6000)]


COMPOSED = [TALK, TWO_TRACKS, *sorted((SAMPLES / "heldout").glob("*.mp4"))]


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="regenerating speech needs espeak-ng")
@pytest.mark.parametrize("sample", COMPOSED, ids=lambda p: p.name)
def test_committed_truth_regenerates_from_its_layout(sample, tmp_path):
    layout = sample.with_name(f"{sample.stem}.layout.yaml")
    out = tmp_path / sample.name
    subprocess.run([sys.executable, str(SAMPLES / "make_samples.py"), str(layout), "-o", str(out)], check=True)
    assert truth(out) == truth(sample)
