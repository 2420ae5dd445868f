"""The analysis document itself: ``OUT/<stem>.analysis.json``.

With a rich-text form other than ``plain`` (preset ``text.rich``), each segment also carries
``rich``: its text in that form (``tags.rich_text``), for tools that want SenseVoice's tags inline.
"""

from __future__ import annotations

from mediatagger.analysis import Analysis, dumps, to_dict
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.cues import segment_text
from mediatagger.presets import Preset


def to_string(analysis: Analysis, preset: Preset) -> str:
    doc = to_dict(analysis)
    if preset.text.rich != "plain":
        for track, result in zip(doc["tracks"], analysis.tracks):
            for seg_dict, seg in zip(track["segments"], result.segments):
                seg_dict["rich"] = segment_text(seg, preset.text)
    return dumps(doc)


EXPORTER = Exporter("json", ".analysis.json", "the analysis document (always written)", to_string)
