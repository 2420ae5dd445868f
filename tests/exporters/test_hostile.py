"""Hostile labels and transcripts cannot break any format (hypothesis).

Labels and text mix ``|``, line breaks, ``<``, ``&``, quotes, braces, backslashes, ``-->``, control
characters, right-to-left and CJK text. Every output is read back by its consumer: nothing is
split, lost or invented, and the visible characters survive (up to each format's documented
replacements). Whitespace and control characters may be collapsed, so the comparison ignores them.
"""

import csv
import io
import re
import unicodedata

import pysubs2
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mediatagger import analysis, presets
from mediatagger.exporters import ass, edl, edl_loc, fcpxml, otio, srt, vtt, xmeml
from mediatagger.exporters import csv as csv_export
from mediatagger.exporters.text import FORMULA_STARTS, PLAIN_NUMBER, cell, one_line
from mediatagger.tags import label_name
from tests import readers
from tests.conftest import load_fixed

PIECES = ["|", "\n", "\r\n", "\n\n", "<", ">", "&", '"', "'", "{", "}", "\\", "\\N", "-->", "]]>", "\t", "\x00",
          "\x1b", "\u2028", "\u202e", "مرحبا", "שלום", "你好", "笑声", "|C:ResolveColorRed", " |M:x |D:9", "* LOC:",
          "&amp;", "<b>", "{\\b1}", "é", "🎉", " ", "=1+2", "@SUM(1,1)", "+", "-", "=HYPERLINK(\"http://x\")"]
HOSTILE = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), min_size=1, max_size=10).map("".join)


def visible(text: str) -> str:
    """The characters a reader must keep: everything but whitespace and control/format characters."""
    return "".join(c for c in text if unicodedata.category(c)[0] not in "CZ")


def document(label: str, text: str) -> analysis.Analysis:
    doc = analysis.to_dict(load_fixed())
    track = doc["tracks"][0]
    track["segments"] = [{**track["segments"][0], "text": text}]           # 500-2700 ms
    track["events"] = [{"start_ms": 1000, "end_ms": 2000, "label": label, "score": 0.5, "track": 0}]
    track["emotions"] = []
    return analysis.from_dict(doc)


CASES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CASES
@given(HOSTILE, HOSTILE)
def test_marker_formats_keep_hostile_names_and_notes(label, text):
    name = label_name(label)   # what every marker is named
    assume(visible(name))
    doc, preset = document(label, text), presets.load()
    note = visible(text) + "—score0.50" if visible(text) else "score0.50"

    _, (event,) = readers.resolve_edl(edl.to_string(doc, preset))
    assert visible(event.name) == visible(name).replace("|", "¦")
    assert visible(event.note) == note.replace("|", "¦")

    (loc,) = readers.locator_edl(edl_loc.to_string(doc, preset), doc.source.fps)
    assert visible(loc.name) == visible(name) + "—" + note and loc.frame == 29

    for read in (readers.fcpxml(fcpxml.to_string(doc, preset)), readers.xmeml(xmeml.to_string(doc, preset)),
                 readers.otio_json(otio.to_string(doc, preset))):
        (marker,) = read
        assert (visible(marker.name), visible(marker.note), marker.frame) == (visible(name), note, 29)
        assert "\n" not in marker.name + marker.note

    (row,) = csv.DictReader(io.StringIO(csv_export.to_string(doc, preset), newline=""))
    assert row["label"] == cell(one_line(name)) and visible(row["text"]) == visible(str(cell(one_line(text))))
    for value in row.values():   # no cell a spreadsheet would read as a formula
        assert PLAIN_NUMBER.fullmatch(value) or not value.lstrip().startswith(FORMULA_STARTS[:4]) \
            and not value.startswith(FORMULA_STARTS), value


@CASES
@given(HOSTILE, HOSTILE)
def test_subtitle_formats_keep_hostile_cues_whole(label, text):
    doc, preset = document(label, text), presets.load()
    cues = 1 + (1 if visible(text) else 0)  # the event cue, and the transcript when it shows anything

    for fmt, module in (("srt", srt), ("vtt", vtt)):
        subs = pysubs2.SSAFile.from_string(module.to_string(doc, preset), format_=fmt)
        assert len(subs) == cues, fmt

    vtt_text = vtt.to_string(doc, preset)
    for block in vtt_text.split("\n\n")[1:]:
        body = "\n".join(block.splitlines()[1:])
        assert "-->" not in body and "<" not in body and not re.search(r"&(?!amp;|lt;|gt;)", body)

    subs = pysubs2.SSAFile.from_string(ass.to_string(doc, preset))
    assert len(subs) == cues
    for event in subs:
        override_free = event.text.split("}", 1)[1] if event.style == "Badge" else event.text
        assert not re.search(r"(?<!\\)[{}]", override_free), event.text  # braces only as \{ \}
        assert "\n" not in event.text


# Regressions the properties above found, pinned by name


def test_regression_nul_only_transcript_made_a_blank_cue():
    doc = document("LAUGHTER", "\x00")
    for fmt, module in (("srt", srt), ("vtt", vtt)):
        assert len(pysubs2.SSAFile.from_string(module.to_string(doc, presets.load()), format_=fmt)) == 1


def test_regression_line_break_only_transcript_made_an_empty_ass_event():
    subs = pysubs2.SSAFile.from_string(ass.to_string(document("LAUGHTER", "\n \r\n"), presets.load()))
    assert [e.style for e in subs] == ["Badge"]


def test_regression_carriage_return_in_a_label_split_a_csv_row():
    text = csv_export.to_string(document("0\r", "|"), presets.load())
    (row,) = csv.DictReader(io.StringIO(text, newline=""))
    assert row["name"] == row["label"] == "0" and row["text"] == "|"   # names are one line


def test_regression_a_transcript_of_an_rtl_override_alone_made_a_note_of_a_dash():
    _, (event,) = readers.resolve_edl(edl.to_string(document("|", "\u202e"), presets.load()))
    assert visible(event.note) == "score0.50"
