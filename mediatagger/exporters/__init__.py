"""Text formats, one module each, all behind ``EXPORTERS``.

An exporter reads only the Analysis document and gives a string (``to_string(analysis, preset)``);
the file it is written to is ``OUT/<stem><suffix>``. Rendering raises the typed error of anything
the format cannot hold (a start timecode that does not fit the rate), so every string can be made
before any file is written. Clips and reels are media jobs, not formats: see ``mediatagger.clips``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mediatagger.analysis import Analysis
from mediatagger.errors import UnknownChoiceError
from mediatagger.presets import Preset


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    description: str
    to_string: Callable[[Analysis, Preset], str]

    def path(self, out_dir: Path, stem: str) -> Path:
        return out_dir / f"{stem}{self.suffix}"


def _registry() -> dict[str, Exporter]:
    from mediatagger.exporters import ass, csv, edl, edl_loc, fcpxml, json, kdenlive, otio, shotcut, srt, vtt, xmeml

    return {e.name: e for e in (json.EXPORTER, ass.EXPORTER, srt.EXPORTER, vtt.EXPORTER, edl.EXPORTER,
                                edl_loc.EXPORTER, fcpxml.EXPORTER, xmeml.EXPORTER, otio.EXPORTER, csv.EXPORTER,
                                shotcut.EXPORTER, kdenlive.EXPORTER)}


EXPORTERS: dict[str, Exporter] = _registry()


def output_names() -> list[str]:
    """Every name ``--export`` and a preset's ``exports`` accept: the formats, then the media jobs."""
    from mediatagger.clips import JOBS

    return [*EXPORTERS, *JOBS]


def get_exporter(name: str) -> Exporter:
    try:
        return EXPORTERS[name]
    except KeyError:
        raise UnknownChoiceError("export format", name, output_names()) from None
