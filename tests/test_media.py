from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from mediatagger import media
from mediatagger.errors import FFmpegError, MediaError, TrackError
from tests.conftest import TALK, TWO_TRACKS, ffmpeg, truth


def imageio_ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def test_probe_mp4_has_exact_ntsc_rate_and_one_track():
    info = media.probe(TALK)
    assert info.fps == Fraction(30000, 1001) and info.fps_text == "30000/1001"
    assert (info.width, info.height) == (640, 360)
    assert abs(info.duration_ms - 20000) <= 50
    assert info.start_timecode is None
    (track,) = info.audio_tracks
    assert (track.index, track.codec, track.channels, track.sample_rate, track.language) == \
        (0, "aac", 2, 48000, "eng")


def test_probe_mov_has_two_tracks_titles_and_timecode():
    info = media.probe(TWO_TRACKS)
    assert info.fps == Fraction(25)
    assert info.start_timecode == "10:00:00:00"
    assert [(t.index, t.language, t.title) for t in info.audio_tracks] == \
        [(0, "eng", "Dialogue"), (1, None, "Audience")]


@pytest.mark.parametrize("sample", [TALK, TWO_TRACKS])
def test_probe_with_imageio_ffmpeg_alone_matches(sample, monkeypatch):
    """A pip-only machine has imageio-ffmpeg's ffmpeg and no ffprobe: probing must still work."""
    monkeypatch.setenv("MEDIATAGGER_FFMPEG", imageio_ffmpeg_exe())
    assert media.find_ffmpeg() == imageio_ffmpeg_exe()
    info = media.probe(sample)
    monkeypatch.delenv("MEDIATAGGER_FFMPEG")
    assert info == media.probe(sample)


def test_find_ffmpeg_prefers_env_then_path(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIATAGGER_FFMPEG", "/opt/custom/ffmpeg")
    assert media.find_ffmpeg() == "/opt/custom/ffmpeg"
    monkeypatch.delenv("MEDIATAGGER_FFMPEG")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on PATH: imageio-ffmpeg's
    assert media.find_ffmpeg() == imageio_ffmpeg_exe()


def test_extract_is_16k_mono_float32_of_full_length():
    info = media.probe(TALK)
    seen = []
    audio = media.extract_audio(info, 0, seen.append)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / media.SAMPLE_RATE - 20.0) < 0.05
    assert seen and abs(seen[-1] - 20.0) < 0.05


def rms(audio: np.ndarray, start_ms: int, end_ms: int) -> float:
    return float(np.sqrt(np.mean(audio[start_ms * 16:end_ms * 16] ** 2)))


def test_extract_picks_the_asked_track():
    """Laughter is only on the audience track (1) of the MOV; the dialogue track is quiet there."""
    info = media.probe(TWO_TRACKS)
    laugh = next(i for i in truth(TWO_TRACKS) if i["label"] == "LAUGHTER")
    dialogue, audience = (media.extract_audio(info, t) for t in (0, 1))
    assert rms(audience, laugh["start_ms"], laugh["end_ms"]) > 0.02
    assert rms(dialogue, laugh["start_ms"], laugh["end_ms"]) < 0.002


def test_select_tracks():
    info = media.probe(TWO_TRACKS)
    assert media.select_tracks(info, "all") == [0, 1]
    assert media.select_tracks(info, 1) == [1]
    with pytest.raises(TrackError, match=r"no audio track 5: the file has 2 audio tracks \(0-1\)$"):
        media.select_tracks(info, 5)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(MediaError, match="no such file"):
        media.probe(tmp_path / "nope.mp4")
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(MediaError, match="file is empty"):
        media.probe(empty)


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n")
    with pytest.raises(FFmpegError, match="not a media file ffmpeg can read"):
        media.probe(fake)


def test_video_without_audio(tmp_path: Path):
    silent = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=24:duration=1", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", silent)
    info = media.probe(silent)
    assert info.audio_tracks == () and info.fps == 24
    with pytest.raises(MediaError, match="has no audio stream"):
        media.select_tracks(info, 0)
