"""mediatagger: find where the laughs, applause, music and feelings are in footage.

    import mediatagger
    tagger = mediatagger.Tagger(model="samples/model", vad="silero")
    result = tagger.tag("samples/talk.mp4")
    result.spans("events", labels=["LAUGHTER"])
    mediatagger.export(result, "out", formats=["edl", "fcpxml", "ass"])
    mediatagger.tag_folder(["rushes"], "tagged", tagger, recursive=True)   # a batch, journal and summary

The names below load on first use, so ``import mediatagger.analysis`` (the document alone) stays
light; torch and funasr load only when a Tagger first tags.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_NAMES = {
    "Tagger": "mediatagger.api", "export": "mediatagger.api", "load": "mediatagger.api",
    "to_string": "mediatagger.api", "rich_text": "mediatagger.api", "burn": "mediatagger.api",
    "formats": "mediatagger.api", "tag_folder": "mediatagger.batch",
    "Analysis": "mediatagger.analysis", "Segment": "mediatagger.analysis", "Span": "mediatagger.timeline",
    "Preset": "mediatagger.presets", "Progress": "mediatagger.progress", "Written": "mediatagger.files",
    "MediaTaggerError": "mediatagger.errors",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'mediatagger' has no attribute {name!r}")
    value = getattr(importlib.import_module(_NAMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_NAMES])
