"""Build a tiny SenseVoiceSmall-architecture model folder that funasr loads like the real one.

The folder holds what a downloaded ``iic/SenseVoiceSmall`` holds -- ``config.yaml``,
``configuration.json`` (with ``file_path_metas`` so relative names resolve from any working
directory), a sentencepiece model with SenseVoice's special tokens, a Kaldi-format ``am.mvn`` and
``model.pt`` -- only with a small encoder and vocabulary.

``build(folder)`` synthesises clips the way ``make_samples.py`` renders layouts (speech from
espeak-ng in en/zh with four emotions; laughter, applause, music, crying, coughs, silence), computes
the CMVN from their features, and trains the encoder with cross-entropy on the four query positions
(language, emotion, event, text-norm) plus CTC on the text, so that it emits
``<|lang|><|EMOTION|><|Event|><|woitn|>text`` as the real model does. Fixed seeds; a couple of
minutes on 2 cores. Regenerate the committed model with::

    python samples/tiny_sensevoice.py samples/model
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LANGUAGES = ["zh", "en", "yue", "ja", "ko", "nospeech"]
EMOTIONS = ["HAPPY", "SAD", "ANGRY", "NEUTRAL", "FEARFUL", "DISGUSTED", "SURPRISED", "EMO_UNKNOWN"]
EVENTS = ["Speech", "BGM", "Applause", "Laughter", "Cry", "Sneeze", "Breath", "Cough", "Event_UNK"]
SPECIAL_TOKENS = (
    [f"<|{x}|>" for x in LANGUAGES + EMOTIONS + EVENTS] + ["<|withitn|>", "<|woitn|>"]
)
# training sentences; the held-out layouts in samples/heldout/ use other ones
EN_TEXTS = [
    "so i told him no", "that is the funniest thing", "thank you all for coming", "what a wonderful night",
    "i am so sorry for your loss", "get out of here right now", "we did it again", "the music is playing",
    "nobody saw that coming", "please sit down", "i love this city", "where were you last night",
    "this is not fair", "let us begin the show", "my mother called me", "the weather was terrible",
    "you never listen to me", "we won the final", "i miss the old days", "turn it off",
    "what are you doing here", "she left without a word", "that was amazing", "give me a minute",
    "the train is late again", "i can not believe it", "hello and welcome back", "it is over now",
]
ZH_TEXTS = [
    "你好我们今天很开心", "谢谢大家", "我很难过", "太好了", "你在干什么", "我们赢了", "这不公平",
    "欢迎回来", "我想回家", "他没有来", "今天天气很好", "请坐下", "我不相信", "太可惜了",
    "我们开始吧", "你听我说", "真是太棒了", "别说了", "我好想你", "一切都结束了",
]
TEXT_CORPUS = EN_TEXTS + ZH_TEXTS
N_MELS, LFR_M, LFR_N = 80, 7, 6
ENCODER = {"output_size": 96, "attention_heads": 4, "linear_units": 192, "num_blocks": 4,
           "tp_blocks": 1, "kernel_size": 11}


def config_yaml(encoder: dict) -> dict:
    """The real SenseVoiceSmall config.yaml, with a smaller encoder."""
    return {
        "encoder": "SenseVoiceEncoderSmall",
        "encoder_conf": {
            **encoder, "dropout_rate": 0.1, "positional_dropout_rate": 0.1,
            "attention_dropout_rate": 0.1, "input_layer": "pe",
            "pos_enc_class": "SinusoidalPositionEncoder", "normalize_before": True,
            "sanm_shfit": 0, "selfattention_layer_type": "sanm",
        },
        "model": "SenseVoiceSmall",
        "model_conf": {"length_normalized_loss": True, "sos": 1, "eos": 2, "ignore_id": -1},
        "tokenizer": "SentencepiecesTokenizer",
        "tokenizer_conf": {"bpemodel": None, "unk_symbol": "<unk>", "split_with_space": True},
        "frontend": "WavFrontend",
        "frontend_conf": {"fs": 16000, "window": "hamming", "n_mels": N_MELS, "frame_length": 25,
                          "frame_shift": 10, "lfr_m": LFR_M, "lfr_n": LFR_N, "cmvn_file": None},
    }


CONFIGURATION_JSON = {
    "framework": "pytorch",
    "task": "auto-speech-recognition",
    "model": {"type": "funasr"},
    "pipeline": {"type": "funasr-pipeline"},
    "model_name_in_hub": {"ms": "", "hf": ""},
    "file_path_metas": {
        "init_param": "model.pt",
        "config": "config.yaml",
        "tokenizer_conf": {"bpemodel": "tiny.bpe.model"},
        "frontend_conf": {"cmvn_file": "am.mvn"},
    },
}


def write_tokenizer(folder: Path, vocab_size: int = 300) -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TEXT_CORPUS * 4 + [t.replace("", " ") for t in ZH_TEXTS]),
        model_prefix=str(folder / "tiny.bpe"),
        vocab_size=vocab_size, model_type="bpe", user_defined_symbols=SPECIAL_TOKENS,
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2,
        add_dummy_prefix=False,  # "<|en|>" is the first piece, as funasr's timestamp code assumes
    )
    (folder / "tiny.bpe.vocab").unlink()


def write_cmvn(path: Path, mean: np.ndarray, std: np.ndarray) -> None:
    """Kaldi nnet-format global CMVN, as SenseVoice's am.mvn (shift by -mean, scale by 1/std)."""
    dim = len(mean)

    def row(values: np.ndarray) -> str:
        return " ".join(f"{v:.6f}" for v in values)

    path.write_text(
        "<Nnet>\n"
        f"<Splice> {dim} {dim}\n[ 0 ]\n"
        f"<AddShift> {dim} {dim}\n<LearnRateCoef> 0 [ {row(-mean)} ]\n"
        f"<Rescale> {dim} {dim}\n<LearnRateCoef> 0 [ {row(1.0 / std)} ]\n"
        "</Nnet>\n",
        encoding="utf-8",
    )


def write_folder(folder: Path, encoder: dict = ENCODER) -> None:
    """Write config, tokenizer and an identity CMVN; model.pt comes from ``save_model``."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    write_tokenizer(folder)
    dim = N_MELS * LFR_M
    write_cmvn(folder / "am.mvn", np.zeros(dim), np.ones(dim))
    (folder / "config.yaml").write_text(yaml.safe_dump(config_yaml(encoder), sort_keys=False))
    (folder / "configuration.json").write_text(json.dumps(CONFIGURATION_JSON, indent=2))


def load_for_training(folder: Path):
    """Build the model from the folder through funasr's own registry (random weights)."""
    from funasr import AutoModel

    auto = AutoModel(model=str(folder), device="cpu", disable_update=True, disable_pbar=True)
    return auto.model, auto.kwargs["tokenizer"], auto.kwargs["frontend"]


def _encode(model, feats, lengths, language_ids, textnorm_ids):
    """The query-prefixed encoder pass, as SenseVoiceSmall.inference builds it."""
    import torch

    b = feats.shape[0]
    lang = model.embed(language_ids[:, None])
    norm = model.embed(textnorm_ids[:, None])
    emo_event = model.embed(torch.tensor([[1, 2]])).repeat(b, 1, 1)
    x = torch.cat((lang, emo_event, norm, feats), dim=1)
    return model.encoder(x, lengths + 4)


@dataclass
class Example:
    """One training clip: 16 kHz audio and the tokens SenseVoice should emit for it."""

    audio: np.ndarray   # 48 kHz as synthesised; 16 kHz after through_codec
    language: str       # en | zh | nospeech
    emotion: str        # HAPPY ... or EMO_UNKNOWN
    event: str          # Speech, Laughter, ... or Event_UNK
    text: str = ""


def _codec_round_trip(audio48: np.ndarray, tmp: Path, name: str) -> np.ndarray:
    import subprocess

    from mediatagger.media import find_ffmpeg
    from samples import make_samples as ms

    wav, mp4 = tmp / f"{name}.wav", tmp / f"{name}.mp4"
    ms.write_wav(wav, np.clip(audio48, -1, 1))
    subprocess.run([find_ffmpeg(), "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "64k",
                    "-ac", "2", str(mp4)], check=True)
    pcm = subprocess.run([find_ffmpeg(), "-loglevel", "error", "-i", str(mp4), "-ac", "1", "-ar", "16000",
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(pcm, dtype="<f4")


def through_codec(clips48: list[np.ndarray]) -> list[np.ndarray]:
    """All clips through what media goes through: AAC in MP4 as make_samples.py writes it, then
    ffmpeg's 16 kHz mono decode -- in two halves at once, one per core."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    parts = [clips48[: len(clips48) // 2], clips48[len(clips48) // 2:]]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        decoded = list(pool.map(lambda k: _codec_round_trip(np.concatenate(parts[k]), Path(tmp), str(k)), (0, 1)))
    out = []
    for part, audio in zip(parts, decoded):
        bounds = np.cumsum([0] + [len(c) for c in part]) // 3
        out += [audio[a:b].copy() for a, b in zip(bounds[:-1], bounds[1:])]
    return out


def synth_examples(count: int, seed: int, speech: bool = True) -> list[Example]:
    """Random clips of every kind, the way make_samples.py renders them (speech needs espeak-ng)."""
    from samples import make_samples as ms

    rng = np.random.default_rng(seed)
    if speech:
        _speak_all(("en", "zh"))
    kinds = EVENT_KINDS + ["transition"] * 5 + (["speech"] * 7 if speech else [])
    out = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        if kind == "speech":
            out.append(_speech_example(rng, ms))
        elif kind == "transition":
            out.append(_transition_example(rng, ms))
        else:
            out.append(_event_example(kind, rng, ms))
    for example, audio in zip(out, through_codec([e.audio for e in out])):
        example.audio = audio
    return out


EVENT_KINDS = ["laughter", "applause", "bgm", "cry", "cough", "silence"]
EVENT_NAMES = {"laughter": "Laughter", "applause": "Applause", "bgm": "BGM", "cry": "Cry", "cough": "Cough",
               "silence": "Event_UNK"}


def _noise_floor(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return audio + rng.standard_normal(len(audio)) * 10 ** rng.uniform(-5, -3)


def _event_example(kind: str, rng: np.random.Generator, ms) -> Example:
    length = rng.uniform(0.4, 3.0)
    item = {"kind": kind, "start": 0.0, "end": length, "gain_db": rng.uniform(-12, 3)}
    sound = ms.render_item(item, rng)
    lead, tail = (int(len(sound) * rng.uniform(0, 0.3)) for _ in range(2))  # room around the event
    audio = _noise_floor(np.concatenate([np.zeros(lead), sound, np.zeros(tail)]), rng)
    return Example(audio, "nospeech", "EMO_UNKNOWN", EVENT_NAMES[kind])


def _transition_example(rng: np.random.Generator, ms) -> Example:
    """A window across a boundary between two kinds (or a kind and silence), labelled by the kind
    that fills most of it: what the window scan needs to place boundaries."""
    first, second = rng.choice(EVENT_KINDS, size=2, replace=False)
    length, share = rng.uniform(0.4, 1.6), rng.uniform(0.05, 0.95)
    parts = [ms.render_item({"kind": k, "start": 0.0, "end": length * f, "gain_db": rng.uniform(-9, 3)}, rng)
             for k, f in ((first, share), (second, 1 - share))]
    audio = _noise_floor(np.concatenate(parts), rng)
    return Example(audio, "nospeech", "EMO_UNKNOWN", EVENT_NAMES[first if share >= 0.5 else second])


@functools.cache
def _spoken(text: str, language: str, emotion: str) -> np.ndarray:
    from samples import make_samples as ms

    return ms.speech({"kind": "speech", "text": text, "language": language, "emotion": emotion})


def _perturb_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch and tempo together), as ASR speed perturbation does."""
    positions = np.arange(0, len(audio) - 1, factor)
    return np.interp(positions, np.arange(len(audio)), audio)


def _speak_all(languages: tuple[str, ...]) -> None:
    """Synthesise every (text, emotion) once, two espeak-ng processes at a time."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(text, lang, emo) for lang, texts in (("en", EN_TEXTS), ("zh", ZH_TEXTS)) if lang in languages
            for text in texts for emo in ("NEUTRAL", "HAPPY", "SAD", "ANGRY")]
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(lambda job: _spoken(*job), jobs))


def _speech_example(rng: np.random.Generator, ms) -> Example:
    language = "en" if rng.random() < 0.6 else "zh"
    text = str(rng.choice(EN_TEXTS if language == "en" else ZH_TEXTS))
    emotion = str(rng.choice(["NEUTRAL", "HAPPY", "SAD", "ANGRY"]))
    sound = _perturb_speed(_spoken(text, language, emotion), rng.uniform(0.96, 1.04))
    sound = sound * 10 ** (rng.uniform(-1.5, 1.5) / 20)
    event = "Speech"
    if rng.random() < 0.25:  # a music bed under the speech: SenseVoice calls that BGM
        bed = ms.render_item({"kind": "bgm", "start": 0, "end": len(sound) / ms.RATE + 0.01,
                              "gain_db": rng.uniform(-20, -10)}, rng)
        sound = sound + bed[: len(sound)]
        event = "BGM"
    pad = np.zeros(int(ms.RATE * rng.uniform(0.05, 0.3)))
    audio = np.concatenate([pad, sound, pad]) + rng.standard_normal(len(sound) + 2 * len(pad)) * 1e-4
    return Example(audio, language, emotion, event, text.replace(" ", "") if language == "zh" else text)


def features(frontend, examples: list[Example]):
    """Fbank + LFR features through funasr's own frontend (the inference path)."""
    from funasr.utils.load_utils import extract_fbank

    return [extract_fbank([e.audio], data_type="sound", frontend=frontend)[0][0] for e in examples]


def targets(tokenizer, examples: list[Example]):
    """Query-position token ids (language, emotion, event, text-norm) and CTC text ids."""
    import torch

    piece = tokenizer.sp.PieceToId
    queries = torch.tensor([[piece(f"<|{e.language}|>"), piece(f"<|{e.emotion}|>"), piece(f"<|{e.event}|>"),
                             piece("<|woitn|>")] for e in examples])
    texts = [torch.tensor(tokenizer.encode(e.text.lower()) if e.text else [], dtype=torch.long)
             for e in examples]
    return queries, texts


def _batch(feats, idx):
    import torch
    from torch.nn.utils.rnn import pad_sequence

    chosen = [feats[i] for i in idx]
    return pad_sequence(chosen, batch_first=True), torch.tensor([len(f) for f in chosen])


def train(model, feats, queries, texts, examples, itn_ids: dict[str, int], seconds: float, seed: int,
          steps: int | None = None) -> int:
    """Cross-entropy on the 4 query positions plus CTC on the text, for ``seconds`` (or ``steps``)."""
    import time

    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    gen = np.random.default_rng(seed)
    optim = torch.optim.Adam(model.parameters(), lr=2e-3)
    lid = {name: model.lid_dict[name] for name in ("en", "zh")}
    model.train()
    started, step = time.monotonic(), 0
    while (steps is None and time.monotonic() - started < seconds) or (steps is not None and step < steps):
        idx = gen.choice(len(feats), size=min(32, len(feats)), replace=False)
        x, lengths = _batch(feats, idx)
        # like funasr's training: the true language as a hint 80 % of the time, else "auto"
        language_ids = torch.tensor([lid.get(examples[i].language, 0) if gen.random() < 0.8 else 0 for i in idx])
        norms = ["withitn" if gen.random() < 0.5 else "woitn" for _ in idx]
        norm_ids = torch.tensor([model.textnorm_dict[n] for n in norms])
        wanted = queries[idx].clone()
        wanted[:, 3] = torch.tensor([itn_ids[n] for n in norms])
        out, out_lens = _encode(model, x, lengths, language_ids, norm_ids)
        logits = model.ctc.ctc_lo(out)
        loss = F.cross_entropy(logits[:, :4].reshape(-1, logits.shape[-1]), wanted.reshape(-1))
        log_probs = logits[:, 4:].log_softmax(-1).transpose(0, 1)
        text = [texts[i] for i in idx]
        ctc = F.ctc_loss(log_probs, torch.cat(text), out_lens - 4, torch.tensor([len(t) for t in text]),
                         blank=model.blank_id, zero_infinity=True)
        optim.zero_grad()
        (loss + 0.3 * ctc).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optim.step()
        step += 1
    model.eval()
    return step


def accuracy(model, feats, queries, examples) -> list[float]:
    """Share of correct tokens at each query position, with language "auto"."""
    import torch

    with torch.no_grad():
        x, lengths = _batch(feats, list(range(len(feats))))
        zeros = torch.zeros(len(feats), dtype=torch.long)
        out, _ = _encode(model, x, lengths, zeros, torch.full_like(zeros, model.textnorm_dict["woitn"]))
        pred = model.ctc.ctc_lo(out[:, :4]).argmax(-1)
    return [float((pred[:, k] == queries[:, k]).float().mean()) for k in range(4)]


def cmvn_stats(feats) -> tuple[np.ndarray, np.ndarray]:
    stacked = np.concatenate([f.numpy() for f in feats])
    return stacked.mean(0), stacked.std(0) + 1e-5


def save_model(model, folder: Path) -> None:
    import torch

    torch.save(model.state_dict(), folder / "model.pt")


def build(folder: Path, clips: int = 1800, seconds: float = 150.0, seed: int = 0, speech: bool = True,
          steps: int | None = None) -> Path:
    """Synthesise clips, fit CMVN, train, and write a complete model folder."""
    import torch

    torch.manual_seed(seed)
    started = time.monotonic()
    write_folder(folder)
    model, tokenizer, frontend = load_for_training(folder)
    torch.set_num_threads(os.cpu_count() or 1)  # funasr set 4, which oversubscribes 2 cores
    examples = synth_examples(clips, seed, speech)
    raw = features(frontend, examples)  # identity am.mvn so far: raw log-mel LFR features
    print(f"{len(examples)} clips ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
    mean, std = cmvn_stats(raw)
    write_cmvn(folder / "am.mvn", mean, std)
    feats = [(f - torch.from_numpy(mean)) / torch.from_numpy(std) for f in raw]
    queries, texts = targets(tokenizer, examples)
    held = max(1, len(feats) // 10)
    itn_ids = {n: tokenizer.sp.PieceToId(f"<|{n}|>") for n in ("withitn", "woitn")}
    done = train(model, feats[held:], queries[held:], texts[held:], examples[held:], itn_ids, seconds, seed,
                 steps)
    acc = accuracy(model, feats[:held], queries[:held], examples[:held])
    print(f"{done} steps; held-out accuracy language/emotion/event/itn: "
          + " ".join(f"{a:.2f}" for a in acc), file=sys.stderr)
    save_model(model, folder)
    return folder


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for `samples.make_samples`
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--clips", type=int, default=1800, help="synthetic training clips")
    parser.add_argument("--seconds", type=float, default=150.0, help="training time budget")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    build(args.folder, clips=args.clips, seconds=args.seconds, seed=args.seed)


if __name__ == "__main__":
    main()
