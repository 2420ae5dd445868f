"""The highlight reel: the clips (as the ``clips`` export writes them) joined into ``OUT/<stem>.reel.mp4``.

Crossfades (``clips.crossfade_ms``, xfade/acrossfade) or hard cuts with short audio fades; the
reel lasts the sum of its clips less the crossfades. It takes the first audio track.
"""

from __future__ import annotations

from pathlib import Path

from mediatagger import files, media
from mediatagger.analysis import Analysis
from mediatagger.cutting import reel_args
from mediatagger.exporters import Exporter
from mediatagger.exporters.clips import cut_all, write_plan
from mediatagger.exporters.clips import existing as existing_clips
from mediatagger.presets import Preset


def reel_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}.reel.mp4"


def export(analysis: Analysis, out_dir: Path, preset: Preset) -> list[Path]:
    done = cut_all(analysis, out_dir, preset)
    target = reel_path(out_dir, analysis.stem)
    if done:
        with files.atomic_path(target) as part:
            media.run_ffmpeg(reel_args(done, analysis.source.fps, preset.clips, part), analysis.source.path,
                             f"cannot join the reel {target.name}")
    plan = write_plan(analysis, done, out_dir, preset, target if done else None)
    return [path for _, path in done] + ([target] if done else []) + [plan]


def existing(out_dir: Path, stem: str) -> list[Path]:
    reel = reel_path(out_dir, stem)
    return existing_clips(out_dir, stem) + ([reel] if reel.exists() else [])


EXPORTER = Exporter("reel", "highlight clips joined into <stem>.reel.mp4 (with the clips and their plan)", export,
                    existing)
