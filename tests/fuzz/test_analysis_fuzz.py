"""Fuzzed analysis documents: ``analysis.load`` gives an Analysis every exporter can write, or one
``AnalysisError`` line naming the file and the key; never another exception, a hang or a traceback.

Documents start from real ones (the hand-written tests/data/talk.analysis.json, schema /1, and a
document the tiny model made, schema /2 with curves) and are mutated: any key's value replaced by a
wrong type, a huge or negative number, NaN or Infinity (written as JSON's ``NaN`` tokens), a deep
nesting; keys removed and added; the schema swapped; the text truncated or given bytes that are not
UTF-8. A document that loads is then exported to every text format (and its clip plan made), in
memory and through ``api.export`` into a folder.

Examples per property: ``MEDIATAGGER_FUZZ_EXAMPLES`` (default 100 in CI; the nightly job sets 5000).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediatagger import analysis, api, highlights
from mediatagger.errors import AnalysisError, MediaTaggerError
from mediatagger.exporters import EXPORTERS
from mediatagger.presets import Preset
from tests.conftest import DATA
from tests.fuzz.support import check_message, fuzz_settings, outcome, tally
from tests.reliability import case

DEEP = "\x00deep\x00"   # a value replaced by a deep nesting in the text (JSON cannot hold it as a value)
SCHEMAS = ["mediatagger.analysis/2", "mediatagger.analysis/1", "mediatagger.analysis/3", "mediatagger.analysis",
           "mediatagger.analysis/2 ", "garbage", "", 2, None, ["mediatagger.analysis/2"]]

numbers = st.one_of(
    st.sampled_from([-1, 0, 1, 59, 999, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -2**63, 10**20, -10**20,
                     10**400, 1e20, -1e20, 1e308, 5e-324, 0.5, -0.0, 1.0000001,
                     math.nan, math.inf, -math.inf]),
    st.integers(), st.floats())
texts = st.one_of(st.sampled_from(["", " ", "\n", "x" * 5000, "NaN", "1e20", "30000/1001", "0/0", "-25", "1/0",
                                   "01:00:00:00", "99:99:99:99", "00:00:00;00", "/", ".", "\0", "a\nb",
                                   "\ud800", "<|en|>", "{absolutely}", "LAUGHTER", "file:///etc/passwd"]),
                  st.text(max_size=30))
nasty = st.one_of(
    st.none(), st.booleans(), numbers, texts, st.just(DEEP),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=3))


def paths(doc: Any, here: tuple = ()) -> list[tuple]:
    """Every place in the document: (key, key, ...) from the top."""
    out = [here]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        out += paths(value, here + (key,))
    return out


def at(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


RATES = ["1", "1000", "999.99", "1/1", "7/3", "3/2", "30000/1001", "60000/1001", "24000/1001", "0.5", "1001/1000",
         "100000/1001", "2997/100", "50", "120", "1e3", " 25 ", "25.0000001"]
TIMECODES = ["00:00:00:00", "23:59:59:23", "23:59:59;29", "99:59:59:00", "01:00:00;02", "00:00:59;00",
             "00:01:00;00", "00:01:00;01", "00:00:00:999", "0:00:00:00", "00:00:00.00", "00:00:00,00"]
LABEL_TEXTS = ["LAUGHTER", "APPLAUSE", "BGM", "HAPPY", "SPEECH", "EMO_UNKNOWN", "laughter", "A\nB", "A\rB", "",
               "|C:ResolveColorRed", "<b>", "{\\b1}", "*", "x" * 999, "\u202e", "\x00", "a,b;c"]
BY_KEY: dict[str, st.SearchStrategy[Any]] = {
    "fps": st.one_of(st.sampled_from(RATES), st.none()),
    "start_timecode": st.one_of(st.sampled_from(TIMECODES), st.none()),
    "label": st.sampled_from(LABEL_TEXTS), "emotion": st.sampled_from(LABEL_TEXTS),
    "event": st.sampled_from(LABEL_TEXTS), "language": st.sampled_from(["en", "zh", "", "nospeech", "\n"]),
    "path": st.sampled_from(["/media/a b.mp4", "/media/caf\udce9.mp4", "/media/-x.mp4", "/media/a\nb.mp4",
                             "rel/x.mov", "/media/" + "x" * 250 + ".mp4", "/media/.hidden", "/media/x."]),
    "grid_ms": st.integers(-1, 70_000), "offset_ms": st.integers(-400_000_000, 400_000_000),
}


def similar(value: Any, key: Any = None) -> st.SearchStrategy[Any]:
    """A value of the same type as ``value``, often in range: documents that load reach the exporters."""
    if key in BY_KEY:
        return BY_KEY[key]
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(0, 2 * abs(value) + 10), st.integers(-5, 400_000_000))
    if isinstance(value, float):
        return st.floats(0, 1)
    if isinstance(value, str):
        return st.one_of(texts, st.just(value + value))
    return nasty


def mutate(doc: Any, data: st.DataObject) -> Any:
    """One change somewhere in ``doc`` (in place, or a new top when the top is replaced)."""
    path = data.draw(st.sampled_from(paths(doc)[::-1]), label="where")   # the top last: hypothesis favours the first
    ops = ["tweak", "set", "tweak", "drop", "set", "extra", "copy", "tweak", "schema"]
    op = data.draw(st.sampled_from(ops), label="change")
    if op == "schema" and isinstance(doc, dict):
        doc["schema"] = data.draw(st.sampled_from(SCHEMAS), label="schema")
        return doc
    if not path:
        return data.draw(nasty, label="top") if op == "set" else doc
    parent, key = at(doc, path[:-1]), path[-1]
    if op == "drop":
        del parent[key]
    elif op == "extra" and isinstance(parent, dict):
        parent[data.draw(st.text(max_size=8), label="key")] = data.draw(nasty, label="value")
    elif op == "tweak":
        parent[key] = data.draw(similar(parent[key], key), label="value")
    elif op == "copy" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
    else:
        parent[key] = data.draw(nasty, label="value")
    return doc


def to_text(doc: Any, data: st.DataObject) -> bytes:
    """The document as JSON text (NaN and Infinity as their tokens, DEEP as a deep nesting), maybe spoiled."""
    text = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=True)
    if DEEP in text or data.draw(st.booleans(), label="deep somewhere"):
        depth = data.draw(st.sampled_from([10, 990, 1100, 5000, 100_000]), label="depth")
        opener = data.draw(st.sampled_from(["[", '{"a":']), label="nest")
        closer = "]" if opener == "[" else "}"
        text = text.replace(json.dumps(DEEP), opener * depth + "1" + closer * depth)
    raw = text.encode("utf-8", "surrogatepass")
    spoil = data.draw(st.sampled_from(["none"] * 12 + ["truncate", "latin1", "bom", "bytes"]), label="spoil")
    if spoil == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw)), label="cut at")]
    elif spoil == "latin1":
        raw = raw.replace(b"talk", b"caf\xe9", 1)
    elif spoil == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif spoil == "bytes":
        spot = data.draw(st.integers(0, len(raw)), label="at")
        raw = raw[:spot] + data.draw(st.binary(min_size=1, max_size=8), label="bytes") + raw[spot:]
    return raw


def exports_of(doc: analysis.Analysis, folder: Path) -> None:
    """Every text format and the clip plan of ``doc``, in memory and written; each makes its output or
    fails with one line."""
    preset = Preset()
    for name, exporter in EXPORTERS.items():
        made = outcome(lambda exporter=exporter: exporter.to_string(doc, preset))
        assert isinstance(made, (str, MediaTaggerError)), name
    outcome(lambda: highlights.plan(doc, preset.clips))
    written = outcome(lambda: api.export(doc, folder, list(EXPORTERS), preset, force=True))
    left = sorted(p.name for p in folder.rglob("*") if ".part" in p.name or p.name.startswith((".tmp", "tmp")))
    assert not left, f"temp files left: {left}"
    if isinstance(written, MediaTaggerError):
        assert not any(p.is_file() and p.name != ".mediatagger.lock" for p in folder.rglob("*"))


def load_and_export(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in" / "doc.analysis.json"
        path.parent.mkdir()
        path.write_bytes(raw)
        got = outcome(lambda: analysis.load(path), names=path)
        assert path.read_bytes() == raw, "the reader changed its input"
        if isinstance(got, MediaTaggerError):
            assert isinstance(got, AnalysisError), f"{type(got).__name__}: {got}"
            tally("refused")
            return
        tally("loaded")
        rederived = outcome(lambda: api.load(path, Preset()), names=path)
        assert isinstance(rederived, analysis.Analysis), rederived
        exports_of(rederived, Path(tmp) / "out")


@pytest.fixture(scope="module")
def originals(request) -> dict[str, Any]:
    dev = os.environ.get("MEDIATAGGER_FUZZ_TAGGED")   # a tagged document kept from an earlier run
    made = Path(dev) if dev else request.getfixturevalue("tagged")["talk"]
    return {"hand-written": json.loads((DATA / "talk.analysis.json").read_text()),
            "tagged": json.loads(made.read_text())}


def test_the_originals_load_and_export(originals):
    for doc in originals.values():
        load_and_export(json.dumps(doc).encode())


@case("Readers", "an analysis JSON with mutated keys, types, numbers, NaN, nesting and schema",
      "a result every exporter writes, or exit 1 and `<file>: malformed analysis: <key>: <problem>`; nothing written")
@pytest.mark.slow
@fuzz_settings(share=1.5)
@given(data=st.data(), base=st.sampled_from(["hand-written", "tagged"]), changes=st.integers(1, 4))
def test_a_mutated_analysis_loads_or_is_one_line(originals, data, base, changes):
    doc = json.loads(json.dumps(originals[base]))
    for _ in range(changes):
        doc = mutate(doc, data)
    load_and_export(to_text(doc, data))


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000, '{"schema":' * 100_000, "NaN", "", "\xff\xfe", "null", "[]",
    '{"schema": "mediatagger.analysis/2", "source": ' + "[" * 50_000 + "]" * 50_000 + "}"])
def test_deep_and_empty_documents_are_one_line(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.analysis.json"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        got = outcome(lambda: analysis.load(path), names=path)
        assert isinstance(got, AnalysisError)
        check_message(got, path)
