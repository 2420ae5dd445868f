import dataclasses
from pathlib import Path

import pytest
import yaml

from mediatagger import presets
from mediatagger.errors import PresetError, UnknownChoiceError


def test_default_yaml_sets_every_field():
    """presets/default.yaml is the documentation of every tunable: it must name them all."""
    data = yaml.safe_load((presets.PRESET_DIR / "default.yaml").read_text())
    for section in dataclasses.fields(presets.Preset):
        names = {f.name for f in dataclasses.fields(section.default_factory)}  # type: ignore[arg-type]
        assert set(data[section.name]) == names, section.name


def test_load_default_by_name_and_path():
    by_name = presets.load("default")
    assert by_name == presets.load(str(presets.PRESET_DIR / "default.yaml"))
    assert by_name.clips.labels == ("LAUGHTER", "APPLAUSE")
    assert by_name.edl.colors["LAUGHTER"] == "Yellow"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return str(path)


def test_partial_preset_keeps_defaults(tmp_path):
    preset = presets.load(write(tmp_path, "clips: {pad_before_ms: 2000}\n"))
    assert preset.clips.pad_before_ms == 2000 and preset.clips.pad_after_ms == 1000


def test_unknown_key_names_file_key_and_allowed(tmp_path):
    path = write(tmp_path, "clips: {pad_befor_ms: 2000}\n")
    with pytest.raises(PresetError) as err:
        presets.load(path)
    message = str(err.value)
    assert path in message and "'clips.pad_befor_ms'" in message and "pad_before_ms" in message


def test_wrong_type_and_bad_colour(tmp_path):
    with pytest.raises(PresetError, match="clips.crf must be int"):
        presets.load(write(tmp_path, "clips: {crf: high}\n"))
    with pytest.raises(PresetError, match="Orange.*not one of Resolve's"):
        presets.load(write(tmp_path, "edl: {colors: {LAUGHTER: Orange}}\n"))
    with pytest.raises(PresetError, match="unknown label 'GIGGLE'"):
        presets.load(write(tmp_path, "clips: {labels: [GIGGLE]}\n"))
    with pytest.raises(PresetError, match="cannot read preset"):
        presets.load(write(tmp_path, "clips: [unclosed\n"))


def test_unknown_shipped_name_lists_choices():
    with pytest.raises(UnknownChoiceError, match="choose from: default"):
        presets.load("nonesuch")


def test_override_replaces_only_given_fields():
    preset = presets.override(presets.load(), "model", name="/models/sv", vad=None)
    assert preset.model.name == "/models/sv" and preset.model.vad == "fsmn"
