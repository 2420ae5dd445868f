"""Seconds to cut a 10-clip highlight reel from a long 1080p H.264 input, accurate and fast side by side.

    python bench/reel.py [--minutes 10] [--clips 10] [--keep DIR]

Makes the input once (testsrc2 1920x1080 at 29.97 fps with a tone, H.264 veryfast, a keyframe every
~8 s as cameras and x264 defaults give) and an analysis with one laugh every minutes/clips, then runs
mediatagger's reel export (default preset: 4 s pre-roll, 1 s post-roll) three ways:

  accurate     clips re-encoded from their exact frames (hybrid seek), then the reel joined with
               0.5 s crossfades (one more encode)
  fast         clips stream-copied keyframe to keyframe, then joined with crossfades (one encode)
  fast, cuts   the same clips joined with hard cuts: stream copy throughout, nothing encoded

For each it prints the seconds spent cutting clips and joining the reel, the ratio to accurate,
and the share of the clip cutting spent decoding: the same seeks and lengths decoded to nothing
(``-f null``), timed on their own. The rest of an accurate cut is encoding.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mediatagger import analysis, clips, cutting, highlights, media, presets  # noqa: E402


def make_input(path: Path, minutes: float) -> None:
    seconds = str(minutes * 60)
    subprocess.run([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30000/1001:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v", "libx264", "-preset", "veryfast", "-g", "240", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "128k", "-shortest", str(path)], check=True)


def laugh_analysis(source: Path, count: int) -> analysis.Analysis:
    info = media.probe(source)
    every = info.duration_ms // count
    events = [{"start_ms": every * i + every // 2, "end_ms": every * i + every // 2 + 2500, "label": "LAUGHTER",
               "score": 0.9, "track": 0} for i in range(count)]
    return analysis.from_dict({
        "schema": analysis.SCHEMA, "model": {"name": "bench", "vad": "none", "language": "auto", "itn": True},
        "source": {"path": info.path, "duration_ms": info.duration_ms, "fps": info.fps_text, "start_timecode": None,
                   "width": info.width, "height": info.height, "audio_tracks": [vars(t) for t in info.audio_tracks]},
        "tracks": [{"index": 0, "segments": [], "events": events, "emotions": []}]})


def decode_seconds(doc: analysis.Analysis, preset: presets.Preset) -> float:
    """Time to decode exactly what the accurate cuts decode (same seeks and lengths), writing nothing."""
    start = time.perf_counter()
    for clip in highlights.plan(doc, preset.clips):
        coarse, fine = cutting.hybrid_seek(clip)
        media.run_ffmpeg(["-loglevel", "error", "-ss", cutting.seconds(coarse), "-i", media.file_arg(doc.source.path),
                          "-ss", cutting.seconds(fine), "-t", cutting.seconds(clip.length),
                          "-f", "null", "-"], doc.source.path, "decode")
    return time.perf_counter() - start


def run(doc: analysis.Analysis, preset: presets.Preset, out: Path) -> tuple[float, float]:
    """(seconds cutting the clips, seconds joining the reel)."""
    job = clips.Job(doc, out, preset)
    start = time.perf_counter()
    done = [made for made, _ in job.cut_missing(progress=lambda event: None)]
    cut_time = time.perf_counter() - start
    start = time.perf_counter()
    clips.join(doc, done, preset, out / "reel.mp4")
    return cut_time, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="a folder to keep the generated input in between runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"bench_{args.minutes:g}min_1080p.mp4"
        if not source.exists():
            print(f"making {source.name} ...", flush=True)
            make_input(source, args.minutes)
        doc = laugh_analysis(source, args.clips)
        rows = {}
        for mode, cut, crossfade in (("accurate", "accurate", 500), ("fast", "fast", 500), ("fast, cuts", "fast", 0)):
            preset = presets.load()
            preset = dataclasses.replace(preset, clips=dataclasses.replace(preset.clips, cut=cut,
                                                                           crossfade_ms=crossfade))
            rows[mode] = run(doc, preset, Path(tmp) / mode.replace(", ", "_"))
        decoding = decode_seconds(doc, presets.load())
        base = sum(rows["accurate"])
        print(f"\n{args.clips}-clip reel from {args.minutes:g} min of 1080p H.264 ({media.find_ffmpeg()})")
        print(f"{'mode':12} {'cut clips':>10} {'join reel':>10} {'total':>8} {'vs accurate':>12}")
        for mode, (cut_s, join_s) in rows.items():
            print(f"{mode:12} {cut_s:9.1f}s {join_s:9.1f}s {cut_s + join_s:7.1f}s {(cut_s + join_s) / base:11.2f}x")
        accurate_cut = rows["accurate"][0]
        print(f"accurate clip cutting: decoding {decoding:.1f}s ({decoding / accurate_cut:.0%}), "
              f"encoding and the rest {accurate_cut - decoding:.1f}s ({1 - decoding / accurate_cut:.0%})")


if __name__ == "__main__":
    main()
