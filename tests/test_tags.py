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
