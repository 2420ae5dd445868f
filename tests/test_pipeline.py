"""The pipeline in process, with the real tiny model, real silero-vad and real ffmpeg."""

import time

import pytest

from mediatagger import api, media, pipeline
from tests.conftest import TWO_TRACKS

pytestmark = pytest.mark.slow


def test_the_next_track_decodes_while_this_one_is_tagged(tiny_model, monkeypatch):
    decoding: dict[int, tuple[float, float]] = {}
    real = media.extract_audio

    def timed(info, track, progress=None):  # the real ffmpeg decode, with its start and end noted
        start = time.monotonic()
        audio = real(info, track, progress)
        decoding[track] = (start, time.monotonic())
        return audio

    monkeypatch.setattr(media, "extract_audio", timed)
    stages: dict[str, list[float]] = {}
    tagger = api.Tagger(model=str(tiny_model), vad="silero")
    result = tagger.tag(TWO_TRACKS, tracks="all",
                        progress=lambda e: stages.setdefault(e.stage, []).append(time.monotonic()))
    assert [t.index for t in result.tracks] == [0, 1] and len(result.tracks[1].events) == 2
    tag_track_0 = stages["tag track 0"]
    assert decoding[1][0] < tag_track_0[-1], "track 1 started decoding only after track 0 was tagged"
    assert decoding[0][1] <= decoding[1][0]  # the first track is decoded first, on its own


def test_a_failed_background_decode_is_raised_where_its_audio_is_needed(tmp_path):
    info = media.probe(TWO_TRACKS)
    background = pipeline.Background(media.extract_audio, info, 7)
    with pytest.raises(Exception, match="cannot decode audio track 7"):
        background.result()
