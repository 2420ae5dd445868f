"""Long recordings: peak memory and time of a whole ``tag`` of 1, 4 and 10 hours, side by side.

    python bench/longform.py [--hours 1,4,10] [--content silence|talk] [--full] [--detector sensevoice]

Makes each input once with ffmpeg (a 16 kHz mono FLAC: ``silence``, or samples/talk.mp4's sound looped,
``talk``), then tags it in a child process through the Python API (the tiny model, or with ``--full`` a
full-size SenseVoiceSmall with random weights at int8, as bench/scan.py builds it; silero-vad) and reads
the child's own peak RSS (VmHWM: getrusage's ru_maxrss would carry the parent's peak over exec). Prints
a row per length and the two targets of issue 25, each PASS or FAIL (exit 1 on a FAIL):

  flat     peak RSS of every length within 10 % of the shortest's
  linear   the seconds each further hour costs (between one length and the next; start-up left out)
           within 20 % of each other, or within 1.5 s per hour where an hour costs almost nothing
           (SenseVoice on silence: decoding only, and the steps differ by timing noise)
  ceiling  (with --full) the longest's peak RSS under 1.5 GiB

The whole-track pipeline before issue 25 decoded each track into memory (float32, 230 MB an hour) and
failed ``flat`` (807, 1466 and 2799 MB at 1, 4 and 10 h); the streaming pipeline holds a chunk at a
time. With --full the peak is the model's loading (checkpoint and model at once), not the audio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FLAT = 0.10     # peak RSS within this of the shortest input's
CEILING_MB = 1536  # the full-size int8 model's peak RSS at the longest length: 1.5 GiB
LINEAR = 0.20   # seconds per hour within this of the shortest input's
NOISE_S = 1.5   # ... or within this many seconds per hour of each other: a run that hears nothing (SenseVoice
                # on silence) costs only decoding, a second or two an hour, and its steps differ by the timer's noise
CHILD = """import re, sys, mediatagger
tagger = mediatagger.Tagger(model=sys.argv[1], vad="silero", precision=sys.argv[3], detector=sys.argv[4])
result = tagger.tag(sys.argv[2])
peak = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)
print(sum(len(t.segments) for t in result.tracks), len(result.spans("events")), peak)
"""


def long_input(hours: float, content: str, path: Path) -> Path:
    """``hours`` of 16 kHz mono FLAC: silence, or talk.mp4's sound looped."""
    from mediatagger import media

    source = ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"] if content == "silence" else \
        ["-stream_loop", "-1", "-i", media.file_arg(REPO / "samples" / "talk.mp4")]
    media.run_ffmpeg(["-y", "-loglevel", "error", *source, "-t", str(hours * 3600), "-vn", "-ac", "1", "-ar", "16000",
                      "-c:a", "flac", media.file_arg(path)], path, "cannot make the long input")
    return path


def tag(model: Path, media_path: Path, precision: str, detector: str) -> tuple[float, int, int, int]:
    """(seconds, speech segments, event spans, peak RSS in KB) of one whole tag in a child process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(model), str(media_path), precision, detector],
                          capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"longform: the tag of {media_path.name} failed: {done.stderr[-2000:]}")
    segments, events, peak_kb = done.stdout.split()
    return seconds, int(segments), int(events), int(peak_kb)


def verdict(name: str, ok: bool, said: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'} {name}: {said}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", default="1,4,10", help="lengths to tag, comma-separated")
    parser.add_argument("--content", choices=("silence", "talk"), default="silence")
    parser.add_argument("--full", action="store_true", help="a full-size model (random weights) at int8")
    parser.add_argument("--detector", choices=("sensevoice", "fused", "audioset"), default="sensevoice")
    args = parser.parse_args()
    lengths = [float(h) for h in args.hours.split(",")]
    with tempfile.TemporaryDirectory(prefix="mediatagger-longform-") as tmp:
        if args.full:
            from bench.scan import full_size_folder

            model, precision = full_size_folder(Path(tmp) / "full"), "int8"
        else:
            model, precision = REPO / "samples" / "model", "auto"
        rows = []
        for hours in lengths:
            media_path = long_input(hours, args.content, Path(tmp) / f"{hours:g}h.flac")
            rows.append((hours, *tag(model, media_path, precision, args.detector)))
            media_path.unlink()
    print(f"{args.content}, {'full-size int8' if args.full else 'tiny'} model, detector {args.detector}")
    print(f"{'hours':>6} {'seconds':>8} {'s per h':>8} {'segments':>9} {'events':>7} {'peak RSS MB':>12} "
          f"{'x shortest':>11}")
    first = rows[0]
    for hours, seconds, segments, events, peak_kb in rows:
        print(f"{hours:>6g} {seconds:>8.1f} {seconds / hours:>8.1f} {segments:>9} {events:>7} {peak_kb / 1024:>12.0f} "
              f"{peak_kb / first[4]:>11.2f}")
    flat = max(r[4] for r in rows) / first[4] - 1
    steps = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(rows, rows[1:])]   # seconds per further hour
    rate = max(steps) / max(min(steps), 1e-9) - 1 if steps else 0.0
    ok = verdict("flat", flat <= FLAT, f"peak RSS up to {100 * flat:.0f} % above the shortest's (target <= 10 %)")
    spread = max(steps) - min(steps) if steps else 0.0
    ok &= verdict("linear", rate <= LINEAR or spread <= NOISE_S,
                  f"each further hour costs {', '.join(f'{x:.1f}' for x in steps)} s: the dearest {100 * rate:.0f} % "
                  f"({spread:.1f} s) above the cheapest (target <= 20 %, or <= {NOISE_S:g} s: timing noise)")
    if args.full:
        top = rows[-1][4] / 1024
        ok &= verdict("ceiling", top < CEILING_MB, f"{rows[-1][0]:g} h peak RSS {top:.0f} MiB (target < {CEILING_MB} "
                      "MiB, 1.5 GiB)")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
