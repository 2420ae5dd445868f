"""A marker list for spreadsheets: name, start TC, end TC, duration, label, score, track, what was said."""

from __future__ import annotations

import csv
import io

from mediatagger.analysis import Analysis
from mediatagger.exporters import Exporter
from mediatagger.exporters.markers import markers, record_clock
from mediatagger.exporters.text import one_line
from mediatagger.presets import Preset
from mediatagger.tags import label_name

COLUMNS = ["name", "start_tc", "end_tc", "duration_frames", "label", "score", "track", "text"]


def to_string(analysis: Analysis, preset: Preset) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: CRLF rows, fields with CR, LF, comma or quote quoted
    writer.writerow(COLUMNS)
    at = record_clock(analysis, preset)
    for m in markers(analysis, preset.edl.kinds):
        writer.writerow([one_line(label_name(m.span.label)), at.tc(m.frame), at.tc(m.frame + m.frames), m.frames,
                         m.span.label, "" if m.span.score is None else m.span.score, m.span.track, one_line(m.text)])
    return out.getvalue()


EXPORTER = Exporter("csv", ".markers.csv", "marker list (CSV) for spreadsheets", to_string)
