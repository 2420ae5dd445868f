"""OpenTimelineIO adapter ``mediatagger``: an analysis document read as a timeline (read only)."""

from __future__ import annotations

from typing import Any


def read_from_file(filepath: str, preset: str = "default") -> Any:
    """``<stem>.analysis.json`` -> a Timeline: the source as a clip, a coloured marker per span, the
    spans re-derived with ``preset``'s thresholds (``otioconvert -a preset=strict``)."""
    from mediatagger import api
    from mediatagger.exporters import otio

    options = api.preset_of(preset)
    return otio.timeline(api.load(filepath, options), options)
