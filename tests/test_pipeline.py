"""The pipeline in process, with the real tiny model, real silero-vad and real ffmpeg."""

import shutil
import time
from pathlib import Path

import pytest

from mediatagger import api, media, pipeline
from mediatagger.errors import MediaTaggerError
from tests.conftest import TALK, TWO_TRACKS

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


def test_the_next_file_decodes_while_this_one_is_tagged(tiny_model, monkeypatch, tmp_path):
    """With several inputs, the next file's first track decodes while this one is tagged; a file
    whose analysis can be reused is not decoded at all; an input that is not media is reported in
    its turn (its failed decode ahead is not) and the others are still tagged."""
    decoding: dict[str, tuple[float, float]] = {}
    real = media.extract_audio

    def timed(info, track, progress=None):
        start = time.time()
        audio = real(info, track, progress)
        decoding[Path(info.path).name] = (start, time.time())
        return audio

    inputs = [shutil.copy(TALK, tmp_path / name) for name in ("one.mp4", "two.mp4")]
    (tmp_path / "notes.mp4").write_text("not media")
    inputs.append(tmp_path / "notes.mp4")
    monkeypatch.setattr(media, "extract_audio", timed)
    tagger = api.Tagger(model=str(tiny_model), vad="silero")
    out = tmp_path / "out"
    done = list(tagger.run_all(inputs, out, ["json", "edl"]))
    assert [p.name for p, _ in done] == ["one.mp4", "two.mp4", "notes.mp4"]
    assert all(isinstance(d, list) and len(d) == 2 for _, d in done[:2])
    assert isinstance(done[2][1], MediaTaggerError) and "notes.mp4" in str(done[2][1])
    one_written = (out / "one.analysis.json").stat().st_mtime
    assert decoding["one.mp4"][1] <= decoding["two.mp4"][0] < one_written, "two.mp4 waited for one.mp4"
    decoding.clear()
    again = list(tagger.run_all(inputs[:2], out, ["json", "edl"]))
    assert [len(d) for _, d in again] == [2, 2] and decoding == {}  # both reused: nothing decoded


def test_a_failed_background_decode_is_raised_where_its_audio_is_needed(tmp_path):
    info = media.probe(TWO_TRACKS)
    background = pipeline.Background(media.extract_audio, info, 7)
    with pytest.raises(Exception, match="cannot decode audio track 7"):
        background.result()
