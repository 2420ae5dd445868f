"""One module per output format, all behind ``EXPORTERS``.

An exporter reads only the Analysis document (and, for clips, reels and burn-in, the source media it
names). Text formats offer ``to_string(analysis, preset)``; every exporter offers ``export(analysis,
out_dir, preset) -> [paths written]`` and ``existing(out_dir, stem) -> [paths it would overwrite]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mediatagger import files
from mediatagger.analysis import Analysis
from mediatagger.errors import UnknownChoiceError
from mediatagger.presets import Preset


@dataclass(frozen=True)
class Exporter:
    name: str
    description: str
    export: Callable[[Analysis, Path, Preset], list[Path]]
    existing: Callable[[Path, str], list[Path]]


def text_exporter(name: str, suffix: str, description: str,
                  to_string: Callable[[Analysis, Preset], str]) -> Exporter:
    """An exporter that writes ``OUT/<stem><suffix>`` from ``to_string``."""

    def export(analysis: Analysis, out_dir: Path, preset: Preset) -> list[Path]:
        return [files.write_text(out_dir / f"{analysis.stem}{suffix}", to_string(analysis, preset))]

    def existing(out_dir: Path, stem: str) -> list[Path]:
        path = out_dir / f"{stem}{suffix}"
        return [path] if path.exists() else []

    return Exporter(name, description, export, existing)


def _registry() -> dict[str, Exporter]:
    from mediatagger.exporters import ass, clips, csv, edl, edl_loc, fcpxml, json, otio, reel, srt, vtt, xmeml

    return {e.name: e for e in (json.EXPORTER, ass.EXPORTER, srt.EXPORTER, vtt.EXPORTER, edl.EXPORTER,
                                edl_loc.EXPORTER, fcpxml.EXPORTER, xmeml.EXPORTER, otio.EXPORTER, csv.EXPORTER,
                                clips.EXPORTER, reel.EXPORTER)}


EXPORTERS: dict[str, Exporter] = _registry()


def get_exporter(name: str) -> Exporter:
    try:
        return EXPORTERS[name]
    except KeyError:
        raise UnknownChoiceError("export format", name, EXPORTERS) from None


def write_all(exporters: list[Exporter], analysis: Analysis, out_dir: Path, preset: Preset) -> list[Path]:
    """Write every export, after checking what could fail part-way (the start timecode at this rate)."""
    from mediatagger.exporters.markers import clock

    clock(analysis, preset.edl.start_tc)
    return [path for exporter in exporters for path in exporter.export(analysis, out_dir, preset)]


def parse_list(text: str) -> list[Exporter]:
    """``"json,ass,edl"`` -> exporters; json is always included and comes first. ``reel`` writes the
    clips too, so it stands in for ``clips``."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if "reel" in names:
        names = [n for n in names if n != "clips"]
    chosen = [get_exporter(n) for n in ["json", *names]]
    return list({e.name: e for e in chosen}.values())
