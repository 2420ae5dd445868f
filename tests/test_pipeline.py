"""The pipeline in process, with the real tiny model, real silero-vad and real ffmpeg."""


import pytest

from mediatagger import media
from mediatagger.errors import MediaTaggerError
from tests.conftest import TWO_TRACKS

pytestmark = pytest.mark.slow


def test_a_failed_decode_is_raised_where_its_audio_is_needed():
    info = media.probe(TWO_TRACKS)
    with media.AudioStream(info, 7) as stream, pytest.raises(MediaTaggerError, match="cannot decode audio track 7"):
        list(stream)

