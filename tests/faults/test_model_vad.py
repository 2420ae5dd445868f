"""A broken model folder ends in one clear ModelLoadError naming the folder and the problem, never a
crash deep in funasr or torch; audio with no speech at all gives an honest empty analysis."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ffmpeg
from tests.faults.conftest import mediatagger, one_error, short_take, state
from tests.reliability import case


def no_config(folder):
    (folder / "config.yaml").unlink()


def truncated_weights(folder):
    weights = folder / "model.pt"
    os.truncate(weights, weights.stat().st_size // 2)


def garbage_tokenizer(folder):
    (folder / "tiny.bpe.model").write_bytes(bytes(range(256)) * 64)


@case("Model and VAD", "the model folder has no config.yaml",
      "exit 1, `cannot load model '<folder>': the folder lacks config.yaml (pass a complete model folder as "
      "--model DIR)`; no output")
@case("Model and VAD", "the model's weights are truncated",
      "exit 1, `cannot load model '<folder>': cannot read its weights model.pt (<torch's first sentence>); the "
      "file may be truncated or corrupt (download the model again ...)`; no output")
@case("Model and VAD", "the model's tokenizer is garbage",
      "exit 1, `cannot load model '<folder>': funasr could not load the folder (... could not parse ModelProto "
      "from <folder>/tiny.bpe.model)`; no output")
@pytest.mark.parametrize("damage, problem", [
    (no_config, r"the folder lacks config\.yaml \(pass a complete model folder as --model DIR\)$"),
    pytest.param(truncated_weights, r"cannot read its weights model\.pt \(.+\); the file may be truncated or "
                 r"corrupt \(download the model again and pass it as --model DIR\)$", marks=pytest.mark.slow),
    pytest.param(garbage_tokenizer, r"funasr could not load the folder \(.*could not parse ModelProto from "
                 r".*tiny\.bpe\.model\)$", marks=pytest.mark.slow),
], ids=["no config", "truncated weights", "garbage tokenizer"])
def test_a_broken_model_folder_is_one_clear_error(tiny_model, tmp_path, damage, problem):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    damage(model)
    take = short_take(tmp_path / "in" / "take.mp4", 2)
    inputs, broken, out = state(take.parent), state(model), tmp_path / "out"

    done = mediatagger("tag", take, "--model", model, "--vad", "silero", "-o", out)

    assert done.returncode == 1
    one_error(done.stderr, rf"^mediatagger: error: cannot load model '{model}': {problem}")
    assert state(out) == {} and state(take.parent) == inputs and state(model) == broken


@pytest.mark.slow
@case("Model and VAD", "the VAD finds no speech: digital silence",
      "exit 0; an analysis with no segments, and every export written and valid (empty subtitles, markers "
      "with no events)")
@case("Model and VAD", "the VAD finds no speech: noise only",
      "exit 0; an analysis with no segments, and every export written and valid")
def test_no_speech_at_all_is_an_honest_empty_result(tiny_model, tmp_path):
    import opentimelineio as otio
    import pysubs2

    folder = tmp_path / "in"
    folder.mkdir()
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "4", folder / "silence.wav")
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=r=48000:color=brown:amplitude=0.2:seed=7", "-t", "4",
           folder / "noise.wav")
    inputs, out = state(folder), tmp_path / "out"

    done = mediatagger("tag", folder, "--model", tiny_model, "--vad", "silero", "--export",
                       "json,ass,srt,vtt,edl,fcpxml,otio,csv", "-o", out, "-q")

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "error" not in done.stderr
    assert done.stderr.splitlines()[-1] == "mediatagger: 2 done, 0 failed, 0 skipped"
    for stem in ("silence", "noise"):
        doc = json.loads((out / f"{stem}.analysis.json").read_text())
        assert [t["segments"] for t in doc["tracks"]] == [[]], stem
        pysubs2.load(str(out / f"{stem}.ass"))
        for fmt in ("srt", "vtt"):  # no dialogue: at most the labels of events heard in the noise
            subs = pysubs2.load(str(out / f"{stem}.{fmt}"), format_=fmt)
            assert all(e.plaintext.strip().startswith("[") for e in subs), (stem, fmt)
        assert (out / f"{stem}.edl").read_text().startswith(f"TITLE: {stem}\n")
        ET.parse(out / f"{stem}.fcpxml")
        timeline = otio.adapters.read_from_file(str(out / f"{stem}.otio"))
        assert timeline.duration().to_seconds() == pytest.approx(4, abs=0.1)
        assert (out / f"{stem}.markers.csv").read_text().splitlines()[0]
    assert state(folder) == inputs
