"""Event clips: one frame-accurate, re-encoded file per event span, padded before and after.

``OUT/clips/<stem>_<NN>_<label>.mp4``, numbered in time order. The cut starts on the frame where
the padded span starts (``-ss`` before ``-i`` with re-encoding is frame-exact) and holds exactly the
frames up to the padded end; all audio streams come along.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from mediatagger import files, media
from mediatagger.analysis import Analysis
from mediatagger.exporters import Exporter
from mediatagger.presets import ClipOptions, Preset
from mediatagger.timecode import frame_to_ms, ms_to_frame
from mediatagger.timeline import Span, pad


@dataclass(frozen=True)
class Cut:
    span: Span             # the event span the clip was cut for
    start_ms: int          # padded, frame-snapped in point on the source timeline
    end_ms: int            # padded, frame-snapped out point
    frames: int | None     # exact video frame count (None for audio-only sources)
    path: Path
    seek: Fraction         # exact in point in seconds (a frame's start, not its rounded ms)
    length: Fraction       # exact length in seconds


def plan(analysis: Analysis, out_dir: Path, opts: ClipOptions) -> list[Cut]:
    src, fps = analysis.source, analysis.source.fps
    spans = analysis.spans("events", opts.labels)
    padded = pad(spans, opts.pad_before_ms, opts.pad_after_ms, src.duration_ms)
    cuts = []
    for number, (span, wide) in enumerate(zip(spans, padded), 1):
        path = out_dir / "clips" / f"{analysis.stem}_{number:02d}_{span.label.lower()}.mp4"
        if fps:
            first, last = ms_to_frame(wide.start_ms, fps), ms_to_frame(wide.end_ms, fps)
            cuts.append(Cut(span, frame_to_ms(first, fps), frame_to_ms(last, fps), last - first, path,
                            first / fps, (last - first) / fps))
        else:
            cuts.append(Cut(span, wide.start_ms, wide.end_ms, None, path, Fraction(wide.start_ms, 1000),
                            Fraction(wide.duration_ms, 1000)))
    return cuts


def _seconds(seconds: Fraction) -> str:
    """Exact seconds for ffmpeg, floored to the microsecond so that a seek to a frame's start never
    lands just after it."""
    micros = math.floor(seconds * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ffmpeg_args(source: str, cut: Cut, opts: ClipOptions, out: Path) -> list[str]:
    args = ["-y", "-loglevel", "error", "-ss", _seconds(cut.seek), "-i", media.file_arg(source),
            "-t", _seconds(cut.length), "-map", "0:v:0?", "-map", "0:a?", "-sn", "-dn", "-map_metadata", "-1"]
    if cut.frames:
        args += ["-frames:v", str(cut.frames)]
    return args + ["-c:v", "libx264", "-preset", opts.x264_preset, "-crf", str(opts.crf),
                   "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", opts.audio_bitrate,
                   "-movflags", "+faststart", "-f", "mp4", media.file_arg(out)]


def export(analysis: Analysis, out_dir: Path, preset: Preset) -> list[Path]:
    for stale in existing(out_dir, analysis.stem):  # the CLI asked for --force to get here
        stale.unlink()
    written = []
    for cut in plan(analysis, out_dir, preset.clips):
        with files.atomic_path(cut.path) as tmp:
            args = ffmpeg_args(analysis.source.path, cut, preset.clips, tmp)
            media.run_ffmpeg(args, analysis.source.path, f"cannot cut clip {cut.path.name}")
        written.append(cut.path)
    return written


def existing(out_dir: Path, stem: str) -> list[Path]:
    """Clips a previous run cut from a source with this stem (no globbing: stems may hold ``[``)."""
    folder = out_dir / "clips"
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(stem) + r"_\d{2,}_[a-z]+\.mp4")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


EXPORTER = Exporter("clips", "one re-encoded clip per event span (preset clips.labels)", export, existing)
