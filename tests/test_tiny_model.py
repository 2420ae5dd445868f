"""samples/tiny_sensevoice.py rebuilds a model folder that loads like a downloaded SenseVoiceSmall."""

import os

import pytest

from mediatagger import model
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow


def test_rebuilt_folder_loads_from_another_working_directory(tmp_path, monkeypatch):
    from samples import tiny_sensevoice

    folder = tiny_sensevoice.build(tmp_path / "fresh", clips=12, steps=3, speech=False)
    assert {p.name for p in folder.iterdir()} == \
        {"am.mvn", "config.yaml", "configuration.json", "model.pt", "tiny.bpe.model"}
    monkeypatch.chdir(tmp_path.parent)  # relative names resolve through configuration.json
    sv = model.load_sensevoice(os.path.relpath(folder))
    assert type(sv.auto.model).__name__ == "SenseVoiceSmall"


def test_committed_model_is_small_and_complete():
    folder = SAMPLES / "model"
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5 * 1024 * 1024
    assert (folder / "configuration.json").is_file() and (folder / "model.pt").is_file()
