"""Build a tiny SenseVoiceSmall-architecture model folder that funasr loads like the real one.

The folder holds what a downloaded ``iic/SenseVoiceSmall`` holds -- ``config.yaml``,
``configuration.json`` (with ``file_path_metas`` so relative names resolve from any working
directory), a sentencepiece model with SenseVoice's special tokens, a Kaldi-format ``am.mvn`` and
``model.pt`` -- only with a small encoder and vocabulary.

``build(folder, targets=..., steps=N)`` trains the four query positions (language, emotion, event,
text-norm) towards fixed tags for ``steps`` Adam steps, so even a few seconds of training give a
model whose output has the real model's ``<|lang|><|EMO|><|Event|><|woitn|>`` shape.

    python samples/tiny_sensevoice.py OUT_DIR [--steps 60]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

LANGUAGES = ["zh", "en", "yue", "ja", "ko", "nospeech"]
EMOTIONS = ["HAPPY", "SAD", "ANGRY", "NEUTRAL", "FEARFUL", "DISGUSTED", "SURPRISED", "EMO_UNKNOWN"]
EVENTS = ["Speech", "BGM", "Applause", "Laughter", "Cry", "Sneeze", "Breath", "Cough", "Event_UNK"]
SPECIAL_TOKENS = (
    [f"<|{x}|>" for x in LANGUAGES + EMOTIONS + EVENTS] + ["<|withitn|>", "<|woitn|>"]
)
TEXT_CORPUS = [
    "so i told him no", "that is the funniest thing", "thank you all for coming",
    "what a wonderful night", "i am so sorry", "get out of here", "we did it",
    "the music is playing", "你好 我们 今天 很 开心", "谢谢 大家", "我 很 难过", "太 好 了",
]
N_MELS, LFR_M, LFR_N = 80, 7, 6
ENCODER = {"output_size": 64, "attention_heads": 4, "linear_units": 128, "num_blocks": 3,
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


def write_tokenizer(folder: Path, vocab_size: int = 160) -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TEXT_CORPUS * 4), model_prefix=str(folder / "tiny.bpe"),
        vocab_size=vocab_size, model_type="bpe", user_defined_symbols=SPECIAL_TOKENS,
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2,
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

    auto = AutoModel(model=str(folder), device="cpu", disable_update=True, init_param=None)
    return auto.model, auto.kwargs["tokenizer"]


def train_constant(model, tokenizer, targets: list[str], steps: int, seed: int) -> None:
    """Teach the 4 query positions fixed tags and blank elsewhere (a plumbing-test model)."""
    import torch

    torch.manual_seed(seed)
    ids = torch.tensor([tokenizer.sp.PieceToId(t) for t in targets])
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        feats = torch.randn(4, 60, N_MELS * LFR_M)
        lengths = torch.full((4,), 60)
        out, out_lens = _encode(model, feats, lengths, language="auto")
        logits = model.ctc.ctc_lo(out)
        target = torch.zeros(logits.shape[:2], dtype=torch.long)
        target[:, :4] = ids
        loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target)
        optim.zero_grad()
        loss.backward()
        optim.step()
    model.eval()


def _encode(model, feats, lengths, language: str):
    """The query-prefixed encoder pass, as SenseVoiceSmall.inference builds it."""
    import torch

    b = feats.shape[0]
    lang = model.embed(torch.tensor([[model.lid_dict[language]]])).repeat(b, 1, 1)
    norm = model.embed(torch.tensor([[model.textnorm_dict["woitn"]]])).repeat(b, 1, 1)
    emo_event = model.embed(torch.tensor([[1, 2]])).repeat(b, 1, 1)
    x = torch.cat((lang, emo_event, norm, feats), dim=1)
    return model.encoder(x, lengths + 4)


def save_model(model, folder: Path) -> None:
    import torch

    torch.save(model.state_dict(), folder / "model.pt")


def build(folder: Path, targets: tuple[str, ...] = ("<|en|>", "<|HAPPY|>", "<|Laughter|>",
          "<|woitn|>"), steps: int = 60, seed: int = 0) -> Path:
    random.seed(seed)
    np.random.seed(seed)
    write_folder(folder)
    model, tokenizer = load_for_training(folder)
    train_constant(model, tokenizer, list(targets), steps, seed)
    save_model(model, folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    build(args.folder, steps=args.steps)


if __name__ == "__main__":
    main()
