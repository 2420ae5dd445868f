"""``tag --follow`` on a recording written in real time: how soon the markers come, and the final outputs.

    python bench/follow.py [--minutes 20] [--refresh 10] [--model samples/model] [--detector fused] [--offline]

Builds a recording of real sounds (samples/realsound: read speech, a voice-acted laugh every minute or so,
applause, music; see its SOURCES.md), and has ffmpeg write it in real time (``-re``) as OBS does: Matroska,
H.264 test picture and AAC, a cluster a second. ``mediatagger tag --follow`` follows it with the default
detector. While it runs, the markers file (``<stem>.markers.csv``, rewritten every ``--refresh`` seconds)
is read twice a second, and for each laugh the moment a Laughter marker over it first appears is noted.
Prints, with PASS or FAIL (exit 1 on a FAIL), the three targets of issue 25:

  latency    a laugh's marker within refresh + 15 s of the laugh's end being recorded (every laugh found)
  final      the final outputs written within 10 s of the writer stopping
  identical  every output byte for byte that of ``mediatagger tag`` of the finished file

Each laugh's own line follows (where it is, when its marker came). ``--offline`` does not record: it
feeds the same recording to the streaming pipeline as fast as it goes, takes the markers as a refresh
would every ``--refresh`` seconds of audio, and prints how much audio came after each laugh's end before
its marker did: the lag the pipeline itself makes, apart from the machine's speed.
"""

from __future__ import annotations

import argparse
import csv
import io
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
    """The Laughter markers of a markers CSV file (see ``laughs_in``)."""
    return laughs_in(path.read_text(encoding="utf-8")) if path.exists() else []


def laughs_in(text: str) -> list[tuple[int, int]]:
    """The Laughter markers of a markers CSV (ms from the start; its timecode starts at 01:00:00:00)."""
    from mediatagger.timecode import tc_to_frames

    origin = tc_to_frames("01:00:00:00", Fraction(FPS))
    rows = list(csv.DictReader(io.StringIO(text)))
    return [((tc_to_frames(r["start_tc"], Fraction(FPS)) - origin) * 1000 // FPS,
             (tc_to_frames(r["end_tc"], Fraction(FPS)) - origin) * 1000 // FPS)
            for r in rows if r["label"] == "Laughter"]


def overlaps(laugh: tuple[int, int], marked: list[tuple[int, int]]) -> bool:
    return any(s < laugh[1] and e > laugh[0] for s, e in marked)


def offline(source: Path, laughs: list[tuple[int, int]], args: argparse.Namespace) -> None:
    """The streaming pipeline fed ``source`` at full speed, the markers taken every ``args.refresh``
    seconds of audio as a follow run's refresh takes them; prints each laugh's lag in audio seconds."""
    from dataclasses import replace

    from mediatagger import api, media, pipeline
    from mediatagger.exporters import EXPORTERS
    from mediatagger.stream import TrackStream

    tagger = api.Tagger(model=args.model, vad="silero", detector=args.detector)
    models, info = tagger.models(), media.probe(source)
    heard = TrackStream(0, tagger.preset, models)
    seen: dict[int, int] = {}
    every, due = int(args.refresh * 1000), int(args.refresh * 1000)
    for block in media.AudioStream(info, 0):
        heard.feed(block)
        if heard.fed_ms < due:
            continue
        due += every
        doc = pipeline.analysis_of(replace(info, duration_ms=heard.fed_ms, video_frames=None), [heard.so_far()],
                                   tagger.preset, models)
        marked = laughs_in(EXPORTERS["csv"].to_string(doc, tagger.preset))
        for k, laugh in enumerate(laughs):
            if k not in seen and overlaps(laugh, marked):
                seen[k] = heard.fed_ms - laugh[1]
    final = pipeline.analysis_of(info, [heard.finish()], tagger.preset, models)
    marked = laughs_in(EXPORTERS["csv"].to_string(final, tagger.preset))
    for k, laugh in enumerate(laughs):
        lag = f"{seen[k] / 1000:5.1f} s of audio after its end" if k in seen else "not before the end"
        print(f"laugh {k:2d} {laugh[0] / 1000:7.1f}-{laugh[1] / 1000:7.1f} s ({LAUGHS[k % len(LAUGHS)][:3]}): "
              f"{'marked' if overlaps(laugh, marked) else 'MISSED'} in the end; {lag}")
    lags = [v / 1000 for v in seen.values()]
    if lags:
        print(f"offline lag: median {statistics.median(lags):.1f} s, max {max(lags):.1f} s of audio "
              f"(refresh every {args.refresh:g} s of audio)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--refresh", type=float, default=10)
    parser.add_argument("--model", default=str(REPO / "samples" / "model"))
    parser.add_argument("--detector", default="fused")
    parser.add_argument("--offline", action="store_true", help="the pipeline's own lag, fed at full speed")
    args = parser.parse_args()
    common = ["--model", args.model, "--vad", "silero", "--detector", args.detector, "--export", ",".join(EXPORTS)]
    with tempfile.TemporaryDirectory(prefix="mediatagger-follow-") as tmp_name:
        tmp = Path(tmp_name)
        laughs = build(args.minutes, tmp / "source.flac")
        if args.offline:
            return offline(tmp / "source.flac", laughs, args)
        rec, out, again = tmp / "show.mkv", tmp / "live", tmp / "tag"
        started = time.monotonic()
        writing = record(tmp / "source.flac", rec)
        run = subprocess.Popen([sys.executable, "-m", "mediatagger", "tag", "--follow", str(rec), "-o", str(out),
                                "--refresh", str(args.refresh), "-q", *common], cwd=REPO)
        seen: dict[int, float] = {}
        while writing.poll() is None:
            now = time.monotonic() - started
            marked = laughs_marked(out / "show.markers.csv")
            for k, laugh in enumerate(laughs):
                if k not in seen and overlaps(laugh, marked):
                    seen[k] = now - laugh[1] / 1000
            time.sleep(0.5)
        stopped = time.monotonic()
        run.wait()
        final_s = time.monotonic() - stopped
        recorded = time.monotonic() - started
        tagged = subprocess.run([sys.executable, "-m", "mediatagger", "tag", str(rec), "-o", str(again), "-q",
                                 *common], cwd=REPO)
        same = [name for name in TEXTS if (out / f"show.{name}").read_bytes() == (again / f"show.{name}").read_bytes()]
        found_at_end = laughs_marked(out / "show.markers.csv")
    found = [k for k, laugh in enumerate(laughs) if overlaps(laugh, found_at_end)]
    lags = [seen[k] for k in found if k in seen]
    for k, laugh in enumerate(laughs):
        lag = f"marker {seen[k]:5.1f} s after its end" if k in seen else "no marker while recording"
        print(f"laugh {k:2d} {laugh[0] / 1000:7.1f}-{laugh[1] / 1000:7.1f} s ({LAUGHS[k % len(LAUGHS)][:3]}): "
              f"{'marked' if k in found else 'MISSED'} in the end; {lag}")
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
