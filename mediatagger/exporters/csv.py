"""A marker list for spreadsheets: name, start TC, end TC, duration, label, score, track."""

from __future__ import annotations

import csv
import io

from mediatagger.analysis import Analysis
from mediatagger.exporters import text_exporter
from mediatagger.exporters.markers import markers
from mediatagger.presets import Preset
from mediatagger.tags import label_name

COLUMNS = ["name", "start_tc", "end_tc", "duration_frames", "label", "score", "track"]


def to_string(analysis: Analysis, preset: Preset) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for m in markers(analysis, preset):
        writer.writerow([label_name(m.span.label), m.tc(), m.tc(m.frames), m.frames, m.span.label,
                         "" if m.span.score is None else m.span.score, m.span.track])
    return out.getvalue()


EXPORTER = text_exporter("csv", ".markers.csv", "marker list (CSV) for spreadsheets", to_string)
