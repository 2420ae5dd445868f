import pytest

from mediatagger import tags
from mediatagger.tags import label_name, parse_rich


def test_parse_real_sensevoice_output():
    rich = parse_rich("<|en|><|HAPPY|><|Speech|><|withitn|>So I told him no.")
    assert (rich.language, rich.emotion, rich.event, rich.itn, rich.text) == \
        ("en", "HAPPY", "SPEECH", True, "So I told him no.")


def test_unknowns_become_none():
    rich = parse_rich("<|nospeech|><|EMO_UNKNOWN|><|Event_UNK|><|woitn|>")
    assert (rich.language, rich.emotion, rich.event, rich.itn, rich.text) == (None, None, None, False, "")


def test_events_and_chinese_text():
    rich = parse_rich("<|zh|><|SAD|><|Laughter|><|woitn|>你好啊<|Laughter|>")
    assert (rich.language, rich.emotion, rich.event, rich.text) == ("zh", "SAD", "LAUGHTER", "你好啊")


def test_garbage_and_missing_tags_still_parse():
    assert parse_rich("plain text").text == "plain text"
    assert parse_rich("<|xx|>hi").language is None and parse_rich("<|xx|>hi").text == "hi"


def test_label_names():
    assert label_name("LAUGHTER") == "Laughter" and label_name("LAUGHTER", "zh") == "笑声"
    assert label_name("BGM") == "Music"


# The seed's examples of SenseVoice rich text: <|HAPPY|>你好啊<|Laughter|> in each form
@pytest.mark.parametrize("form,lang,expected", [
    ("raw", "zh", "<|HAPPY|>你好啊<|Laughter|>"),
    ("labels", "zh", "[开心] 你好啊 [笑声]"),
    ("labels", "en", "[Happy] 你好啊 [Laughter]"),
    ("emoji", "en", "😊 你好啊 😀"),
    ("html", "en", '<span class="emotion happy">你好啊</span> <span class="event laughter">Laughter</span>'),
    ("html", "zh", '<span class="emotion happy">你好啊</span> <span class="event laughter">笑声</span>'),
    ("plain", "en", "你好啊"),
])
def test_rich_text_forms(form, lang, expected):
    assert tags.rich_text("你好啊", "HAPPY", "LAUGHTER", form, lang) == expected


def test_rich_text_round_trips_through_the_raw_parser():
    raw = tags.rich_text("so I said", "SAD", "BGM", "raw")
    assert raw == "<|SAD|>so I said<|BGM|>"
    parsed = tags.parse_rich(raw)
    assert (parsed.emotion, parsed.event, parsed.text) == ("SAD", "BGM", "so I said")


def test_rich_text_leaves_out_speech_and_missing_tags_and_escapes_html():
    assert tags.rich_text("hi", "NEUTRAL", "SPEECH", "labels") == "[Neutral] hi"
    assert tags.rich_text("hi", None, None, "raw") == "hi"
    assert tags.rich_text("hi", "NEUTRAL", "SPEECH", "emoji") == "hi"  # SenseVoice has no neutral emoji
    assert tags.rich_text("a<b & c", None, "APPLAUSE", "html") == \
        'a&lt;b &amp; c <span class="event applause">Applause</span>'
