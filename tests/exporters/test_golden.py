"""A golden file per export format, all from one fixed analysis document (tests/data/talk.analysis.json;
chapters, which a 20 s video cannot have, from it played nine times in a row: show.chapters.txt).

After a deliberate change of output, rewrite them with ``MEDIATAGGER_REGOLD=1 python -m pytest
tests/exporters/test_golden.py`` and review the diff.
"""

import os

import pytest

from mediatagger import analysis, files, presets
from mediatagger.exporters import EXPORTERS
from tests.conftest import DATA, repeated

TEXT_FORMATS = [name for name in EXPORTERS if name != "json"]


def write(name, doc, out_dir):
    exporter = EXPORTERS[name]
    return files.write_text(exporter.path(out_dir, doc.stem), exporter.to_string(doc, presets.load()))


@pytest.mark.parametrize("name", TEXT_FORMATS)
def test_golden_file(name, tmp_path):
    doc = analysis.load(DATA / "talk.analysis.json")
    if name == "chapters":
        doc = repeated(doc, 9)
    written = write(name, doc, tmp_path)
    golden = DATA / written.name
    if os.environ.get("MEDIATAGGER_REGOLD"):
        golden.write_bytes(written.read_bytes())
    assert written.read_bytes() == golden.read_bytes(), f"{name} output differs from {golden}"


def test_json_export_round_trips_the_document(tmp_path):
    doc = analysis.load(DATA / "talk.analysis.json")
    written = write("json", doc, tmp_path)
    assert analysis.load(written) == doc
