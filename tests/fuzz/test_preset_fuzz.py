"""Fuzzed presets: ``presets.load(FILE)`` gives a Preset every exporter and the clip planner can use,
or one ``PresetError`` line naming the file and the key; never another exception, a hang, a traceback
or code run from the file.

Files are the shipped default (``to_yaml``) with keys retyped, pushed out of range (huge, negative,
``.inf``, ``.nan``), dropped and added; the top made a list or a scalar; and YAML's own tricks:
anchors and aliases (a billion-laughs alias bomb among them), ``!!python/...`` tags that would run
code under an unsafe loader, ``!!binary``, ``!!set``, dates, complex keys, merge keys, deep nesting and
integers of thousands of digits.

Examples per property: ``MEDIATAGGER_FUZZ_EXAMPLES`` (default 100 in CI; the nightly job sets 5000).
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mediatagger import analysis, highlights, presets
from mediatagger.errors import PresetError
from mediatagger.exporters import EXPORTERS
from tests.conftest import load_fixed
from tests.fuzz.support import fuzz_settings, outcome, tally
from tests.reliability import case

DEFAULTS: dict[str, Any] = yaml.safe_load(presets.to_yaml(presets.Preset()))
CANARY = Path(tempfile.gettempdir()) / "mediatagger-fuzz-canary"   # a python/ tag that ran would make it

values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(),
    st.sampled_from([-1, 0, 1, 2**63, 10**30, -10**30, 1e300, -1e300, math.inf, -math.inf, math.nan, 0.5, 1.0,
                     "", "x" * 10_000, "a\nb", "LAUGHTER", "json,ass", "cuda:99999999999999999999", "&HFFFFFFFF",
                     "99:99:99:99", "source", "1e400", [], {}, [None], ["LAUGHTER"] * 50, {"LAUGHTER": 2.0},
                     {"NOPE": 0.5}, {"LAUGHTER": None}]),
    st.text(max_size=20), st.lists(st.text(max_size=10), max_size=4),
    st.dictionaries(st.text(max_size=10), st.floats(-2, 2), max_size=3)).map(copy.deepcopy)  # not the shared sample

TRICKS = [
    # a billion laughs: nine levels of nine aliases, 387 million strings if expanded
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
    # the same bomb under keys that exist, so it reaches the checks
    "x: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"x{n}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8)),
    # the bomb as the whole file (not a mapping: the message shows a glimpse of it) and as a table's value
    "- &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"- &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8)),
    "spans:\n  on_by_label:\n    a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"    {chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8)),
    "spans:\n  on_by_label:\n    LAUGHTER: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"    {chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8)),
    "exports: &a [[x, x, x, x, x, x, x, x, x]]\nclips: {labels: [*a, *a, *a, *a, *a, *a, *a, *a, *a]}\n",
    "spans: &s\n  on_level: 0.6\nclips: *s\n",
    "base: &b {on_level: 0.6}\nspans:\n  <<: *b\n",
    "spans:\n  <<: {on_level: 0.6}\n",
    "spans: &s {on_by_label: *s}\n",
    f"description: !!python/object/apply:os.system ['touch {CANARY}']\n",
    f"!!python/object/apply:os.system ['touch {CANARY}']\n",
    "description: !!python/name:os.system\n",
    "description: !!python/object:pathlib.Path {}\n",
    "exports: !!set {json: null}\n",
    "description: !!binary aGVsbG8=\n",
    "description: 2001-12-14\n",
    "description: !custom x\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "1: 2\n",
    "null: 2\n",
    "spans:\n  on_level: 0.5\n  on_level: 0.6\n",
    "[" * 100_000 + "]" * 100_000 + "\n",
    "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "- " * 5_000 + "x\n",
    "spans:\n  pad_ms: " + "9" * 5_000 + "\n",
    "spans:\n  pad_ms: 0x" + "f" * 5_000 + "\n",
    "spans:\n  on_level: 0x" + "f" * 5_000 + "\n",
    "spans:\n  on_by_label: {0x" + "f" * 5_000 + ": 0.5}\n",
    "spans:\n  on_by_label: {" + "L" * 5_000 + ": 0.5}\n",
    "spans:\n  " + "k" * 5_000 + ": 1\n",
    "spans:\n  on_level: .inf\n",
    "spans:\n  on_level: .nan\n",
    "spans:\n  pad_ms: 1_000_000_000_000\n",
    "spans:\n  pad_ms: 0b1\n",
    "spans:\n  pad_ms: 1:30\n",
    "%YAML 1.1\n---\na: 1\n...\n---\nb: 2\n",
    "\ufeffdescription: x\n",
    "description: \"\\ud800\"\n",
    "\x00",
    "\t\tdescription: x\n",
    "- 1\n- 2\n",
    "just text\n",
    "42\n",
    "",
    "&a a: *a\n",
    "*unknown\n",
]


def mutate(doc: dict[str, Any], data: st.DataObject) -> Any:
    section = data.draw(st.sampled_from(sorted(doc)), label="section")
    op = data.draw(st.sampled_from(["set", "set", "drop", "unknown", "top"]), label="change")
    inner = doc[section]
    if op == "top":
        return data.draw(st.one_of(values, st.lists(values, max_size=3)), label="top")
    if op == "unknown":
        (inner if isinstance(inner, dict) else doc)[data.draw(st.text(max_size=8), label="key")] = \
            data.draw(values, label="value")
    elif isinstance(inner, dict) and inner and op == "set":
        inner[data.draw(st.sampled_from(sorted(inner)), label="key")] = data.draw(values, label="value")
    elif op == "set":
        doc[section] = data.draw(values, label="value")
    else:
        del doc[section]
    return doc


@st.composite
def preset_texts(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4), label="trick?") == 0:
        return draw(st.sampled_from(TRICKS), label="trick")
    doc: Any = json.loads(json.dumps(DEFAULTS))
    for _ in range(draw(st.integers(1, 3), label="changes")):
        doc = mutate(doc, draw(st.data())) if isinstance(doc, dict) and doc else doc
    return yaml.safe_dump(doc, allow_unicode=True)


def usable(preset: presets.Preset, doc: analysis.Analysis) -> None:
    """What a loaded preset is used for: every text format of an analysis, its spans re-derived from
    curves, and its clip plan; each works or fails with one line."""
    for exporter in EXPORTERS.values():
        outcome(lambda exporter=exporter: exporter.to_string(doc, preset))
    outcome(lambda: highlights.plan(doc, preset.clips))
    outcome(lambda: analysis.rederive(doc, preset.spans))


def read_preset(text: str, doc: analysis.Analysis) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        before = path.read_bytes()
        got = outcome(lambda: presets.load(str(path)), names=path)
        assert path.read_bytes() == before
        assert not CANARY.exists(), "a tag in the preset ran code"
        if isinstance(got, presets.Preset):
            tally("loaded")
            usable(got, doc)
        else:
            tally("refused")
            assert isinstance(got, PresetError), f"{type(got).__name__}: {got}"


@pytest.fixture(scope="module")
def fixed() -> analysis.Analysis:
    return load_fixed()


@case("Readers", "a preset YAML with wrong types, huge values, unknown keys, anchors, tags and nesting",
      "a preset every exporter can use, or exit 2 and `<file>: <section>.<key> = <value> <why>`")
@fuzz_settings(share=1.0)
@given(text=preset_texts())
def test_a_fuzzed_preset_loads_or_is_one_line(fixed, text):
    read_preset(text, fixed)


@case("Readers", "a preset YAML trick: alias bomb, python tags, deep nesting, 5000-digit numbers",
      "exit 2 and `<file>: ...` at once, nothing expanded, no code run")
@pytest.mark.parametrize("trick", range(len(TRICKS)))
def test_each_yaml_trick_is_refused_or_bounded(fixed, trick):
    read_preset(TRICKS[trick], fixed)
