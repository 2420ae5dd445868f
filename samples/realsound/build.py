"""Mix the committed real clips into test files whose ground truth is known by construction.

    python samples/realsound/build.py OUT_DIR

or, from Python, ``build(Path(OUT_DIR)) -> list[Item]``. Writes 48 kHz mono 16-bit FLAC files and
``OUT_DIR/truth.json``::

    {"build_hash": "<sha256>", "sample_rate": 48000,
     "items": [{"file": "tune-01-laugh-pauses-a.flac", "half": "tune", "kind": "events", "duration_ms": 41230,
                "spans": [{"label": "SPEECH", "start_ms": 1000, "end_ms": 5600, "clip": "S1-vm-forward",
                           "level_db": 0}, ...]}, ...]}

Two halves with disjoint sources: ``tune`` (for choosing thresholds) and ``report`` (for the figures
that get reported). Every laugh clip, applause clip, music track and speaker belongs to exactly one
half (``HALVES``); a clip may be used several times within its half. Per half: laughs alone in pauses
between utterances, laughs starting over the tail of an utterance (0.3-1 s overlap), laughs at -12 to
0 dB relative to the speech, applause alone and right after speech, music beds 6-20 dB under speech,
music alone (10-20 s excerpts with 0.5 s fades, taken from inside the tracks) and two ~60 s
speech-only files (one speaker each) for counting false alarms.

Truth spans: ``label`` is LAUGHTER, APPLAUSE, BGM (mediatagger's label names) or SPEECH (for reference).
A clip's span is its audible extent (first to last 10 ms frame whose RMS is within 35 dB of the clip's
loudest frame) shifted by its placement; music spans cover the whole placed excerpt, fades included.
``level_db`` is the event's active level relative to the speech (speech itself is 0), integer dB.
Apart from the overlaps the design asks for, spans never touch: events are separated by 1-3 s (0.2-0.5 s
for applause right after speech) of digital silence plus the clips' own sub-threshold tails.

Deterministic: fixed seeds, every placement on the 10 ms grid, ffmpeg for decoding (to float32 48 kHz mono)
and encoding (bitexact FLAC), so a build gives the same bytes every run on one machine. A folder whose
truth.json carries the same ``build_hash`` (this file, every clip's bytes, the ffmpeg version) is reused.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent.parent))  # mediatagger, for its ffmpeg finder, when run as a script

from mediatagger.media import file_arg, find_ffmpeg  # noqa: E402

RATE = 48000
FRAME_MS = 10
FRAME = RATE * FRAME_MS // 1000
AUDIBLE_DB = 35.0  # a frame is audible when its RMS is within this of the clip's loudest frame
SPEECH_DBFS = -26.0  # active level every utterance is brought to; other levels are relative to it
FADE_MS = 500
SEED = 22
LABELS = ("SPEECH", "LAUGHTER", "APPLAUSE", "BGM")


@dataclass(frozen=True)
class Span:
    """One placed event: its label, where it is audible (ms), which clip, its level relative to speech (dB)."""

    label: str
    start_ms: int
    end_ms: int
    clip: str
    level_db: int

    def __post_init__(self) -> None:
        if self.label not in LABELS or not 0 <= self.start_ms < self.end_ms:
            raise ValueError(f"bad span {self}")


@dataclass(frozen=True)
class Item:
    """One built file: its name in the output folder, its half, "events" or "speech-only", length, truth."""

    file: str
    half: str
    kind: str
    duration_ms: int
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Half:
    """The sources one half may use: clip ids per family, and the speakers' prompt-id prefixes."""

    name: str
    laughs: tuple[str, ...]
    applause: tuple[str, ...]
    music: tuple[str, ...]
    speakers: tuple[str, str]  # the two asterisk speakers (id prefixes); each also gets a speech-only file
    extra_voice: str  # the half's one CMU ARCTIC sentence (a third speaker), used in the laugh files


HALVES = (
    Half("tune", laughs=("L6", "L8", "L9", "L10", "L11", "L12"), applause=("A1", "A4", "A5"),
         music=("M3", "M5", "M7", "M9", "M1"), speakers=("S1", "S4"), extra_voice="S7-arctic_a0007"),
    Half("report", laughs=("L1", "L2", "L3", "L4", "L5", "L7"), applause=("A2", "A3"),
         music=("M2", "M4", "M6", "M8"), speakers=("S3", "S5"), extra_voice="S8-arctic_a0009"),
)


# ----------------------------------------------------------------------------------------- sounds


@dataclass(frozen=True, eq=False)
class Sound:
    """Decoded audio (float32, 48 kHz mono) with its audible extent and active level."""

    clip: str
    samples: np.ndarray
    first_ms: int  # audible extent inside the sound, on the 10 ms grid
    end_ms: int
    level_dbfs: float  # mean power of the audible frames
    whole: bool = False  # its span is the whole placement (music excerpts)


def frame_db(x: np.ndarray) -> np.ndarray:
    """RMS in dBFS of each 10 ms frame (a last partial frame counts over the samples it has)."""
    n = -(-len(x) // FRAME)
    squares = np.zeros(n * FRAME)
    squares[:len(x)] = x.astype(np.float64) ** 2
    counts = np.full(n, FRAME)
    counts[-1] = len(x) - (n - 1) * FRAME
    return 10 * np.log10(squares.reshape(n, FRAME).sum(axis=1) / counts + 1e-20)


def make_sound(clip: str, x: np.ndarray, whole: bool = False) -> Sound:
    db = frame_db(x)
    audible = np.nonzero(db >= db.max() - AUDIBLE_DB)[0]
    level = 10 * np.log10(np.mean(10 ** (db[audible] / 10)))
    if whole:
        return Sound(clip, x, 0, len(x) * 1000 // RATE, float(level), True)
    return Sound(clip, x, int(audible[0]) * FRAME_MS, (int(audible[-1]) + 1) * FRAME_MS, float(level))


def ffmpeg(args: list[str]) -> None:
    run = subprocess.run([find_ffmpeg(), "-nostdin", "-v", "error", "-y", *args], capture_output=True)
    if run.returncode:
        raise RuntimeError(f"ffmpeg failed: {run.stderr.decode(errors='replace')[-800:]}")


def decode_all(paths: list[Path]) -> list[np.ndarray]:
    """Each file as float32 48 kHz mono, all in one ffmpeg run (one process start instead of one per file)."""
    with tempfile.TemporaryDirectory() as tmp:
        raws = [Path(tmp) / f"{i}.f32" for i in range(len(paths))]
        args = [arg for path in paths for arg in ("-i", file_arg(path))]
        for i, raw in enumerate(raws):
            args += ["-map", f"{i}:a:0", "-ac", "1", "-ar", str(RATE), "-f", "f32le", file_arg(raw)]
        ffmpeg(args)
        return [np.fromfile(raw, np.float32) for raw in raws]


def longest_excerpt_ms(track: Sound) -> int:
    return (len(track.samples) * 1000 // RATE - 2000) // 10 * 10


def excerpt(track: Sound, rng: np.random.Generator, length_ms: int) -> Sound:
    """A piece from inside a music track (at least 1 s from either end), with fades in and out."""
    length_ms = min(length_ms, longest_excerpt_ms(track))
    start_ms = 1000 + int(rng.integers(0, (longest_excerpt_ms(track) - length_ms) // 10 + 1)) * 10
    piece = track.samples[start_ms * RATE // 1000:(start_ms + length_ms) * RATE // 1000].copy()
    ramp = np.linspace(0.0, 1.0, FADE_MS * RATE // 1000, dtype=np.float32)
    piece[:len(ramp)] *= ramp
    piece[-len(ramp):] *= ramp[::-1]
    return make_sound(track.clip, piece, whole=True)


# ----------------------------------------------------------------------------------------- placing


@dataclass(frozen=True)
class Placement:
    """A sound put at ``at_ms`` (its sample 0) so that its active level is ``level_db`` from the speech."""

    sound: Sound
    at_ms: int
    label: str
    level_db: int

    @property
    def start_ms(self) -> int:
        return self.at_ms + self.sound.first_ms

    @property
    def end_ms(self) -> int:
        return self.at_ms + self.sound.end_ms

    @property
    def gain(self) -> float:
        return float(10 ** ((SPEECH_DBFS + self.level_db - self.sound.level_dbfs) / 20))

    def span(self) -> Span:
        return Span(self.label, self.start_ms, self.end_ms, self.sound.clip, self.level_db)


def place(sound: Sound, start_ms: int, label: str, level_db: int = 0) -> Placement:
    """Put ``sound`` so that its audible extent starts at ``start_ms``."""
    return Placement(sound, start_ms - sound.first_ms, label, level_db)


def gap(rng: np.random.Generator, low_ms: int = 1000, high_ms: int = 3000) -> int:
    return int(rng.integers(low_ms // 10, high_ms // 10 + 1)) * 10


def render(placements: list[Placement], tail_ms: int = 1000) -> tuple[np.ndarray, int]:
    """The mix (float32) and its length in ms: 1 s after the last sample of any placement."""
    if min(p.at_ms for p in placements) < 0:
        raise ValueError("a placement starts before the file")
    last = max(p.at_ms * RATE // 1000 + len(p.sound.samples) for p in placements)
    length_ms = -(-last // FRAME) * FRAME_MS + tail_ms
    mix = np.zeros(length_ms * RATE // 1000, np.float64)
    for p in placements:
        at = p.at_ms * RATE // 1000
        mix[at:at + len(p.sound.samples)] += p.gain * p.sound.samples
    peak = float(np.abs(mix).max())
    if peak > 0.9:  # keep headroom; one gain for the whole file leaves every relative level as it is
        mix *= 0.9 / peak
    return mix.astype(np.float32), length_ms


# ----------------------------------------------------------------------------------------- recipes


@dataclass(frozen=True, eq=False)
class Pool:
    """What one file's recipe may draw from: the half's decoded sounds, per family, and a seeded rng."""

    speech: tuple[Sound, ...]  # prompts of the half's two long-prompt speakers plus its CMU sentence
    by_speaker: dict[str, tuple[Sound, ...]]
    laughs: tuple[Sound, ...]
    applause: tuple[Sound, ...]
    music: tuple[Sound, ...]
    rng: np.random.Generator

    def deck(self, sounds: tuple[Sound, ...]) -> Iterator[Sound]:
        """The sounds in shuffled passes, endlessly, so an utterance seldom follows itself."""
        while True:
            for index in self.rng.permutation(len(sounds)):
                yield sounds[int(index)]


def laugh_pauses(pool: Pool, speaker: str) -> list[Placement]:
    """Utterances with a laugh alone in some of the pauses (0 to -6 dB)."""
    out, t = [], 1000
    voices = itertools.chain(pool.speech[-1:], pool.deck(pool.by_speaker[speaker]))  # the CMU sentence first
    for i in range(6):
        out.append(place(next(voices), t, "SPEECH"))
        t = out[-1].end_ms + gap(pool.rng)
        if i % 3 != 2:
            out.append(place(pool.laughs[i % len(pool.laughs)], t, "LAUGHTER", -int(pool.rng.integers(0, 7))))
            t = out[-1].end_ms + gap(pool.rng)
    return out


def laugh_overlap(pool: Pool, speaker: str) -> list[Placement]:
    """Laughs that start 0.3-1 s before the end of an utterance."""
    out, t = [], 1000
    voices = pool.deck(pool.by_speaker[speaker])
    for i in range(6):
        talk = place(next(voices), t, "SPEECH")
        overlap = int(pool.rng.integers(30, 101)) * 10
        laugh = place(pool.laughs[(i + 2) % len(pool.laughs)], talk.end_ms - overlap, "LAUGHTER",
                      -int(pool.rng.integers(0, 7)))
        out += [talk, laugh]
        t = max(talk.end_ms, laugh.end_ms) + gap(pool.rng)
    return out


def laugh_levels(pool: Pool) -> list[Placement]:
    """Every laugh of the half once, in pauses, at -12, -9, -6, -3 or 0 dB."""
    out, t = [], 1000
    voices = pool.deck(pool.speech)
    for i, laugh in enumerate(pool.laughs):
        out.append(place(next(voices), t, "SPEECH"))
        t = out[-1].end_ms + gap(pool.rng)
        out.append(place(laugh, t, "LAUGHTER", -3 * (i % 5) if i < 5 else -12))
        t = out[-1].end_ms + gap(pool.rng)
    return out


def applause(pool: Pool, speaker: str, first: int) -> list[Placement]:
    """Applause alone (after a 1-3 s pause) and right after an utterance (0.2-0.5 s later), -6 to 0 dB."""
    out, t = [], 1000
    voices = pool.deck(pool.by_speaker[speaker])
    for i in range(3):
        out.append(place(next(voices), t, "SPEECH"))
        t = out[-1].end_ms + (gap(pool.rng, 200, 500) if (first + i) % 2 else gap(pool.rng))
        clap = pool.applause[(first + i) % len(pool.applause)]
        out.append(place(clap, t, "APPLAUSE", -int(pool.rng.integers(0, 7))))
        t = out[-1].end_ms + gap(pool.rng)
    return out


def music_beds(pool: Pool, speaker: str, first: int) -> list[Placement]:
    """Two beds from different tracks, each under 14-24 s of utterances, 6 to 20 dB below the speech.
    A bed starts 2 s before its first utterance and ends 2 s after its last."""
    out, t = [], 1000
    voices = pool.deck(pool.by_speaker[speaker])
    for k in range(2):
        track = pool.music[(first + k) % len(pool.music)]
        talks, s = [], t + 2000
        while s < t + 14000:
            talk = place(next(voices), s, "SPEECH")
            if talks and talk.end_ms + 2000 - t > longest_excerpt_ms(track):
                break
            talks.append(talk)
            s = talk.end_ms + gap(pool.rng, 500, 1500)
        bed = excerpt(track, pool.rng, talks[-1].end_ms + 2000 - t)
        out += [place(bed, t, "BGM", -int(pool.rng.integers(6, 21))), *talks]
        t = out[-len(talks) - 1].end_ms + gap(pool.rng)
    return out


def music_alone(pool: Pool) -> list[Placement]:
    """Three excerpts of 10-20 s from different tracks, with fades, separated by silence."""
    out, t = [], 1000
    for k in range(3):
        track = pool.music[(k + 2) % len(pool.music)]
        piece = excerpt(track, pool.rng, int(pool.rng.integers(100, 201)) * 100)
        out.append(place(piece, t, "BGM", -int(pool.rng.integers(0, 4))))
        t = out[-1].end_ms + gap(pool.rng)
    return out


def speech_only(pool: Pool, speaker: str) -> list[Placement]:
    """About 60 s of one speaker's prompts, in order, with natural pauses."""
    out, t = [], 1000
    for sound in pool.by_speaker[speaker]:
        if t > 58000:
            break
        out.append(place(sound, t, "SPEECH"))
        t = out[-1].end_ms + gap(pool.rng, 500, 1500)
    return out


Recipe = Callable[[Pool], list[Placement]]


def recipes(half: Half) -> list[tuple[str, str, Recipe]]:
    """(file stem, kind, recipe) for every file of a half."""
    a, b = half.speakers
    return [
        ("laugh-pauses-a", "events", lambda p: laugh_pauses(p, a)),
        ("laugh-pauses-b", "events", lambda p: laugh_pauses(p, b)),
        ("laugh-overlap-a", "events", lambda p: laugh_overlap(p, a)),
        ("laugh-overlap-b", "events", lambda p: laugh_overlap(p, b)),
        ("laugh-levels", "events", laugh_levels),
        ("applause-a", "events", lambda p: applause(p, a, 0)),
        ("applause-b", "events", lambda p: applause(p, b, 1)),
        ("music-beds-a", "events", lambda p: music_beds(p, a, 0)),
        ("music-beds-b", "events", lambda p: music_beds(p, b, 2)),
        ("music-alone", "events", music_alone),
        (f"speech-only-{a}", "speech-only", lambda p: speech_only(p, a)),
        (f"speech-only-{b}", "speech-only", lambda p: speech_only(p, b)),
    ]


# ----------------------------------------------------------------------------------------- building


def sources() -> list[dict]:
    return json.loads((HERE / "sources.json").read_text(encoding="utf-8"))["clips"]


def build_hash(rows: list[dict]) -> str:
    """Changes with this file, any clip's bytes or the ffmpeg build."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for row in sorted(rows, key=lambda r: r["id"]):
        digest.update(f"{row['id']}:{hashlib.sha256((HERE / 'clips' / row['file']).read_bytes()).hexdigest()}\n"
                      .encode())
    version = subprocess.run([find_ffmpeg(), "-version"], capture_output=True, text=True, check=True).stdout
    digest.update(version.splitlines()[0].encode())
    return digest.hexdigest()


def load_sounds(rows: list[dict], halves: Iterable[Half]) -> dict[str, Sound]:
    wanted = {cid for h in halves for cid in (*h.laughs, *h.applause, *h.music, h.extra_voice)}
    prefixes = tuple(f"{s}-" for h in halves for s in h.speakers)
    mine = [r for r in rows if r["id"] in wanted or r["id"].startswith(prefixes)]
    decoded = decode_all([HERE / "clips" / r["file"] for r in mine])
    return {r["id"]: make_sound(r["id"], x) for r, x in zip(mine, decoded)}


def pool_for(half: Half, sounds: dict[str, Sound], seed: tuple[int, ...]) -> Pool:
    by_speaker = {s: tuple(v for k, v in sounds.items() if k.startswith(f"{s}-")) for s in half.speakers}
    speech = tuple(v for s in half.speakers for v in by_speaker[s]) + (sounds[half.extra_voice],)
    return Pool(speech, by_speaker, tuple(sounds[c] for c in half.laughs),
                tuple(sounds[c] for c in half.applause), tuple(sounds[c] for c in half.music),
                np.random.default_rng(seed))


def pcm16(mix: np.ndarray) -> bytes:
    return np.clip(np.round(mix * 32767.0), -32768, 32767).astype("<i2").tobytes()


def encode_all(raws: dict[Path, Path]) -> None:
    """Raw 16-bit 48 kHz mono files to FLAC (bit-exact, no metadata), all in one ffmpeg run."""
    pairs = list(raws.items())
    args = [arg for raw, _ in pairs for arg in ("-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", file_arg(raw))]
    for i, (_, flac) in enumerate(pairs):
        args += ["-map", f"{i}:a:0", "-c:a", "flac", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                 "-map_metadata", "-1", file_arg(flac)]
    ffmpeg(args)


def make_item(half: Half, n: int, stem: str, kind: str, recipe: Recipe, sounds: dict[str, Sound],
              raw: Path) -> Item:
    """File ``n`` of a half: mixed into ``raw`` (16-bit PCM), and its truth."""
    placements = recipe(pool_for(half, sounds, (SEED, HALVES.index(half), n)))
    mix, length_ms = render(placements)
    raw.write_bytes(pcm16(mix))
    spans = tuple(sorted((p.span() for p in placements), key=lambda s: (s.start_ms, s.label)))
    return Item(f"{half.name}-{n:02d}-{stem}.flac", half.name, kind, length_ms, spans)


def make_items(out_dir: Path, sounds: dict[str, Sound]) -> list[Item]:
    items, raws = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for half in HALVES:
            for n, (stem, kind, recipe) in enumerate(recipes(half), start=1):
                raw = Path(tmp) / f"{half.name}-{n:02d}.s16"
                items.append(make_item(half, n, stem, kind, recipe, sounds, raw))
                raws[raw] = out_dir / items[-1].file
        encode_all(raws)
    return items


def read_truth(path: Path) -> tuple[str, list[Item]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    items = [Item(i["file"], i["half"], i["kind"], i["duration_ms"], tuple(Span(**s) for s in i["spans"]))
             for i in doc["items"]]
    return doc["build_hash"], items


def build(out_dir: Path) -> list[Item]:
    """Build the set into ``out_dir`` (or reuse it when its truth.json has this build's hash)."""
    out_dir = Path(out_dir)
    rows = sources()
    digest = build_hash(rows)
    truth = out_dir / "truth.json"
    if truth.exists():
        old, items = read_truth(truth)
        if old == digest and all((out_dir / i.file).exists() for i in items):
            return items
    out_dir.mkdir(parents=True, exist_ok=True)
    items = make_items(out_dir, load_sounds(rows, HALVES))
    doc = {"build_hash": digest, "sample_rate": RATE, "items": [asdict(i) for i in items]}
    truth.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return items


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    items = build(Path(args[0]))
    for half in HALVES:
        mine = [i for i in items if i.half == half.name]
        counts = {label: sum(s.label == label for i in mine for s in i.spans) for label in LABELS}
        print(f"{half.name}: {len(mine)} files, {sum(i.duration_ms for i in mine) / 1000:.0f} s, {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
