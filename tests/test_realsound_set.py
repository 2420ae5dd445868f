"""The real-sound test set (samples/realsound): its provenance records, and the truth build.py derives by
construction (two halves with disjoint sources, spans inside their files, deterministic bytes, sound where
the truth says so and silence between). Real ffmpeg, real clips; no mocks."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from samples.realsound import build as realsound

HERE = realsound.HERE
SILENT_DBFS = -45.0  # speech sits at -26 dBFS; what lies outside every span is the clips' sub-threshold tails
AUDIBLE_DBFS = -40.0  # the quietest event (a laugh 12 dB under the speech) still has frames above this


def sources() -> list[dict]:
    return json.loads((HERE / "sources.json").read_text(encoding="utf-8"))["clips"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[realsound.Item]]:
    out = tmp_path_factory.mktemp("realsound")
    return out, realsound.build(out)


def decode(paths: list[Path]) -> list[np.ndarray]:
    """Built files back to float32 48 kHz mono, through real ffmpeg (one run for all)."""
    return realsound.decode_all(paths)


def flac_streaminfo(path: Path) -> tuple[int, int, int, int]:
    """(sample rate, channels, bits per sample, total samples) from the FLAC header, read without ffmpeg."""
    head = path.read_bytes()[:42]
    assert head[:4] == b"fLaC" and head[4] & 0x7F == 0, "no STREAMINFO block first"
    bits = int.from_bytes(head[18:26], "big")
    return bits >> 44, ((bits >> 41) & 7) + 1, ((bits >> 36) & 31) + 1, bits & (2**36 - 1)


def frames_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // realsound.FRAME
    return 10 * np.log10((x[:n * realsound.FRAME].astype(np.float64).reshape(n, -1) ** 2).mean(axis=1) + 1e-20)


def voices_in(item: realsound.Item) -> frozenset[str]:
    voice = {r["id"]: r["voice"] for r in sources()}
    return frozenset(voice[s.clip] for s in item.spans)


def test_every_clip_is_listed_with_its_sha256_and_a_licence_text():
    rows = sources()
    on_disk = {p.relative_to(HERE / "clips").as_posix() for p in (HERE / "clips").rglob("*") if p.is_file()}
    assert on_disk == {r["file"] for r in rows}, "clips/ and sources.json disagree"
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert hashlib.sha256((HERE / "clips" / r["file"]).read_bytes()).hexdigest() == r["sha256"], r["id"]
        licence = HERE / r["licence_file"]
        assert licence.parent == HERE / "LICENSES" and licence.stat().st_size > 400, r["id"]
        assert r["family"] in {"laughter", "applause", "music", "speech"}
        assert r["package"] and r["version"] and r["path"] and r["attribution"] and r["licence"], r["id"]
        assert r["duration_ms"] > 500


def test_halves_share_no_clip_and_no_voice(built):
    _, items = built
    voice = {r["id"]: r["voice"] for r in sources()}
    used = {half: {s.clip for i in items if i.half == half for s in i.spans} for half in ("tune", "report")}
    assert used["tune"] and used["report"] and not used["tune"] & used["report"]
    voices = {half: {voice[c] for c in clips} for half, clips in used.items()}
    assert not voices["tune"] & voices["report"], "a speaker or recording is in both halves"
    speakers = {half: {v for v in vs if v.startswith(("asterisk:", "cmu_arctic:"))} for half, vs in voices.items()}
    assert len(speakers["tune"]) == len(speakers["report"]) == 3


def test_each_half_has_enough_of_every_event(built):
    _, items = built
    for half in ("tune", "report"):
        mine = [i for i in items if i.half == half]
        labels = Counter(s.label for i in mine for s in i.spans)
        assert labels["LAUGHTER"] >= 5 and labels["APPLAUSE"] >= 3 and labels["BGM"] >= 3, (half, labels)
        only = [i for i in mine if i.kind == "speech-only"]
        assert len(only) >= 2 and all({s.label for s in i.spans} == {"SPEECH"} for i in only)
        assert all(i.duration_ms >= 55_000 for i in only)
        assert len({voices_in(i) for i in only}) == len(only), "speech-only files share a speaker"
        assert all(30_000 <= i.duration_ms <= 65_000 for i in mine), [(i.file, i.duration_ms) for i in mine]


def test_designed_overlaps_and_levels(built):
    _, items = built
    for item in items:
        spans = item.spans
        if "laugh-overlap" in item.file:
            for talk, laugh in zip(spans[::2], spans[1::2]):
                assert (talk.label, laugh.label) == ("SPEECH", "LAUGHTER")
                assert 300 <= talk.end_ms - laugh.start_ms <= 1000
        for s in spans:
            low = {"SPEECH": 0, "LAUGHTER": -12, "APPLAUSE": -6, "BGM": -20}[s.label]
            assert low <= s.level_db <= 0, (item.file, s)
        beds = [s for s in spans if s.label == "BGM" and any(t.label == "SPEECH" and s.start_ms < t.start_ms
                                                              and t.end_ms < s.end_ms for t in spans)]
        assert all(-20 <= b.level_db <= -6 for b in beds)


def test_truth_spans_lie_inside_their_decoded_files_and_sound_where_they_say(built):
    out, items = built
    assert json.loads((out / "truth.json").read_text())["items"][0]["file"] == items[0].file
    for item, x in zip(items, decode([out / i.file for i in items])):
        assert len(x) == item.duration_ms * realsound.RATE // 1000, item.file
        assert flac_streaminfo(out / item.file) == (realsound.RATE, 1, 16, len(x)), item.file
        db = frames_db(x)
        covered = np.zeros(len(db), bool)
        for s in item.spans:
            assert 0 <= s.start_ms < s.end_ms <= item.duration_ms, (item.file, s)
            assert s.start_ms % 10 == 0 and s.end_ms % 10 == 0
            assert db[s.start_ms // 10:s.end_ms // 10].max() > AUDIBLE_DBFS, (item.file, s)
            covered[s.start_ms // 10:s.end_ms // 10] = True
        assert db[~covered].max() < SILENT_DBFS, item.file
        assert (~covered).sum() >= 100, "no silence left between events"


def test_laughs_and_their_pauses(built):
    """A laugh alone in a pause has silence (by the truth and by the audio) on both sides."""
    out, items = built
    item = next(i for i in items if i.file.endswith("laugh-pauses-a.flac"))
    db = frames_db(decode([out / item.file])[0])
    laughs = [s for s in item.spans if s.label == "LAUGHTER"]
    assert laughs
    for laugh in laughs:
        before = max((s.end_ms for s in item.spans if s.end_ms <= laugh.start_ms), default=0)
        after = min((s.start_ms for s in item.spans if s.start_ms >= laugh.end_ms), default=item.duration_ms)
        assert laugh.start_ms - before >= 1000 and after - laugh.end_ms >= 1000
        assert db[before // 10:laugh.start_ms // 10].max() < SILENT_DBFS
        assert db[laugh.start_ms // 10:laugh.end_ms // 10].max() > AUDIBLE_DBFS


def test_build_is_deterministic_and_reused(built, tmp_path):
    out, items = built
    again = realsound.build(tmp_path)
    assert again == items
    assert (tmp_path / "truth.json").read_bytes() == (out / "truth.json").read_bytes()
    for item in items:
        assert (tmp_path / item.file).read_bytes() == (out / item.file).read_bytes(), item.file
    stamp = (tmp_path / items[0].file).stat().st_mtime_ns
    assert realsound.build(tmp_path) == items
    assert (tmp_path / items[0].file).stat().st_mtime_ns == stamp, "an up-to-date build was redone"
