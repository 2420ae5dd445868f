"""The public Python API, in process: the README's example, the pipeline through a Tagger with the real
tiny model and real silero-vad, progress, and what importing the light modules brings in."""

import json
import re
import subprocess
import sys

import pytest

import mediatagger
from mediatagger import api, presets
from mediatagger.errors import MediaTaggerError, OutputExistsError
from tests.conftest import REPO, TALK, ffprobe, load_fixed

slow = pytest.mark.slow


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_api_example_runs(tmp_path, monkeypatch):
    for name in ("samples", "presets"):
        (tmp_path / name).symlink_to(REPO / name)
    monkeypatch.chdir(tmp_path)
    seen: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), seen)
    result, laughs = seen["result"], seen["laughs"]
    assert laughs and all(s.label == "LAUGHTER" for s in laughs)
    assert [w.path.name for w in seen["written"]] == ["talk.analysis.json", "talk.edl", "talk.fcpxml", "talk.ass"]
    assert seen["ass_text"] == (tmp_path / "out/talk.ass").read_text()
    assert api.to_string(seen["again"], "json") == api.to_string(result, "json")
    strict = presets.load("presets/strict.yaml")
    assert all(s.score >= strict.spans.thresholds(s.label)[0] for s in seen["strict"].spans("events"))
    assert ffprobe(tmp_path / "out/talk.subtitled.mp4")["video"] is not None
    season = seen["season"]
    assert (season.line(), season.exit_code) == ("2 done, 0 failed, 0 skipped", 0)
    assert {o.item.source.name: o.state for o in season.outcomes} == {"talk.mp4": "done", "two_tracks.mov": "done"}
    assert {p.name for p in season.summary} == {"summary.csv", "summary.html"}
    again = mediatagger.tag_folder(["samples"], "out/season", seen["tagger"], exports=["json", "edl"])
    assert (again.line(), again.exit_code) == ("0 done, 0 failed, 2 skipped", 0)
    live = seen["live"]
    assert (live.ending, live.complete) == ("finished", True)
    assert api.to_string(live.analysis, "edl") == (tmp_path / "out/live/talk.edl").read_text()
    assert (tmp_path / "out/live/talk.live.jsonl").read_text().splitlines()[-1].startswith('{"ended": "finished"')


def test_every_public_name_is_documented():
    assert set(mediatagger.__all__) >= {"Tagger", "Analysis", "export", "load", "to_string", "burn", "Progress"}
    for name in mediatagger.__all__:
        assert (getattr(mediatagger, name).__doc__ or "").strip(), name


def imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return set(done.stdout.split())


def test_the_document_and_the_clip_planner_do_not_import_the_pipeline():
    loaded = imported_after("import mediatagger.analysis, mediatagger.highlights\n"
                            "mediatagger.analysis.load('tests/data/talk.analysis.json')")
    assert not loaded & {"mediatagger.pipeline", "mediatagger.api", "mediatagger.vad", "mediatagger.model",
                         "torch", "funasr"}


def test_importing_mediatagger_is_light():
    assert not imported_after("import mediatagger") & {"mediatagger.api", "numpy", "torch", "funasr"}
    assert not imported_after("import mediatagger; mediatagger.Tagger") & {"torch", "funasr"}


def test_text_formats_give_strings_without_files(tmp_path):
    doc = load_fixed()
    assert re.match(r"1\n00:00:00,\d{3} --> ", api.to_string(doc, "srt"))
    written = api.export(doc, tmp_path, ["srt", "vtt"])
    assert [(w.path.name, w.kept) for w in written] == [("talk.srt", False), ("talk.vtt", False)]
    assert (tmp_path / "talk.srt").read_text() == api.to_string(doc, "srt")
    again = api.export(doc, tmp_path, "srt,vtt")
    assert all(w.kept for w in again)


def test_nothing_is_written_when_one_format_cannot_be_made(tmp_path):
    """Every text output is made before any is written: a start timecode that does not fit 29.97 fails first."""
    preset = presets.override(presets.Preset(), "edl", start_tc="01:00:00:30")
    doc = load_fixed()
    with pytest.raises(Exception, match="start timecode"):
        api.export(doc, tmp_path / "out", ["ass", "srt", "edl"], preset)
    assert not (tmp_path / "out").exists()


def test_a_changed_output_is_refused_and_kept(tmp_path):
    doc = load_fixed()
    api.export(doc, tmp_path, ["edl"])
    before = (tmp_path / "talk.edl").read_text()
    other = presets.override(presets.Preset(), "edl", start_tc="00:00:00:00")
    with pytest.raises(OutputExistsError) as refused:
        api.export(doc, tmp_path, ["ass", "edl"], other)
    assert refused.value.path == tmp_path / "talk.edl" and "would change" in str(refused.value)
    assert (tmp_path / "talk.edl").read_text() == before and not (tmp_path / "talk.ass").exists()
    (written,) = api.export(doc, tmp_path, ["edl"], other, force=True)
    assert not written.kept and (tmp_path / "talk.edl").read_text() != before


@pytest.fixture(scope="module")
def tagger(tiny_model):
    return api.Tagger(model=str(tiny_model), vad="silero")


@slow
def test_tagger_in_process_loads_once_and_reports_every_stage_to_100(tagger, tmp_path):
    events = []
    result = tagger.tag(TALK, progress=events.append)
    models = tagger.models()
    assert tagger.tag(TALK, tracks=[0]).cache_key == result.cache_key and tagger.models() is models
    assert [s.label for s in result.spans("events")] == ["LAUGHTER", "APPLAUSE", "BGM"]
    assert [s.label for s in result.spans("emotions")] == ["HAPPY", "NEUTRAL", "HAPPY"]
    written = api.export(result, tmp_path, ["json", "reel"], presets.override(
        presets.Preset(), "clips", x264_preset="ultrafast"), progress=events.append)
    assert {w.path.name for w in written} >= {"talk.reel.mp4", "talk.clips.json"}
    api.burn(TALK, tmp_path / "burned.mp4", result=result, progress=events.append)
    last = {e.stage: e for e in events}
    assert set(last) == {"load models", "tag track 0", "cut clips", "join reel", "burn"}
    assert last["tag track 0"].unit == "s" and last["tag track 0"].total == 20.0   # media seconds heard
    heard = [e.done for e in events if e.stage == "tag track 0"]
    assert heard == sorted(heard) and len(set(heard)) >= 10   # a track is heard as it is decoded, a block at a time
    for event in last.values():
        assert event.done == event.total and event.fraction == 1.0, event
    middle = [e for e in events if e.stage == "burn" and 0 < e.fraction < 1]
    assert middle, "burn reports ffmpeg's progress on the way"


@slow
def test_a_preset_shapes_the_pipeline_and_the_outputs(tagger, tmp_path):
    triage = tagger.variant("triage")  # the same loaded models: this test is about the preset
    written = triage.run(TALK, tmp_path)
    assert [w.path.name for w in written] == ["talk.analysis.json", "talk.edl", "talk.markers.csv"]
    doc = json.loads((tmp_path / "talk.analysis.json").read_text())
    assert doc["settings"]["scan"]["refine"] is False


@slow
def test_a_variant_shares_the_loaded_models(tagger, tiny_model):
    """The web console serves every visitor from one SenseVoice: a variant changes the language,
    ITN or preset, never the model, and loads nothing of its own."""
    fresh = api.Tagger(model=str(tiny_model), vad="silero")
    chinese = fresh.variant("triage", language="zh", itn=False)
    assert (chinese.preset.model.language, chinese.preset.model.itn) == ("zh", False)
    assert chinese.preset.scan.refine is False and fresh.preset.scan.refine is True  # triage's, not the base's
    assert chinese.preset.model.name == fresh.preset.model.name and chinese.preset.model.vad == "silero"
    assert fresh.preset.model.language == "auto" and not chinese.loaded
    models = chinese.models()
    assert fresh.loaded and fresh.models() is models
    assert chinese.tag(TALK).model.language == "zh"


@slow
def test_run_reuses_an_analysis_without_loading_the_model(tagger, tmp_path):
    """The rerun path in process: the same bytes and settings reuse the stored analysis, so a new
    tagger writes the missing export and keeps the rest without ever loading its models."""
    first = tagger.run(TALK, tmp_path, ["json", "edl"])
    assert [w.kept for w in first] == [False, False]
    offline = api.Tagger(model=tagger.preset.model.name, vad="silero")
    again = offline.run(TALK, tmp_path, ["json", "edl", "srt"])
    assert [(w.path.name, w.kept) for w in again] == [("talk.analysis.json", True), ("talk.edl", True),
                                                     ("talk.srt", False)]
    assert not offline.loaded


def test_clip_files_get_the_umask_mode(tmp_path):
    from mediatagger import files

    preset = presets.override(presets.Preset(), "clips", labels=("LAUGHTER",), x264_preset="ultrafast",
                              pad_before_ms=0, pad_after_ms=0, min_clip_ms=500)
    written = api.export(load_fixed(), tmp_path, ["reel"], preset)
    assert len(written) == 3
    assert {w.path.stat().st_mode & 0o777 for w in written} == {0o666 & ~files.umask()}


def test_every_text_format_is_kept_on_an_identical_rerun(tmp_path):
    """Regression: the CSV's CRLF row ends read back as LF made every rerun with csv refuse."""
    doc = load_fixed()
    names = [n for n in api.formats() if n not in ("clips", "reel", "chapters")]   # 20 s: too short for chapters
    api.export(doc, tmp_path, names)
    assert all(w.kept for w in api.export(doc, tmp_path, names))


def test_the_cache_key_names_a_model_folder_by_its_full_path(tiny_model, monkeypatch):
    from mediatagger import pipeline

    monkeypatch.chdir(REPO)
    keys = {pipeline.cache_key(TALK, presets.override(presets.Preset(), "model", name=name, batch_seconds=batch,
                                                      device="cpu"), [0])
            for name, batch in ((str(tiny_model), 60), ("samples/model", 30), ("./samples/model", 60))}
    assert len(keys) == 1


def fast_clips(**changes) -> presets.Preset:
    return presets.override(presets.Preset(), "clips", x264_preset="ultrafast", pad_before_ms=500, pad_after_ms=500,
                            min_clip_ms=1000, **{"labels": ("LAUGHTER", "APPLAUSE"), **changes})


@slow
def test_a_reel_finishes_a_clips_run_and_a_clips_run_keeps_the_reel(tmp_path):
    doc = load_fixed()
    first = api.export(doc, tmp_path, ["clips"], fast_clips())
    stamps = {w.path: w.path.stat().st_mtime_ns for w in first[:-1]}
    reel = api.export(doc, tmp_path, ["reel"], fast_clips())
    assert [w.kept for w in reel] == [True, True, False, False] and reel[2].path.name == "talk.reel.mp4"
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in stamps.items())
    again = api.export(doc, tmp_path, ["clips"], fast_clips())
    assert all(w.kept for w in again) and (tmp_path / "talk.reel.mp4").is_file()


@slow
def test_a_changed_score_is_another_clips_job(tmp_path):
    """The fingerprint covers what the plan and the files say (spans, scores), not only the clip bounds."""
    import dataclasses

    doc = load_fixed()
    api.export(doc, tmp_path, ["clips"], fast_clips())
    track = doc.tracks[0]
    rescored = dataclasses.replace(doc, tracks=(dataclasses.replace(track, events=tuple(
        dataclasses.replace(s, score=0.55) for s in track.events)),))
    with pytest.raises(OutputExistsError, match="another clips run"):
        api.export(rescored, tmp_path, ["clips"], fast_clips())
    plan = json.loads((tmp_path / "talk.clips.json").read_text())
    assert plan["clips"][0]["spans"][0]["score"] == 0.93


@slow
def test_a_forced_clip_run_that_fails_keeps_the_earlier_clips(tmp_path):
    import dataclasses

    doc = load_fixed()
    api.export(doc, tmp_path, ["clips"], fast_clips())
    old = sorted((tmp_path / "clips").glob("talk_*.mp4"))
    assert [p.name for p in old] == ["talk_01_laughter.mp4", "talk_02_applause.mp4"]
    broken = tmp_path / "talk.mp4"
    broken.write_text("not a video any more")
    moved = dataclasses.replace(doc, source=dataclasses.replace(doc.source, path=str(broken)))
    with pytest.raises(MediaTaggerError) as failed:
        api.export(moved, tmp_path, ["clips"], fast_clips(labels=("APPLAUSE",)), force=True)
    assert "cannot cut talk_01_applause.mp4" in str(failed.value) and ".part" not in str(failed.value)
    assert all(p.is_file() for p in old) and not list((tmp_path / "clips").glob(".*"))
    gone = dataclasses.replace(doc, source=dataclasses.replace(doc.source, path=str(tmp_path / "gone.mp4")))
    with pytest.raises(MediaTaggerError, match="gone.mp4: no such file"):
        api.export(gone, tmp_path / "other", ["edl", "clips"], fast_clips())
    assert not (tmp_path / "other").exists()  # checked before anything was written


def test_rich_text_is_the_subtitles_text_a_line_per_segment():
    result = load_fixed()
    labels = api.rich_text(result)
    lines = labels.split("\n")
    assert len(lines) == len(result.segments()) and lines[0].startswith("[")
    chinese = api.rich_text(result, "labels", "zh")
    assert "[笑声]" in chinese or "[开心]" in chinese
    assert "<|" in api.rich_text(result, "raw") and "<span" in api.rich_text(result, "html")
    with pytest.raises(MediaTaggerError, match="rich"):
        api.rich_text(result, "bold")
