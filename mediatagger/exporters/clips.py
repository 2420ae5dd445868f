"""Highlight clips: one file per planned clip (``highlights.plan``) and the plan itself.

``OUT/clips/<stem>_<NN>_<label>.mp4`` in reel order, and ``OUT/<stem>.clips.json`` recording for
each clip the source in/out in ms and frames (as cut: fast cuts move to keyframes), the spans it
covers and its file. Accurate cuts (default) are frame-exact re-encodes; see ``cutting``.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from mediatagger import files, highlights, media
from mediatagger.analysis import Analysis, dumps
from mediatagger.cutting import cut
from mediatagger.exporters import Exporter, ass
from mediatagger.highlights import Clip
from mediatagger.presets import Preset
from mediatagger.timecode import format_rate

PLAN_SCHEMA = "mediatagger.clips/1"


def clip_path(out_dir: Path, stem: str, number: int, clip: Clip) -> Path:
    """``clips/<stem>_NN_<labels>.mp4``: the labels it holds, in time order (``talk_01_laughter_applause``)."""
    labels = "_".join(dict.fromkeys(s.label.lower() for s in clip.spans))
    return out_dir / "clips" / f"{stem}_{number:02d}_{labels}.mp4"


def plan_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}.clips.json"


def plan_dict(analysis: Analysis, cut_clips: list[tuple[Clip, Path]], out_dir: Path, preset: Preset,
              reel: Path | None = None) -> dict[str, Any]:
    fps = analysis.source.fps
    return {
        "schema": PLAN_SCHEMA, "source": analysis.source.path, "fps": format_rate(fps) if fps else None,
        "cut": preset.clips.cut, "reel": reel.relative_to(out_dir).as_posix() if reel else None,
        "clips": [{"file": path.relative_to(out_dir).as_posix(), "in_ms": c.start_ms, "out_ms": c.end_ms,
                   "in_frame": c.first_frame, "frames": c.frames,
                   "out_frame": None if c.first_frame is None else c.first_frame + (c.frames or 0),
                   "rank": round(c.rank, 3),
                   "spans": [asdict(s) for s in c.spans]} for c, path in cut_clips],
    }


def write_plan(analysis: Analysis, cut_clips: list[tuple[Clip, Path]], out_dir: Path, preset: Preset,
               reel: Path | None = None) -> Path:
    doc = plan_dict(analysis, cut_clips, out_dir, preset, reel)
    return files.write_text(plan_path(out_dir, analysis.stem), dumps(doc))


def cut_all(analysis: Analysis, out_dir: Path, preset: Preset) -> list[tuple[Clip, Path]]:
    """Cut every planned clip (stale clips of this stem go first); returns them as cut."""
    for stale in existing_clips(out_dir, analysis.stem):  # the CLI asked for --force to get here
        stale.unlink()
    opts, info = preset.clips, analysis.source
    keys = media.keyframes(info.path) if opts.cut == "fast" and info.fps else None
    done = []
    with tempfile.TemporaryDirectory(prefix="mediatagger-") as tmp:
        subs = burned_subtitles(analysis, Path(tmp), preset) if opts.burn != "none" else None
        for number, clip in enumerate(highlights.plan(analysis, opts), 1):
            path = clip_path(out_dir, analysis.stem, number, clip)
            with files.atomic_path(path) as part:
                done.append((cut(info, clip, opts, part, subs, keys), path))
    return done


def burned_subtitles(analysis: Analysis, folder: Path, preset: Preset) -> Path:
    """The styled ASS to burn: badges only (no dialogue) unless ``clips.burn`` is ``all``."""
    if preset.clips.burn == "badges":
        analysis = replace(analysis, tracks=tuple(replace(t, segments=()) for t in analysis.tracks))
    return ass.EXPORTER.export(analysis, folder, preset)[0]


def export(analysis: Analysis, out_dir: Path, preset: Preset) -> list[Path]:
    done = cut_all(analysis, out_dir, preset)
    return [path for _, path in done] + [write_plan(analysis, done, out_dir, preset)]


def existing_clips(out_dir: Path, stem: str) -> list[Path]:
    """Clips a previous run cut from a source with this stem (no globbing: stems may hold ``[``)."""
    folder = out_dir / "clips"
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(stem) + r"_\d{2,}_[a-z_]+\.mp4")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def existing(out_dir: Path, stem: str) -> list[Path]:
    plan = plan_path(out_dir, stem)
    return existing_clips(out_dir, stem) + ([plan] if plan.exists() else [])


EXPORTER = Exporter("clips", "highlight clips (preset clips:) and their plan <stem>.clips.json", export, existing)
