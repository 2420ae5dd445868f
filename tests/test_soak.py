"""The soak, short: 20 tag calls through the Python API in this process, with ``bench/soak.py``'s own
functions and targets (the console's visitors are in tests/web/test_abuse.py)."""

from __future__ import annotations

import tempfile

import pytest

from bench import soak
from mediatagger import api
from tests.reliability import case

pytestmark = pytest.mark.slow


@case("Soak", "20 tag calls in one process, other presets, exports and rich text each time",
      "every call writes its outputs; RSS grows < 10 % after the warm-up, descriptors and threads back to "
      "their warm-up count, no temp file in TMPDIR or the output folders")
def test_twenty_tag_calls_leave_nothing_behind(tiny_model, tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    wav = soak.short_wav(tmp_path, seconds=2.0)
    before = wav.read_bytes()
    tagger = api.Tagger(model=str(tiny_model), vad="silero")

    warm, end, left = soak.api_soak(tagger, 20, tmp_path / "out", {"wav": wav}, temp, warm_calls=6,
                                    say=lambda _: None, cycle=soak.QUICK)

    failed = [f"{v.target}: {v.detail}" for v in soak.verdicts(warm, end, rss_growth=0.10) if not v.passed]
    assert not failed, (failed, warm, end)
    assert not left and not list((tmp_path / "out").iterdir())  # each call's folder checked, then removed
    assert wav.read_bytes() == before


def test_the_targets_fail_when_something_piles_up():
    """The checks themselves: a descriptor, a thread, a file or 5 % more memory after the warm-up is a FAIL."""
    warm = soak.Figures(rss_kb=100_000, fds=10, threads=5, py_threads=1, temp_files=())
    assert all(v.passed for v in soak.verdicts(warm, warm))
    worse = [soak.Figures(105_000, 10, 5, 1, ()), soak.Figures(100_000, 11, 5, 1, ()),
             soak.Figures(100_000, 10, 6, 1, ()), soak.Figures(100_000, 10, 5, 2, ()),
             soak.Figures(100_000, 10, 5, 1, ("mediatagger-x/a.part.wav",))]
    for end in worse:
        assert [v.passed for v in soak.verdicts(warm, end)].count(False) == 1, end
