"""A marker list for spreadsheets: name, start TC, end TC, duration, label, score, track, what was said.

``name`` is the marker's name in every marker format (``Music``, ``Music (track 1)`` when the analysis
has several tracks); ``label`` the label's name alone (``Music``), to sort and filter by. The label as
the analysis document holds it (``BGM``) is in the JSON only.
"""

from __future__ import annotations

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.markers import markers, record_clock
from mediatagger.exporters.text import csv_text, one_line
from mediatagger.presets import Preset
from mediatagger.tags import label_name

COLUMNS = ["name", "start_tc", "end_tc", "duration_frames", "label", "score", "track", "text"]


def to_string(analysis: Analysis, preset: Preset) -> str:
    """RFC 4180 (CRLF rows); a name or transcript that would be a formula starts with ``'`` (``csv_text``)."""
    at = record_clock(analysis, preset)
    rows = [[m.name, at.tc(m.frame), at.tc(m.frame + m.frames), m.frames, one_line(label_name(m.span.label)),
             "" if m.span.score is None else m.span.score, m.span.track, one_line(m.text)]
            for m in markers(analysis, preset.edl.kinds)]
    return csv_text([COLUMNS, *rows])


EXPORTER = Exporter("csv", ".markers.csv", "marker list (CSV) for spreadsheets", to_string)
