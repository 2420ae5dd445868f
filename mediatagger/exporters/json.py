"""The analysis document itself: ``OUT/<stem>.analysis.json``."""

from __future__ import annotations

from mediatagger.analysis import Analysis, to_json
from mediatagger.exporters import text_exporter
from mediatagger.presets import Preset


def to_string(analysis: Analysis, preset: Preset) -> str:
    return to_json(analysis)


EXPORTER = text_exporter("json", ".analysis.json", "the analysis document (always written)", to_string)
