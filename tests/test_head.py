"""SenseVoice's head in numpy, shared by every backend, and the one label table."""

import subprocess
import sys

import numpy as np

from mediatagger import head, tags
from mediatagger.presets import RESOLVE_COLORS
from tests.conftest import REPO

PIECES = ["<blank>", "▁hel", "lo", "▁there", "<|HAPPY|>"]
VOCAB = head.Vocabulary(piece=PIECES.__getitem__, decode=lambda ids: "".join(PIECES[i] for i in ids), blank=0,
                        classes={"emotion": {"HAPPY": 4, "SAD": 3}, "event": {"LAUGHTER": 1, "BGM": 2}})


def test_class_probabilities_are_each_familys_share_of_the_softmax():
    logits = np.zeros((1, 6, 5), np.float32)
    logits[0, 1, [4, 3]] = [np.log(3), 0]       # emotion position: HAPPY 3x as likely as SAD
    logits[0, 2, [1, 2]] = [0, np.log(4)]       # event position: BGM 4x as likely as LAUGHTER
    (probs,) = head.class_probs(logits, VOCAB.classes)
    assert np.allclose([probs["HAPPY"], probs["SAD"], probs["LAUGHTER"], probs["BGM"]], [0.75, 0.25, 0.2, 0.8])


def test_word_times_follow_the_ctc_path():
    path = np.array([1, 1, 0, 2, 0, 3, 3, 3])  # after the query positions: "▁hel" "lo" "▁there"
    words = head.word_times(path, VOCAB)
    assert words == ((0, 210, "hello"), (270, 450, "there"))  # 60 ms frames, centred; pieces glued


def test_greedy_text_merges_repeats_and_drops_blanks():
    assert head.greedy_text(np.array([4, 4, 0, 1, 1, 0, 1, 2, 0, 0, 3]), VOCAB) == "<|HAPPY|>▁hel▁hello▁there"
    assert head.greedy_text(np.array([], np.int64), VOCAB) == ""


def test_batches_hold_the_budget_longest_first():
    regions = [(0, 1000), (0, 5000), (0, 3000)]
    assert list(head.batches([1, 2, 0], regions, 6000)) == [[1], [2, 0]]


def test_the_head_needs_no_torch():
    code = "import sys, mediatagger.head, mediatagger.vad; print('torch' in sys.modules, 'funasr' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.split() == ["False", "False"]


def test_one_label_table_names_colours_and_maps_every_label():
    assert tags.EVENTS == ("LAUGHTER", "APPLAUSE", "BGM", "CRY", "COUGH", "SNEEZE", "BREATH")
    assert set(tags.EMOTIONS) == {"HAPPY", "SAD", "ANGRY", "NEUTRAL", "FEARFUL", "DISGUSTED", "SURPRISED"}
    for label in tags.LABELS.values():
        assert label.family in ("event", "emotion") and label.en and label.zh and label.color in RESOLVE_COLORS
    mapped = {v for v in {**tags.EVENT_TOKENS, **tags.EMOTION_TOKENS}.values() if v}
    assert mapped == set(tags.LABELS) | {tags.SPEECH}
    assert tags.label_name("BGM", "zh") == "音乐" and tags.EMOJI["LAUGHTER"] == "😀"
