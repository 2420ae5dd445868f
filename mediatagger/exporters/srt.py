"""SubRip subtitles: transcript cues plus SDH event cues (``[laughter]``, ``♪``)."""

from __future__ import annotations

from mediatagger.analysis import Analysis
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.cues import clock, cues
from mediatagger.presets import Preset

# SRT has no escapes, and players read {...} as ASS overrides, <...> as tags and \N as a line break:
# swap those characters for look-alikes so a transcript always shows as it was said.
LOOK_ALIKES = str.maketrans({"{": "｛", "}": "｝", "<": "‹", ">": "›", "\\": "⧵"})


def to_string(analysis: Analysis, preset: Preset) -> str:
    blocks = [f"{n}\n{clock(c.start_ms, ',')} --> {clock(c.end_ms, ',')}\n"
              + "\n".join(line.translate(LOOK_ALIKES) for line in c.lines) + "\n"
              for n, c in enumerate(cues(analysis, preset.text), 1)]
    return "\n".join(blocks)


EXPORTER = Exporter("srt", ".srt", "SubRip transcript with SDH event cues", to_string)
