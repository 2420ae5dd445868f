"""``tag --follow`` on a recording written in real time: how soon the markers come, and the final outputs.

    python bench/follow.py [--minutes 20] [--refresh 10] [--model samples/model] [--detector fused]

Builds a recording of real sounds (samples/realsound: read speech, a voice-acted laugh every minute or so,
applause, music; see its SOURCES.md), and has ffmpeg write it in real time (``-re``) as OBS does: Matroska,
H.264 test picture and AAC, a cluster a second. ``mediatagger tag --follow`` follows it with the default
detector. While it runs, the markers file (``<stem>.markers.csv``, rewritten every ``--refresh`` seconds)
is read twice a second, and for each laugh the moment a Laughter marker over it first appears is noted.
Prints, with PASS or FAIL (exit 1 on a FAIL), the three targets of issue 25:

  latency    a laugh's marker within refresh + 15 s of the laugh's end being recorded (every laugh found)
  final      the final outputs written within 10 s of the writer stopping
  identical  every output byte for byte that of ``mediatagger tag`` of the finished file
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CLIPS = REPO / "samples" / "realsound" / "clips"
LAUGHS = ("L1-hedgewars-Surfer-Laugh.ogg", "L2-hedgewars-Default-Laugh.ogg", "L4-hedgewars-Default_es-Laugh.ogg",
          "L8-warmux-fire4.ogg", "L9-warmux-friendly_fire2.ogg", "L10-warmux-theme2.ogg", "L12-warmux-theme9.ogg")
RATE, FPS = 16000, 30
EXPORTS = ["edl", "csv", "ass", "fcpxml"]
TEXTS = ["analysis.json", "edl", "markers.csv", "ass", "fcpxml"]


def decoded(path: Path) -> np.ndarray:
    from mediatagger import media

    return media.extract_audio(media.probe(path), 0)


def build(minutes: float, path: Path) -> list[tuple[int, int]]:
    """A recording of ``minutes`` at ``path`` (16 kHz FLAC); returns where each laugh is (ms)."""
    from mediatagger import media

    speech = [decoded(p) for p in sorted((CLIPS / "speech").glob("S1-*.wav"))]
    laughs = [decoded(CLIPS / "laughter" / name) for name in LAUGHS]
    music, applause = decoded(CLIPS / "music" / "M4-gcompris-beethoven.ogg"), decoded(CLIPS / "applause" /
                                                                                      "A1-gcompris-LRApplauses_1_LA_cut.ogg")
    parts, placed, at, n = [], [], 0, 0
    total = int(minutes * 60 * RATE)
    while at < total:
        for piece in (speech[n % len(speech)], np.zeros(RATE // 2, np.float32), speech[(n + 3) % len(speech)]):
            parts.append(piece)
            at += len(piece)
        laugh = laughs[n % len(laughs)]
        placed.append((at * 1000 // RATE, (at + len(laugh)) * 1000 // RATE))
        parts += [laugh, np.zeros(RATE, np.float32)]
        at += len(laugh) + RATE
        extra = (music[:20 * RATE] * 0.5, applause)[n % 2] if n % 3 == 2 else np.zeros(RATE * 5, np.float32)
        parts += [extra, np.zeros(RATE * 2, np.float32)]
        at += len(extra) + 2 * RATE
        n += 1
    audio = np.concatenate(parts)[:total].astype("<f4")
    raw = path.with_suffix(".f32")
    audio.tofile(raw)
    media.run_ffmpeg(["-y", "-loglevel", "error", "-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", str(raw),
                      "-c:a", "flac", media.file_arg(path)], path, "cannot build the recording")
    raw.unlink()
    return [p for p in placed if p[1] <= total * 1000 // RATE]


def record(source: Path, dest: Path) -> subprocess.Popen:
    from mediatagger import media

    return subprocess.Popen([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-re", "-i",
                             str(source), "-f", "lavfi", "-i", f"testsrc=size=320x180:rate={FPS}", "-map", "1:v",
                             "-map", "0:a", "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                             "-flush_packets", "1", "-cluster_time_limit", "1000", "-f", "matroska", str(dest)],
                            stdin=subprocess.DEVNULL)


def laughs_marked(path: Path) -> list[tuple[int, int]]:
    """The Laughter markers of a markers CSV (ms from the start; its timecode starts at 01:00:00:00)."""
    from mediatagger.timecode import tc_to_frames

    if not path.exists():
        return []
    origin = tc_to_frames("01:00:00:00", Fraction(FPS))
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [((tc_to_frames(r["start_tc"], Fraction(FPS)) - origin) * 1000 // FPS,
             (tc_to_frames(r["end_tc"], Fraction(FPS)) - origin) * 1000 // FPS)
            for r in rows if r["label"] == "Laughter"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--refresh", type=float, default=10)
    parser.add_argument("--model", default=str(REPO / "samples" / "model"))
    parser.add_argument("--detector", default="fused")
    args = parser.parse_args()
    common = ["--model", args.model, "--vad", "silero", "--detector", args.detector, "--export", ",".join(EXPORTS)]
    with tempfile.TemporaryDirectory(prefix="mediatagger-follow-") as tmp_name:
        tmp = Path(tmp_name)
        laughs = build(args.minutes, tmp / "source.flac")
        rec, out, again = tmp / "show.mkv", tmp / "live", tmp / "tag"
        started = time.monotonic()
        writing = record(tmp / "source.flac", rec)
        run = subprocess.Popen([sys.executable, "-m", "mediatagger", "tag", "--follow", str(rec), "-o", str(out),
                                "--refresh", str(args.refresh), "-q", *common], cwd=REPO)
        seen: dict[int, float] = {}
        while writing.poll() is None:
            now = time.monotonic() - started
            for k, (a, b) in enumerate(laughs):
                if k not in seen and any(s < b and e > a for s, e in laughs_marked(out / "show.markers.csv")):
                    seen[k] = now - b / 1000
            time.sleep(0.5)
        stopped = time.monotonic()
        run.wait()
        final_s = time.monotonic() - stopped
        recorded = time.monotonic() - started
        tagged = subprocess.run([sys.executable, "-m", "mediatagger", "tag", str(rec), "-o", str(again), "-q",
                                 *common], cwd=REPO)
        same = [name for name in TEXTS if (out / f"show.{name}").read_bytes() == (again / f"show.{name}").read_bytes()]
        found_at_end = laughs_marked(out / "show.markers.csv")
    found = [k for k, (a, b) in enumerate(laughs) if any(s < b and e > a for s, e in found_at_end)]
    lags = [seen[k] for k in found if k in seen]
    print(f"{args.minutes:g} min recorded in real time ({recorded:.0f} s), {len(laughs)} laughs, refresh "
          f"{args.refresh:g} s, detector {args.detector}; exit codes: follow {run.returncode}, tag {tagged.returncode}")
    print(f"laughs marked in the end: {len(found)} of {len(laughs)}; marked while recording: {len(lags)}")
    if lags:
        print(f"marker after the laugh's end: median {statistics.median(lags):.1f} s, max {max(lags):.1f} s")
    budget = args.refresh + 15
    ok = verdict("latency", bool(lags) and len(lags) == len(found) and max(lags) <= budget,
                 f"every laugh found was marked within {budget:g} s of its end" if lags and max(lags) <= budget
                 else f"max {max(lags, default=float('nan')):.1f} s (target <= {budget:g} s)")
    ok &= verdict("final", final_s <= 10 and run.returncode == 0, f"final outputs {final_s:.1f} s after the writer "
                  "stopped (target <= 10 s)")
    ok &= verdict("identical", len(same) == len(TEXTS), f"{len(same)} of {len(TEXTS)} outputs identical to tag of the "
                  f"finished file ({', '.join(sorted(set(TEXTS) - set(same))) or 'all'}"
                  f"{' differ' if len(same) < len(TEXTS) else ''})")
    raise SystemExit(0 if ok else 1)


def verdict(name: str, ok: bool, said: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'} {name}: {said}")
    return ok


if __name__ == "__main__":
    main()
