"""The highlight reel: the clips (as the ``clips`` export writes them) joined into ``OUT/<stem>.reel.mp4``.

Crossfades (``clips.crossfade_ms``, xfade/acrossfade) or hard cuts with short audio fades, in one
re-encode; fast clips with hard cuts are joined by stream copy instead (no fades). The reel lasts
the sum of its clips less the crossfades, and takes the first audio track.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mediatagger import files, media
from mediatagger.analysis import Analysis
from mediatagger.cutting import concat_list, copy_reel_args, reel_args
from mediatagger.exporters import Exporter
from mediatagger.exporters.clips import cut_all, write_plan
from mediatagger.exporters.clips import existing as existing_clips
from mediatagger.highlights import Clip
from mediatagger.presets import Preset


def reel_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}.reel.mp4"


def join(analysis: Analysis, done: list[tuple[Clip, Path]], preset: Preset, out: Path) -> None:
    """Write the reel: stream copy for fast clips with hard cuts, else one re-encode with transitions."""
    opts = preset.clips
    if opts.cut == "fast" and not opts.crossfade_ms and analysis.source.fps:
        with tempfile.TemporaryDirectory(prefix="mediatagger-") as tmp:
            listing = Path(tmp) / "clips.ffconcat"
            listing.write_text(concat_list([path for _, path in done]), encoding="utf-8")
            media.run_ffmpeg(copy_reel_args(listing, out), analysis.source.path, "cannot join the reel")
        return
    media.run_ffmpeg(reel_args(done, analysis.source.fps, opts, out), analysis.source.path, "cannot join the reel")


def export(analysis: Analysis, out_dir: Path, preset: Preset) -> list[Path]:
    done = cut_all(analysis, out_dir, preset)
    target = reel_path(out_dir, analysis.stem)
    if done:
        with files.atomic_path(target) as part:
            join(analysis, done, preset, part)
    plan = write_plan(analysis, done, out_dir, preset, target if done else None)
    return [path for _, path in done] + ([target] if done else []) + [plan]


def existing(out_dir: Path, stem: str) -> list[Path]:
    reel = reel_path(out_dir, stem)
    return existing_clips(out_dir, stem) + ([reel] if reel.exists() else [])


EXPORTER = Exporter("reel", "highlight clips joined into <stem>.reel.mp4 (with the clips and their plan)", export,
                    existing)
