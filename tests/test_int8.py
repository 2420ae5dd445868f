"""int8: SenseVoice quantised for the CPU agrees with fp32 on the tags (the bar ``precision: auto`` rests on),
with the real tiny model through funasr's path."""

import statistics

import pytest

from mediatagger import analysis, api, media, model, pipeline, presets, tags
from mediatagger.errors import ModelLoadError
from tests.conftest import DATA, SAMPLES, TALK, truth

pytestmark = pytest.mark.slow
HELDOUT = sorted((SAMPLES / "heldout").glob("heldout_*.mp4"))
SCAN = SAMPLES / "heldout" / "scan.mp4"


@pytest.fixture(scope="module")
def both(tiny_model) -> dict[str, list[tuple[dict, tags.RichText]]]:
    """Every held-out ground-truth item tagged at fp32 and at int8."""
    out = {}
    for precision in ("fp32", "int8"):
        sv = model.load_sensevoice(str(tiny_model), precision=precision)
        out[precision] = []
        for path in HELDOUT:
            audio = media.extract_audio(media.probe(path), 0)
            items = truth(path)
            tagged = sv.tag(audio, [(i["start_ms"], i["end_ms"]) for i in items], "auto", True)
            out[precision] += [(item, tags.parse_rich(t.raw)) for item, t in zip(items, tagged)]
    return out


def agreement(both, speech: bool, field: str) -> float:
    pairs = [(a, b) for (item, a), (_, b) in zip(both["fp32"], both["int8"]) if (item["label"] == "SPEECH") == speech]
    assert len(pairs) >= 20
    return sum(getattr(a, field) == getattr(b, field) for a, b in pairs) / len(pairs)


def test_int8_quantises_the_linear_layers(tiny_model):
    sv = model.load_sensevoice(str(tiny_model), precision="int8")
    assert sv.precision == "int8" and "quantized" in type(sv.auto.model.ctc.ctc_lo).__module__


def test_int8_gives_the_same_event_on_98_percent_of_items(both):
    assert agreement(both, speech=False, field="event") >= 0.98


def test_int8_gives_the_same_emotion_on_95_percent_of_speech(both):
    assert agreement(both, speech=True, field="emotion") >= 0.95


def spans(precision: str, tiny_model) -> list:
    tagger = api.Tagger(model=str(tiny_model), vad="silero", precision=precision)
    return tagger.tag(SCAN, tracks="all").spans("events")


def test_int8_span_boundaries_stay_within_100_ms_median(tiny_model):
    fp32, int8 = spans("fp32", tiny_model), spans("int8", tiny_model)
    assert len(fp32) >= 8
    moved = []
    for span in fp32:
        match = [s for s in int8 if (s.label, s.track) == (span.label, span.track)
                 and min(s.end_ms, span.end_ms) > max(s.start_ms, span.start_ms)]
        assert len(match) == 1, (span, match)
        moved += [abs(match[0].start_ms - span.start_ms), abs(match[0].end_ms - span.end_ms)]
    assert statistics.median(moved) <= 100 and len(int8) == len(fp32), sorted(moved)


def test_precision_is_recorded_and_keyed():
    cpu = presets.Preset()
    assert cpu.model.effective_precision() == "int8"
    assert presets.override(cpu, "model", device="cuda").model.effective_precision() == "fp32"
    keys = {pipeline.cache_key(TALK, presets.override(cpu, "model", precision=p), [0]) for p in ("fp32", "int8")}
    assert len(keys) == 2
    assert analysis.load(DATA / "talk.analysis.json").model.precision == "fp32"  # a /1 document: fp32


def test_int8_is_for_the_cpu(tiny_model):
    with pytest.raises(ModelLoadError, match="int8 runs on the CPU, not cuda") as err:
        model.load_sensevoice(str(tiny_model), device="cuda", precision="int8")
    assert err.value.hint == "use {device_cpu}"


def test_threads_hold_through_the_vad(tiny_model):
    """``--threads N`` is what torch runs on through the whole tag: funasr's VAD resets torch's
    thread count on every call to what it was loaded with, so it is loaded with N too."""
    import torch

    before = torch.get_num_threads()
    try:
        api.Tagger(model=str(tiny_model), vad="fsmn", threads=1).tag(TALK)
        assert torch.get_num_threads() == 1
        api.Tagger(model=str(tiny_model), vad="silero", threads=2).tag(TALK)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
