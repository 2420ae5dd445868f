import dataclasses
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from mediatagger import presets, tags
from mediatagger.errors import PresetError, UnknownChoiceError, UsageError
from mediatagger.presets.options import rules_of

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ["default", "laughter-reel", "markers", "subtitles", "triage"]
MARKER_FORMATS = ["edl", "edl-loc", "fcpxml", "xmeml", "otio", "csv"]


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def sections() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(presets.Preset) if isinstance(f.default_factory, type)]


@pytest.mark.parametrize("name", SHIPPED)
def test_to_yaml_round_trips_and_names_every_field(tmp_path, name):
    """to_yaml is the documentation of every tunable (what default.yaml was): it names them all, with
    a doc comment each, and loads back to the same preset."""
    preset = presets.load(name)
    text = presets.to_yaml(preset)
    assert presets.load(write(tmp_path, text)) == preset
    data = yaml.safe_load(text)
    assert set(data) == {f.name for f in dataclasses.fields(presets.Preset)}
    for section in sections():
        assert set(data[section.name]) == {f.name for f in dataclasses.fields(section.default_factory)}
    assert all("  # " in line for line in text.splitlines() if line and not line.startswith(("#", "    ")))


def test_every_field_has_a_doc():
    for section in [presets.Preset, *(s.default_factory for s in sections()), presets.AssStyle]:
        assert all(rules_of(f).doc for f in dataclasses.fields(section)), section


def test_default_is_the_dataclasses():
    preset = presets.load("default")
    assert preset == presets.load() == presets.Preset()
    assert preset.clips.labels == ("LAUGHTER", "APPLAUSE")
    assert preset.edl.colors["LAUGHTER"] == "Yellow" and preset.ass.emotion_styles["HAPPY"].color == "&H0000E6FF"
    assert preset.exports == ("json", "ass", "edl", "clips") and preset.edl.kinds == ("events", "emotions")
    assert preset.scan.refine is True


def test_tables_are_not_shared_between_instances():
    assert presets.EdlOptions().colors is not presets.EdlOptions().colors


def test_shipped_lists_default_first_then_by_name_with_descriptions():
    listed = presets.shipped()
    assert list(listed) == SHIPPED
    assert all(text and "\n" not in text for text in listed.values())
    assert all(presets.load(name).description == listed[name] for name in SHIPPED[1:])


def test_laughter_reel_is_tight_laughter_clips_and_event_markers():
    preset = presets.load("laughter-reel")
    assert "reel" in preset.exports and "clips" not in preset.exports and "edl" in preset.exports
    assert preset.clips.labels == ("LAUGHTER",) and preset.edl.kinds == ("events",)
    default = presets.Preset().clips
    assert (preset.clips.pad_before_ms, preset.clips.pad_after_ms, preset.clips.merge_gap_ms) == (2500, 700, 500)
    assert preset.clips.max_clip_ms < default.max_clip_ms and preset.clips.pad_before_ms < default.pad_before_ms


def test_subtitles_is_karaoke_with_labels_and_no_media():
    preset = presets.load("subtitles")
    assert preset.ass.karaoke and preset.text.rich == "labels"
    assert {"ass", "srt", "vtt"} <= set(preset.exports) and not {"clips", "reel"} & set(preset.exports)


def test_markers_is_every_marker_format_and_no_media():
    preset = presets.load("markers")
    assert set(MARKER_FORMATS) <= set(preset.exports) and not {"clips", "reel"} & set(preset.exports)


def test_triage_is_coarse_and_cuts_nothing():
    preset = presets.load("triage")
    assert preset.scan.refine is False and not {"clips", "reel"} & set(preset.exports)
    assert preset.exports[0] == "json"


def test_partial_preset_keeps_defaults(tmp_path):
    preset = presets.load(write(tmp_path, "clips: {pad_before_ms: 2000}\n"))
    assert preset.clips.pad_before_ms == 2000 and preset.clips.pad_after_ms == 1000
    assert preset.edl.colors == presets.Preset().edl.colors


def test_a_presets_safe_zone_table_adds_a_platform_and_keeps_the_shipped_ones(tmp_path):
    preset = presets.load(write(tmp_path, "reel:\n  platform: kiosk\n  safe_zones:\n    kiosk: {top: 0.2}\n"
                                           "    tiktok: {top: 0.1, bottom: 0.2, left: 0.1, right: 0.1}\n"))
    assert preset.reel.zone() == presets.SafeZone(top=0.2)   # the keys it leaves out: Shorts' shares
    assert set(preset.reel.zones()) == {"shorts", "reels", "tiktok", "kiosk"}
    assert preset.reel.zones()["tiktok"].right == 0.1 and preset.reel.zones()["reels"].top == 0.12


def test_empty_file_is_the_defaults(tmp_path):
    assert presets.load(write(tmp_path, "# nothing\n")) == presets.Preset()


def test_unknown_key_names_file_key_and_allowed(tmp_path):
    path = write(tmp_path, "clips: {pad_befor_ms: 2000}\n")
    with pytest.raises(PresetError) as err:
        presets.load(path)
    message = str(err.value)
    assert path in message and "'clips.pad_befor_ms'" in message and "pad_before_ms" in message


def test_wrong_type_bad_colour_label_and_unreadable(tmp_path):
    with pytest.raises(PresetError, match=r"clips\.crf = 'high' must be int"):
        presets.load(write(tmp_path, "clips: {crf: high}\n"))
    with pytest.raises(PresetError, match=r"edl\.colors\.LAUGHTER = 'Orange' is not one of Blue, Cyan"):
        presets.load(write(tmp_path, "edl: {colors: {LAUGHTER: Orange}}\n"))
    with pytest.raises(PresetError, match=r"clips\.labels\[0\] = 'GIGGLES' is not one of LAUGHTER"):
        presets.load(write(tmp_path, "clips: {labels: [GIGGLES]}\n"))
    with pytest.raises(PresetError, match="cannot read preset"):
        presets.load(write(tmp_path, "clips: [unclosed\n"))
    with pytest.raises(PresetError, match="preset file not found"):
        presets.load(str(tmp_path / "absent.yaml"))


@pytest.mark.parametrize("text, says", [
    ("clips: {pad_before_ms: -5000}", "clips.pad_before_ms = -5000 must be >= 0"),
    ("spans: {on_level: 0.5, off_level: 0.8}", "spans.off_level = 0.8 is above spans.on_level (0.5)"),
    ("spans: {on_by_label: {LAUGHTER: 0.6}, off_by_label: {LAUGHTER: 0.7}}",
     "spans.off_by_label.LAUGHTER = 0.7 is above LAUGHTER's on level (0.6)"),
    ("spans: {off_by_label: {APPLAUSE: 0.6}}", "spans.off_by_label.APPLAUSE = 0.6 is above APPLAUSE's on level (0.5)"),
    ("spans: {on_level: 1.5}", "spans.on_level = 1.5 must be within [0.0, 1.0]"),
    ("spans: {on_by_label: {GIGGLES: 0.6}}", "spans.on_by_label.GIGGLES = 0.6 names 'GIGGLES', which is not one of"),
    ("model: {device: gpu}", "model.device = 'gpu' is not cpu, cuda or cuda:N"),
    ("model: {language: fr}", "model.language = 'fr' is not one of auto, zh"),
    ("clips: {crf: 99}", "clips.crf = 99 must be within [0, 51]"),
    ("clips: {min_score: -0.1}", "clips.min_score = -0.1 must be within [0.0, 1.0]"),
    ("clips: {cut: slow}", "clips.cut = 'slow' is not one of accurate, fast"),
    ("scan: {grid_ms: 0}", "scan.grid_ms = 0 must be >= 1"),
    ("vad: {silero_threshold: 2}", "vad.silero_threshold = 2.0 must be within [0.0, 1.0]"),
    ("ass: {badge_color: '#FFFF00'}", "ass.badge_color = '#FFFF00' is not an ASS colour &HAABBGGRR"),
    ("ass: {emotion_styles: {HAPPY: {color: yellow}}}", "ass.emotion_styles.HAPPY.color = 'yellow' is not an ASS"),
    ("ass: {emotion_styles: {LAUGHTER: {color: '&H00FFFFFF'}}}", "ass.emotion_styles.LAUGHTER = "),
    ("edl: {start_tc: one hour}", "edl.start_tc = 'one hour' is not HH:MM:SS:FF or 'source'"),
    ("edl: {kinds: []}", "edl.kinds = [] must name at least one of events, emotions"),
    ("edl: {kinds: [events, laughs]}", "edl.kinds[1] = 'laughs' is not one of events, emotions"),
    ("exports: [json, mp3]", "exports[1] = 'mp3' is not one of json, ass"),
    ("exports: json", "exports = 'json' must be a list"),
    ("description: \"two\\nlines\"", "description = 'two\\nlines' is not one line"),
    ("spans: {on_level: .nan}", "spans.on_level = nan must be a finite number"),
    ("clips: {min_score: .nan}", "clips.min_score = nan must be a finite number"),
    ("ass: {font: \"Arial,0,0\"}", "ass.font = 'Arial,0,0' is not a font name"),
    ("exports: []", "exports = [] must name at least one of json"),
    ("reel: {aspect: '16:10'}", "reel.aspect = '16:10' is not one of source, 9:16, 1:1, 4:5"),
    ("reel: {platform: myspace}", "reel.platform = 'myspace' names no platform of reel.safe_zones (shorts, reels, "
     "tiktok)"),
    ("reel: {safe_zones: {kiosk: {top: 0.6}}}", "reel.safe_zones.kiosk.top = 0.6 must be within [0.0, 0.45]"),
    ("reel: {safe_zones: {kiosk: {middle: 0.1}}}", "unknown key 'reel.safe_zones.kiosk.middle'"),
])
def test_bad_values_name_the_file_and_the_key_in_one_line(tmp_path, text, says):
    path = write(tmp_path, text + "\n")
    with pytest.raises(PresetError) as err:
        presets.load(path)
    assert str(err.value).startswith(f"{path}: {says}") and "\n" not in str(err.value)


def test_every_duration_has_a_range():
    """Every *_ms field is checked: never negative (the ones that step or cut: above zero)."""
    for section in sections():
        for f in dataclasses.fields(section.default_factory):
            if f.name.endswith("_ms"):
                assert rules_of(f).min is not None and rules_of(f).min >= 0, f"{section.name}.{f.name}"


@pytest.mark.parametrize("flag, value, says", [
    ("device", "gpu", "command line: model.device = 'gpu' is not cpu, cuda or cuda:N"),
    ("batch_seconds", 0, "command line: model.batch_seconds = 0 must be >= 1"),
    ("language", "fr", "command line: model.language = 'fr' is not one of"),
])
def test_override_checks_the_result(flag, value, says):
    with pytest.raises(PresetError) as err:
        presets.override(presets.load(), "model", **{flag: value})
    assert str(err.value).startswith(says)


def test_override_names_its_source_and_unknown_keys():
    with pytest.raises(PresetError, match=r"^--crf: clips\.crf = 99"):
        presets.override(presets.load(), "clips", source="--crf", crf=99)
    with pytest.raises(PresetError, match=r"unknown key 'clips\.speed'"):
        presets.override(presets.load(), "clips", speed=2)


def test_override_replaces_only_given_fields():
    preset = presets.override(presets.load(), "model", name="/models/sv", vad=None)
    assert preset.model.name == "/models/sv" and preset.model.vad == "fsmn"
    assert presets.override(preset, "clips", crf=None) is preset


def test_override_gives_values_their_shape():
    preset = presets.override(presets.load(), "clips", labels=["LAUGHTER"], min_score=1)
    assert preset.clips.labels == ("LAUGHTER",) and preset.clips.min_score == 1.0
    assert isinstance(preset.clips.min_score, float)


def test_choices():
    assert presets.choices("clips", "cut") == ("accurate", "fast")
    assert presets.choices("clips", "burn") == presets.BURN_CHOICES == ("none", "badges", "all")
    assert presets.choices("clips", "order") == ("time", "score")
    assert presets.choices("clips", "labels")[:len(tags.EVENTS)] == tags.EVENTS  # then AudioSet classes
    assert "DOG" in presets.choices("clips", "labels")
    assert presets.choices("text", "rich") == tags.RICH_FORMS
    assert presets.choices("text", "label_lang") == ("en", "zh")
    assert presets.choices("model", "language") == tags.LANGUAGES
    assert presets.choices("edl", "kinds") == ("events", "emotions")
    assert presets.choices("edl", "default_color") == presets.RESOLVE_COLORS
    with pytest.raises(UnknownChoiceError, match=r"'clips\.crf' \(choose from: .*clips\.cut"):
        presets.choices("clips", "crf")


def test_unknown_shipped_name_lists_choices():
    with pytest.raises(UnknownChoiceError, match="choose from: default, laughter-reel, markers, subtitles, triage"):
        presets.load("nonesuch")


def test_check_start_tc():
    assert presets.check_start_tc("source") == "source" and presets.check_start_tc("01:00:00;00") == "01:00:00;00"
    with pytest.raises(UsageError, match="'1h' is not HH:MM:SS:FF or 'source'"):
        presets.check_start_tc("1h")


EXAMPLES = sorted((REPO / "presets").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_presets_load(path):
    assert presets.load(str(path)).description


def test_strict_example_is_stricter():
    strict, default = presets.load(str(REPO / "presets" / "strict.yaml")), presets.Preset()
    assert strict.spans.on_level > default.spans.on_level
    assert strict.spans.thresholds("LAUGHTER")[0] > strict.spans.on_level
    assert strict.spans.min_duration_ms > default.spans.min_duration_ms


def test_presets_are_read_as_package_resources():
    """Regression: presets were found beside the checkout (``Path(__file__)``), so a wheel had none."""
    package = REPO / "mediatagger" / "presets"
    assert not [p for p in package.glob("*.py") if "__file__" in p.read_text()]
    assert not list((REPO / "presets").glob("default.yaml"))


@pytest.mark.slow
def test_presets_load_from_an_installed_wheel(tmp_path):
    """Regression: a non-editable install had no presets (``unknown preset 'default' (choose from: )``)."""
    source = tmp_path / "src"
    shutil.copytree(REPO / "mediatagger", source / "mediatagger", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source),
                    "-w", str(tmp_path / "dist")], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert {f"mediatagger/presets/{name}.yaml" for name in SHIPPED[1:]} <= set(zipfile.ZipFile(wheel).namelist())
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    script = ("import mediatagger; from mediatagger import presets; print(mediatagger.__file__); "
              "print(','.join(presets.shipped())); [presets.load(n) for n in presets.shipped()]")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]])}
    run = subprocess.run([sys.executable, "-S", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    where, names = run.stdout.split()
    assert Path(where).is_relative_to(installed) and names.split(",") == SHIPPED


def test_an_unknown_preset_says_a_yaml_path_works_and_names_the_one_nearby(monkeypatch, tmp_path):
    """``--preset strict`` in the repository: the shipped names, then that a YAML path works, naming
    presets/strict.yaml, which is there; elsewhere the hint stays general."""
    monkeypatch.chdir(REPO)
    with pytest.raises(UnknownChoiceError) as near:
        presets.load("strict")
    assert str(near.value).startswith("unknown preset 'strict' (choose from: default, laughter-reel")
    assert str(near.value).endswith("; or a YAML file's path, e.g. presets/strict.yaml)")
    assert presets.load("presets/strict.yaml") != presets.load()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownChoiceError, match=r"; or a YAML file's path\)$"):
        presets.load("strict")
