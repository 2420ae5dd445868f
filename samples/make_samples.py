"""Compose test media from a layout file and write its ground truth beside it.

    python samples/make_samples.py LAYOUT.yaml -o OUT.(mp4|mov|wav)

writes OUT and OUT.truth.json (``{"items": [{"track", "label", "start_ms", "end_ms", ...}]}``,
labels as in the analysis document). Layout (YAML; JSON is valid YAML)::

    duration: 30.0                                # seconds
    seed: 1                                       # per-item randomness (optional, default 0)
    video: {fps: "30000/1001", size: "640x360"}   # omit for audio-only output
    timecode: "01:00:00;00"                       # optional start timecode (mov/mp4)
    streams: [{language: eng, title: Dialogue}]   # optional metadata per audio track
    tracks:                                       # one list of items per audio track
      - - {kind: speech, start: 0.5, text: "so I told him no", language: en, emotion: HAPPY}
        - {kind: laughter, start: 4.0, end: 6.0}
        - {kind: bgm, start: 0.0, end: 30.0, gain_db: -18}
      - - {kind: applause, start: 10.0, end: 13.0}

Kinds: speech, laughter, applause, bgm, cry, cough, silence; items may overlap. Speech comes from
espeak-ng (voices en and zh; pitch, rate and loudness per emotion NEUTRAL/HAPPY/SAD/ANGRY) and its
end is taken from the synthesized length; the other kinds are synthesized numerically, seeded.
Only regenerating needs espeak-ng and ffmpeg; the committed outputs need neither.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import yaml
from scipy.signal import lfilter

from mediatagger.media import find_ffmpeg

RATE = 48000
VOICES = {"en": "en-us", "zh": "cmn"}
# espeak-ng pitch (0-99), words per minute, amplitude (0-200) per emotion
PROSODY = {"NEUTRAL": (40, 150, 100), "HAPPY": (85, 190, 140),
           "SAD": (10, 100, 50), "ANGRY": (60, 240, 200)}
LABELS = {"speech": "SPEECH", "laughter": "LAUGHTER", "applause": "APPLAUSE", "bgm": "BGM",
          "cry": "CRY", "cough": "COUGH"}


def envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    a, r = min(attack, n // 2), min(release, n // 2)
    env[:a] = np.linspace(0, 1, a)
    if r:
        env[-r:] = np.linspace(1, 0, r)
    return env


def voiced(f0: np.ndarray, rng: np.random.Generator, harmonics: int = 8) -> np.ndarray:
    """A glottal-ish harmonic tone following the pitch curve f0 (Hz per sample)."""
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))
    return tone + 0.3 * rng.standard_normal(len(f0))


def formant(x: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    """A two-pole resonator: shapes a glottal tone into a vowel."""
    r, theta = np.exp(-np.pi * bandwidth / RATE), 2 * np.pi * freq / RATE
    return lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], x)


def laughter(n: int, rng: np.random.Generator) -> np.ndarray:
    """'ha-ha-ha': /a/ syllables every ~0.2 s with falling pitch and breathy onsets."""
    out = np.zeros(n)
    t = 0
    while t < n:
        syl = int(RATE * rng.uniform(0.10, 0.16))
        f0 = np.full(syl, rng.uniform(200, 300)) * np.linspace(1.0, 0.85, syl)
        tone = voiced(f0, rng, harmonics=30)
        s = formant(tone, 800, 90) + 0.7 * formant(tone, 1250, 110) + 0.3 * formant(tone, 2600, 160)
        s = s / (np.abs(s).max() + 1e-9) * envelope(syl, syl // 5, syl // 2)
        s[: syl // 4] += rng.standard_normal(syl // 4) * 0.3
        out[t:t + syl] += s[: n - t]
        t += syl + int(RATE * rng.uniform(0.05, 0.10))
    return 0.3 * out


def applause(n: int, rng: np.random.Generator) -> np.ndarray:
    """Many overlapping claps: short decaying noise bursts at ~40 per second."""
    out = 0.05 * rng.standard_normal(n)
    clap = int(RATE * 0.012)
    decay = np.exp(-np.arange(clap) / (clap / 4))
    for t in rng.integers(0, max(1, n - clap), size=int(40 * n / RATE)):
        out[t:t + clap] += rng.standard_normal(clap) * decay * rng.uniform(0.3, 1.0)
    return 0.3 * np.diff(out, prepend=0.0)


def bgm(n: int, rng: np.random.Generator) -> np.ndarray:
    """A four-chord loop with a kick on every beat."""
    t = np.arange(n) / RATE
    out = np.zeros(n)
    roots = rng.choice([220.0, 246.9, 261.6, 293.7, 329.6, 349.2, 392.0], size=4)
    bar = 2.0
    for i, root in enumerate(roots):
        mask = (t % (4 * bar) >= i * bar) & (t % (4 * bar) < (i + 1) * bar)
        for ratio in (1.0, 1.26, 1.5):
            out += mask * np.sin(2 * np.pi * root * ratio * t) / 3
    beat = t % 0.5
    out += 0.8 * np.sin(2 * np.pi * 60 * t) * np.exp(-beat * 20)
    return 0.2 * out


def cry(n: int, rng: np.random.Generator) -> np.ndarray:
    """A wail: high pitch with vibrato, in breaths of about a second."""
    t = np.arange(n) / RATE
    f0 = rng.uniform(450, 550) * (1 + 0.04 * np.sin(2 * np.pi * 6 * t)) * (1 - 0.15 * (t % 1.1))
    gate = (t % 1.1) < 0.85
    return 0.2 * voiced(f0, rng, harmonics=5) * gate


def cough(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two or three explosive noise bursts."""
    out = np.zeros(n)
    count = int(rng.integers(2, 4))
    for i in range(count):
        start = int(i * n / count)
        burst = min(int(RATE * 0.25), n - start)
        decay = np.exp(-np.arange(burst) / (burst / 5))
        noise = np.convolve(rng.standard_normal(burst), np.ones(6) / 6, mode="same")
        out[start:start + burst] += noise * decay
    return 0.6 * out


SYNTHS = {"laughter": laughter, "applause": applause, "bgm": bgm, "cry": cry, "cough": cough,
          "silence": lambda n, rng: np.zeros(n)}


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return data.astype(np.float64) / 32768.0, w.getframerate()


def speech(item: dict) -> np.ndarray:
    """espeak-ng speech at RATE with leading/trailing silence trimmed."""
    pitch, wpm, amp = PROSODY[item.get("emotion", "NEUTRAL")]
    voice = VOICES[item.get("language", "en")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(wpm),
                        "-a", str(amp), "-w", str(out), item["text"]], check=True)
        data, rate = read_wav(out)
    voiced_idx = np.flatnonzero(np.abs(data) > 0.01)
    data = data[voiced_idx[0]:voiced_idx[-1] + 1] if len(voiced_idx) else data
    src = np.arange(len(data)) / rate
    return np.interp(np.arange(int(len(data) * RATE / rate)) / RATE, src, data)


def render_item(item: dict, rng: np.random.Generator) -> np.ndarray:
    if item["kind"] == "speech":
        sound = speech(item)
    else:
        sound = SYNTHS[item["kind"]](int((item["end"] - item["start"]) * RATE), rng)
        sound = sound * envelope(len(sound), int(0.01 * RATE), int(0.02 * RATE))
    return sound * 10 ** (item.get("gain_db", 0.0) / 20)


def truth_item(track: int, item: dict, length: int) -> dict | None:
    if item["kind"] == "silence":
        return None
    start_ms = round(item["start"] * 1000)
    entry = {"track": track, "label": LABELS[item["kind"]], "start_ms": start_ms,
             "end_ms": start_ms + round(length * 1000 / RATE)}
    if item["kind"] == "speech":
        entry.update(language=item.get("language", "en"), emotion=item.get("emotion", "NEUTRAL"),
                     text=item["text"])
    return entry


def render_track(index: int, items: list[dict], duration: float, seed: int):
    buf = np.zeros(int(duration * RATE))
    truth = []
    for k, item in enumerate(items):
        rng = np.random.default_rng([seed, index, k])
        sound = render_item(item, rng)
        start = int(item["start"] * RATE)
        sound = sound[: max(0, len(buf) - start)]
        buf[start:start + len(sound)] += sound
        entry = truth_item(index, item, len(sound))
        if entry:
            truth.append(entry)
    return np.clip(buf, -1.0, 1.0), truth


def write_wav(path: Path, data: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((data * 32767).astype(np.int16).tobytes())


def ffmpeg_args(layout: dict, wavs: list[Path], out: Path) -> list[str]:
    args = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]
    video = layout.get("video")
    if video:
        args += ["-f", "lavfi", "-i",
                 f"testsrc2=size={video['size']}:rate={video['fps']}:duration={layout['duration']}"]
    for w in wavs:
        args += ["-i", str(w)]
    offset = 1 if video else 0
    if video:
        args += ["-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-crf", "34",
                 "-pix_fmt", "yuv420p", "-g", "30"]
    for i in range(len(wavs)):
        args += ["-map", f"{i + offset}:a"]
    if out.suffix != ".wav":
        args += ["-c:a", "aac", "-b:a", "64k", "-ac", "2"]
    for i, meta in enumerate(layout.get("streams", [])):
        tags = {"language": meta.get("language"), "title": meta.get("title"),
                "handler_name": meta.get("title")}  # mov/mp4 keep a track's name here
        args += [arg for key, value in tags.items() if value
                 for arg in (f"-metadata:s:a:{i}", f"{key}={value}")]
    if layout.get("timecode"):
        args += ["-timecode", layout["timecode"]]
    return args + ["-t", str(layout["duration"]), str(out)]


def compose(layout: dict, out: Path) -> dict:
    seed = layout.get("seed", 0)
    tracks = [render_track(i, items, layout["duration"], seed)
              for i, items in enumerate(layout["tracks"])]
    if out.suffix == ".wav" and len(tracks) != 1:
        sys.exit(f"{out}: a .wav holds one track; the layout has {len(tracks)}")
    with tempfile.TemporaryDirectory() as tmp:
        wavs = [Path(tmp) / f"track{i}.wav" for i in range(len(tracks))]
        for path, (data, _) in zip(wavs, tracks):
            write_wav(path, data)
        subprocess.run(ffmpeg_args(layout, wavs, out), check=True)
    return {"layout": layout, "items": [entry for _, truth in tracks for entry in truth]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layout", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    layout = yaml.safe_load(args.layout.read_text(encoding="utf-8"))
    truth = compose(layout, args.output)
    truth_path = args.output.with_name(args.output.name + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
