"""A marker list for spreadsheets: name, start TC, end TC, duration, label, score, track."""

from __future__ import annotations

import csv
import io
from fractions import Fraction

from mediatagger.analysis import Analysis
from mediatagger.exporters import text_exporter
from mediatagger.presets import Preset
from mediatagger.tags import label_name
from mediatagger.timecode import frames_to_tc, ms_to_frame, tc_to_frames

AUDIO_ONLY_FPS = Fraction(25)
COLUMNS = ["name", "start_tc", "end_tc", "duration_frames", "label", "score", "track"]


def to_string(analysis: Analysis, preset: Preset) -> str:
    fps = analysis.source.fps or AUDIO_ONLY_FPS
    start = tc_to_frames(preset.edl.start_tc, fps)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for span in sorted(analysis.spans("events") + analysis.spans("emotions")):
        first, last = ms_to_frame(span.start_ms, fps), ms_to_frame(span.end_ms, fps)
        writer.writerow([label_name(span.label), frames_to_tc(start + first, fps), frames_to_tc(start + last, fps),
                         max(1, last - first), span.label, "" if span.score is None else span.score, span.track])
    return out.getvalue()


EXPORTER = text_exporter("csv", ".markers.csv", "marker list (CSV) for spreadsheets", to_string)
