"""Issue 3 acceptance: the committed tiny model tags held-out media (never used in training) right.

Each ground-truth item is cut out of the composed audio and run through mediatagger's model module,
as the pipeline runs VAD regions.
"""

from collections import Counter

import pytest

from mediatagger import media, model, tags
from tests.conftest import SAMPLES, truth

pytestmark = pytest.mark.slow
HELDOUT = sorted((SAMPLES / "heldout").glob("heldout_*.mp4"))


@pytest.fixture(scope="module")
def tagged(tiny_model) -> list[tuple[dict, tags.RichText]]:
    sv = model.load_sensevoice(str(tiny_model))
    out = []
    for path in HELDOUT:
        audio = media.extract_audio(media.probe(path), 0)
        items = truth(path)
        tagged = sv.tag(audio, [(i["start_ms"], i["end_ms"]) for i in items], "auto", True)
        out += [(item, tags.parse_rich(t.raw)) for item, t in zip(items, tagged)]
    return out


def share(pairs, field: str, key: str) -> tuple[float, Counter]:
    wrong = Counter(f"{item[key]}->{getattr(rich, field)}" for item, rich in pairs
                    if getattr(rich, field) != item[key])
    return 1 - sum(wrong.values()) / len(pairs), wrong


def test_heldout_media_exist_and_are_unseen():
    from samples import tiny_sensevoice

    assert len(HELDOUT) == 3
    texts = {i["text"].replace(" ", "") for p in HELDOUT for i in truth(p) if i["label"] == "SPEECH"}
    assert not texts & {t.replace(" ", "") for t in tiny_sensevoice.TEXT_CORPUS}


def test_events_are_right(tagged):
    events = [(item, rich) for item, rich in tagged if item["label"] != "SPEECH"]
    assert len(events) >= 20 and {i["label"] for i, _ in events} == {"LAUGHTER", "APPLAUSE", "BGM", "CRY", "COUGH"}
    accuracy, wrong = share(events, "event", "label")
    assert accuracy >= 0.95, wrong


def test_speech_emotion_and_language(tagged):
    speech = [(item, rich) for item, rich in tagged if item["label"] == "SPEECH"]
    assert len(speech) >= 20
    emotion, wrong_emotion = share(speech, "emotion", "emotion")
    language, wrong_language = share(speech, "language", "language")
    assert emotion >= 0.80, wrong_emotion
    assert language >= 0.90, wrong_language
    assert all(rich.event in ("SPEECH", "BGM") for _, rich in speech)


def test_output_has_the_real_models_shape(tagged):
    item, rich = tagged[0]
    assert rich.itn is True  # asked for withitn
    for _, rich in tagged:
        assert rich.event is not None
