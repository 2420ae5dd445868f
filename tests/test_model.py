"""The funasr seam: the tiny SenseVoice folder and the real VAD weights, through mediatagger.model."""

import os
import subprocess
import sys

import pytest

from mediatagger import head, media, model, presets, tags, vad
from mediatagger.errors import ModelLoadError, UnknownChoiceError
from tests.conftest import REPO, SAMPLES, TALK, truth
from tests.reliability import case

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def talk_audio():
    return media.extract_audio(media.probe(TALK), 0)


def overlaps(region, item) -> bool:
    return region[0] < item["end_ms"] and item["start_ms"] < region[1]


def test_sensevoice_tags_each_region_and_keeps_their_order(tiny_model, talk_audio):
    """Regions run longest first in several batches; each result must come back to its region."""
    sv = model.load_sensevoice(str(tiny_model))
    items = truth(TALK)[:4]  # speech HAPPY, laughter, speech NEUTRAL, applause
    seen = []
    tagged = sv.tag(talk_audio, [(i["start_ms"], i["end_ms"]) for i in items], "auto", False,
                    batch_seconds=3, progress=seen.append)
    raws = [t.raw for t in tagged]
    assert seen == [1, 2, 3, 4]  # one region per batch at this budget
    assert raws[0].startswith("<|en|><|HAPPY|><|Speech|><|woitn|>") and len(raws[0]) > 34  # and some text
    assert raws[1] == "<|nospeech|><|EMO_UNKNOWN|><|Laughter|><|woitn|>"
    assert raws[2].startswith("<|en|><|NEUTRAL|><|Speech|><|woitn|>")
    assert raws[3] == "<|nospeech|><|EMO_UNKNOWN|><|Applause|><|woitn|>"


@pytest.mark.parametrize("kind", ["fsmn", "silero"])
def test_real_vad_finds_the_speech(kind, talk_audio):
    """Every speech item of the sample overlaps a region; the laugh-free silence does not."""
    detector = vad.load(kind, presets.load().vad)
    regions = vad.speech_regions(talk_audio, detector, presets.load().vad)
    speech = [i for i in truth(TALK) if i["label"] == "SPEECH"]
    assert all(any(overlaps(r, item) for r in regions) for item in speech)
    assert all(e - s <= 15000 for s, e in regions)


@pytest.mark.parametrize("kind", ["fsmn", "silero"])
def test_the_vad_in_chunks_finds_the_same_speech(kind, talk_audio):
    """Long footage goes to the detector a chunk at a time (flat memory); each chunk is
    cut where it is quietest, so the regions are the whole-track ones (here in 7 s chunks)."""
    detector = vad.load(kind, presets.load().vad)
    options = presets.load().vad
    whole = vad.speech_regions(talk_audio, detector, options)
    assert vad.quiet_cuts(talk_audio, 7 * 16000) == [0, 104800, 209600, len(talk_audio)]  # 6.55 s, 13.1 s
    chunked = vad.join_close(vad.detect(talk_audio, detector, chunk_ms=7000), options.join_gap_ms)
    chunked = [(s, e) for s, e in chunked if e - s >= options.min_speech_ms]
    assert len(chunked) == len(whole)
    assert all(abs(a[0] - b[0]) <= 300 and abs(a[1] - b[1]) <= 300 for a, b in zip(whole, chunked)), (whole, chunked)


def test_no_vad_covers_the_track_in_pieces(talk_audio):
    options = presets.VadOptions(max_segment_ms=8000)
    end = len(talk_audio) // 16  # 20010 ms: AAC pads the end
    assert vad.speech_regions(talk_audio, None, options) == \
        [(0, end // 3), (end // 3, 2 * end // 3), (2 * end // 3, end)]


def test_bundled_fsmn_folder_is_found():
    folder = model.bundled_fsmn_folder()
    assert folder is not None and (folder / "config.yaml").is_file()


def test_unknown_vad_lists_choices():
    with pytest.raises(UnknownChoiceError, match="fsmn, silero, none"):
        vad.check_kind("webrtc")


def test_incomplete_folder_is_a_clear_error(tiny_model, tmp_path):
    (tmp_path / "config.yaml").write_text((tiny_model / "config.yaml").read_text())
    with pytest.raises(ModelLoadError, match="lacks model.pt"):
        model.load_sensevoice(str(tmp_path))


def test_missing_local_path_is_not_sent_to_the_hub(tmp_path):
    with pytest.raises(ModelLoadError, match="no such model folder"):
        model.load_sensevoice(str(tmp_path / "nowhere"))


def test_unreachable_hub_says_how_to_pass_a_folder():
    """Model hubs are unreachable here, so this is the real offline failure of the default model."""
    with pytest.raises(ModelLoadError) as err:
        model.load_sensevoice("iic/SenseVoiceSmall")
    from mediatagger.cli import FLAGS

    assert "hub could not be reached" in str(err.value) and "model=DIR" in str(err.value)
    assert err.value.describe(FLAGS).endswith("and pass the folder as --model DIR, or use --detector audioset: "
                                              "events only, with no SenseVoice model, fully offline)")
    assert "detector='audioset'" in str(err.value)  # the Python API's spelling
    assert "\n" not in str(err.value)


@case("Model and VAD", "the default model offline: neither cached nor a reachable hub",
      "exit 1 at once (no funasr import, no 40 s of hub retries): `cannot load model 'iic/SenseVoiceSmall': not "
      "found locally and the model hub could not be reached (... or use --detector audioset ...)`")
def test_an_unreachable_hub_fails_at_once_before_funasr_is_imported(tmp_path, monkeypatch):
    """Offline, the hub's model (and fsmn-vad's, without the bundled folder) fail on a two-second probe
    of the hub, before funasr is imported: funasr's own download retried for about 40 s. A cached copy
    skips the probe, and behind a proxy only funasr can tell, so the probe says yes."""
    code = ("import sys, time\n"
            "from mediatagger import model\n"
            "from mediatagger.errors import ModelLoadError\n"
            "for name, load in (('iic/SenseVoiceSmall', model.load_sensevoice), "
            "('fsmn-vad', lambda n: model._auto_model(n, 'cpu', False, 'hint'))):\n"
            "    started = time.monotonic()\n"
            "    try:\n"
            "        load(name)\n"
            "    except ModelLoadError as exc:\n"
            "        print(round(time.monotonic() - started, 1), 'funasr' in sys.modules, exc)\n")
    env = {**os.environ, "MODELSCOPE_CACHE": str(tmp_path / "cache")}
    env = {k: v for k, v in env.items() if k not in model.PROXY_VARIABLES}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout + done.stderr
    for line, name in zip(lines, ("iic/SenseVoiceSmall", "fsmn-vad")):
        seconds, imported, message = line.split(" ", 2)
        assert float(seconds) <= model.HUB_PROBE_S + 0.5 and imported == "False", line
        assert message.startswith(f"cannot load model '{name}': not found locally and the model hub could not be "
                                  "reached"), line
    cached = tmp_path / "cache" / "models" / "iic" / "speech_fsmn_vad_zh-cn-16k-common-pytorch"
    cached.mkdir(parents=True)
    (cached / "configuration.json").write_text("{}")
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "cache"))
    assert model.hub_cached("fsmn-vad") and not model.hub_cached("iic/SenseVoiceSmall")
    for variable in model.PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    assert not model.hub_reachable() and not model.hub_reachable("127.0.0.1", 0.5)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert model.hub_reachable()


def test_batches_are_longest_first_and_within_budget():
    regions = [(0, 1000), (0, 5000), (0, 3000), (0, 3000), (0, 500)]
    order = sorted(range(5), key=lambda i: regions[i][1], reverse=True)
    batches = list(head.batches(order, regions, budget_ms=6000))
    assert batches == [[1], [2, 3], [0, 4]]  # padded to the longest: 5000, 2 x 3000, 2 x 1000
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3, 4]


def test_word_times_come_from_the_ctc_path(tiny_model, talk_audio):
    sv = model.load_sensevoice(str(tiny_model))
    speech = [i for i in truth(TALK) if i["label"] == "SPEECH"]
    for item, tagged in zip(speech, sv.tag(talk_audio, [(i["start_ms"], i["end_ms"]) for i in speech], "auto",
                                            False, words=True)):
        length = item["end_ms"] - item["start_ms"]
        assert tagged.words, tagged.raw
        assert all(0 <= s < e <= length + 60 for s, e, _ in tagged.words)
        assert [w[0] for w in tagged.words] == sorted(w[0] for w in tagged.words)
        assert " ".join(w for _, _, w in tagged.words) == tags.parse_rich(tagged.raw).text


def test_query_probabilities_are_distributions(tiny_model, talk_audio):
    sv = model.load_sensevoice(str(tiny_model))
    (tagged,) = sv.tag(talk_audio, [(4000, 6500)], "auto", True)  # the laugh
    events = {k: v for k, v in tagged.probs.items() if k in (*tags.EVENTS, "SPEECH", "EVENT_UNK")}
    emotions = {k: v for k, v in tagged.probs.items() if k in (*tags.EMOTIONS, "EMO_UNKNOWN")}
    assert sum(events.values()) == pytest.approx(1.0) and sum(emotions.values()) == pytest.approx(1.0)
    assert max(events, key=events.get) == "LAUGHTER" and max(emotions, key=emotions.get) == "EMO_UNKNOWN"


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_forward_pass_is_funasrs_inference(tiny_model, precision):
    """The backend runs SenseVoice's modules itself (no log-softmax over the vocabulary, no CTC
    projection of every frame for the scan); text and query logits must be what funasr's own
    ``generate`` gives and throws away, on every held-out item, batched as the pipeline batches.
    (funasr's frontend dithers with unseeded noise; both sides go without it here.)"""
    sv = model.load_sensevoice(str(tiny_model), precision=precision)
    sv.dither, frontend = 0.0, sv.auto.kwargs["frontend"]  # funasr's own copy dithers
    vocab = sv.vocabulary()
    for path in sorted((SAMPLES / "heldout").glob("*.mp4")):
        audio = media.extract_audio(media.probe(path), 0)
        clips = [audio[i["start_ms"] * 16:i["end_ms"] * 16] for i in truth(path)]
        for itn, language in ((True, "auto"), (False, "en")):
            captured: list = []
            hook = sv.auto.model.ctc.ctc_lo.register_forward_hook(lambda m, i, o, seen=captured: seen.append(o))
            try:
                theirs = sv.auto.generate(input=clips, batch_size=len(clips), language=language, use_itn=itn,
                                          disable_pbar=True, frontend=frontend)
            finally:
                hook.remove()
            ours = sv.run(clips, language, itn, text=True, words=False)
            assert [t.raw for t in ours] == [r["text"] for r in theirs]
            expected = head.class_probs(captured[0].detach().numpy(), vocab.classes)
            assert all(a.probs == pytest.approx(b, abs=1e-5) for a, b in zip(ours, expected))
            alone = sv.run(clips, language, itn, text=False, words=False)  # the scan's way: queries only
            if precision == "fp32":
                assert all(a.probs == pytest.approx(b.probs, abs=1e-5) for a, b in zip(alone, ours))
                assert all(b.raw.startswith(a.raw) for a, b in zip(alone, ours))
            else:
                assert all(same_tags(a.probs, b.probs) for a, b in zip(alone, ours))


def same_tags(a: dict[str, float], b: dict[str, float]) -> bool:
    """What int8 can promise whatever the CPU: dynamic quantisation scales each activation tensor by the
    rows it is given, so the scan's queries-only batch and the text pass differ in the last bits of
    every layer (0.020 on one machine, 0.022 on another, on this set); users rely on the same tags:
    the same likeliest event and emotion, and no probability moved by as much as the 0.15 between the
    default on and off levels (0.5 and 0.35), so no span starts or ends because of it."""
    def top(probs: dict[str, float], labels: tuple[str, ...]) -> str:
        return max((k for k in probs if k in labels), key=probs.__getitem__)

    events, emotions = (*tags.EVENTS, "SPEECH", "EVENT_UNK"), (*tags.EMOTIONS, "EMO_UNKNOWN")
    return (top(a, events) == top(b, events) and top(a, emotions) == top(b, emotions)
            and max(abs(a[k] - b[k]) for k in a) < 0.15)


def test_the_same_audio_gets_the_same_tags_whatever_its_batch(tiny_model):
    """funasr's frontend dithers with fresh random noise each call; mediatagger seeds it per clip, so
    a rerun gives the same bytes and a region's tags do not depend on the regions batched with it."""
    sv = model.load_sensevoice(str(tiny_model))
    path = sorted((SAMPLES / "heldout").glob("*.mp4"))[0]
    audio = media.extract_audio(media.probe(path), 0)
    regions = [(i["start_ms"], i["end_ms"]) for i in truth(path)]
    first, again = (sv.tag(audio, regions, "auto", True, words=True) for _ in range(2))
    assert first == again
    alone = [sv.tag(audio, [r], "auto", True)[0] for r in regions]
    assert [a.raw for a in alone] == [f.raw for f in first]
    assert all(a.probs == pytest.approx(f.probs, abs=1e-4) for a, f in zip(alone, first))


def test_weights_assigned_as_read_are_funasrs_weights(tiny_model):
    """mediatagger assigns the checkpoint's tensors itself (funasr's loader holds three copies of a
    model at once); the model must come out exactly as funasr's own loader makes it."""
    import funasr
    import torch

    ours = model.load_sensevoice(str(tiny_model)).auto.model.state_dict()
    theirs = funasr.AutoModel(model=str(tiny_model), device="cpu", disable_update=True).model.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_a_checkpoint_of_another_layout_goes_through_funasrs_loader(tiny_model, tmp_path):
    import shutil

    import torch

    folder = tmp_path / "nested"
    shutil.copytree(tiny_model, folder)
    weights = torch.load(folder / "model.pt", map_location="cpu")
    torch.save({"state_dict": {f"module.{k}": v for k, v in weights.items()}, "epoch": 3}, folder / "model.pt")
    loaded = model.load_sensevoice(str(folder)).auto.model.state_dict()
    assert all(torch.equal(loaded[k], weights[k]) for k in weights)
