"""The detectors on the real-recordings set (samples/realsound: acted laughs, real applause, produced
music and read speech from Debian/PyPI packages, mixed with known truth), scored as bench/realsound.py
scores them. Thresholds were chosen on the tune half; these floors are checked on the report half and
sit a little under what bench/realsound.py measured there (README "Detectors"), so a regression fails
while a run-to-run wobble of one span does not."""

from __future__ import annotations

import pytest

from bench import realsound as rs
from mediatagger import api
from tests.conftest import REPO
from tests.test_audioset import needs_model

pytestmark = needs_model


@pytest.fixture(scope="module")
def real_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("realsound")
    return folder, rs.load_set(folder)


@pytest.fixture(scope="module")
def report(real_set):
    folder, items = real_set
    return [i for i in items if i.half == "report"], folder


def test_audioset_on_the_report_half(report):
    """YAMNet alone: every family found, no false alarm on plain speech, laughs and music placed within
    a third of a second (median)."""
    items, folder = report
    tagger = api.Tagger(detector="audioset")
    docs = {i.file: tagger.tag(folder / i.file) for i in items}
    scores = rs.evaluate(items, docs)
    (laughs, laugh_fa), (claps, clap_fa), (music, music_fa) = (scores[f] for f in rs.FAMILIES)
    assert laughs.f1 >= 0.65 and laughs.precision >= 0.9, laughs
    assert claps.f1 >= 0.85, claps
    assert music.f1 >= 0.8, music
    assert max(laugh_fa, clap_fa, music_fa) <= 1.0   # seconds per minute of plain speech
    assert sorted(laughs.onsets)[len(laughs.onsets) // 2] <= 300
    assert sorted(music.onsets)[len(music.onsets) // 2] <= 300


@pytest.mark.slow
def test_fused_with_the_bundled_model_is_never_worse_than_audioset_and_sensevoice_alone_is(report):
    """The bundled SenseVoice model (synthetic training) calls real speech laughter; fused with AudioSet
    none of that leaks through: no family more than 0.05 under AudioSet alone."""
    items, folder = report
    tagger = api.Tagger(model=str(REPO / "samples" / "model"), vad="fsmn", detector="fused")
    docs = {i.file: tagger.tag(folder / i.file) for i in items}
    results = {d: rs.evaluate(items, rs.derived(docs, d)) for d in rs.DETECTORS}
    for family in rs.FAMILIES:
        assert results["fused"][family][0].f1 >= results["audioset"][family][0].f1 - 0.05, family
        assert results["fused"][family][1] <= 1.0
    assert results["sensevoice"]["LAUGHTER"][1] > 10   # the bundled model's false laughs, s/min of speech
    assert results["sensevoice"]["LAUGHTER"][0].f1 < results["audioset"]["LAUGHTER"][0].f1 - 0.1
