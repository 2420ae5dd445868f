"""Frame rates as exact fractions; milliseconds <-> frames <-> SMPTE timecode.

The rule for placing a time on a frame: a time maps to the last frame that starts at or before
it, where frame starts are themselves rounded to whole milliseconds (``frame_to_ms``). So
``ms_to_frame(frame_to_ms(n)) == n`` for every frame ``n``, and a span's start lands on the frame
that is on screen at that instant.

Drop-frame timecode is used for 30000/1001 and 60000/1001 only (``;`` before the frames).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from mediatagger.errors import UsageError

DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))
TIMECODE_MODES = ("auto", "df", "ndf")  # how marker files count 29.97/59.94: the source's way, drop, non-drop
AUDIO_ONLY_FPS = Fraction(25)  # the timeline rate markers and timecodes use for sources without video
TIMECODE = re.compile(r"^([0-9]{1,2}):([0-9]{2}):([0-9]{2})([:;.,])([0-9]{2,3})$")
# a number in outside text: 25, -0.5, 29.97, 1e3, 30000/1001, 1.5e-3/2 (ASCII digits only, no "_", "inf", "nan")
NUMBER_TEXT = re.compile(r"(?P<sign>[+-]?)(?P<whole>[0-9]*)(?:\.(?P<decimals>[0-9]*))?"
                         r"(?:[eE](?P<exponent>[+-]?[0-9]+))?(?:/(?P<denominator>[0-9]+))?")
MAX_DIGITS = 64             # digits in each part of such a number, and the largest power of ten its exponent names
MAX_NUMBER = 10**15         # the largest size of a number read from outside text, unless its reader says less
MAX_RATE = 1_000_000        # frames a second: beyond this a "rate" is a mistake (and slow to count with)
MAX_DURATION_MS = 1000 * 3600 * 1000
# the longest time a timeline may name, in seconds (115 days; a timecode day is 86,400 s): its frame count at
# any rate up to MAX_RATE stays below 2**53, so OpenTimelineIO's double-precision times hold it exactly
MAX_TIME_S = 10**7


def parse_rate(text: str | int | float | Fraction) -> Fraction:
    """``"30000/1001"``, ``"29.97"``, ``25`` -> an exact frame rate (NTSC decimals snap to x/1001)."""
    rate = text if isinstance(text, Fraction) else _rate(str(text).strip())
    if rate is None or not 0 < rate <= MAX_RATE:
        raise UsageError(f"not a frame rate: {_shown(text)}")
    ntsc = Fraction(round(rate * Fraction(1001, 1000)) * 1000, 1001)
    if ntsc and rate.denominator != 1001 and rate.denominator != 1 and abs(rate - ntsc) < Fraction(1, 100):
        return ntsc
    return rate


def _rate(text: str) -> Fraction | None:
    """A rate's text as a fraction, or None."""
    try:
        return parse_fraction(text, "the frame rate", max_abs=MAX_RATE)
    except UsageError:
        return None


def parse_fraction(text: str, what: str = "the value", max_abs: int | Fraction = MAX_NUMBER,
                   max_digits: int = MAX_DIGITS, suffix: str = "") -> Fraction:
    """A number read from outside text (``25``, ``-0.5``, ``1e3``, ``1001/30000``; then ``suffix``, as the
    ``s`` of FCPXML's ``1001/30000s``) as an exact fraction, or a ``UsageError`` naming ``what``. Its form
    and the size of each part are checked before any arithmetic: ``Fraction("1e99999999")`` would build a
    hundred-million-digit integer and never end. Refused: more than ``max_digits`` digits in a part, a
    power of ten beyond ``10**max_digits`` either way, a size beyond ``max_abs``, a zero denominator."""
    shown = _shown(text)
    body = text.strip() if isinstance(text, str) and len(text) <= 4 * max_digits + 8 else None
    if body is None or not body.endswith(suffix):
        raise UsageError(f"{what} is not a number: {shown}")
    match = NUMBER_TEXT.fullmatch(body[:len(body) - len(suffix)])
    if match is None or not (match["whole"] or match["decimals"]) or not (match["denominator"] or "1").strip("0"):
        raise UsageError(f"{what} is not a number: {shown}")
    value = _exact(match, max_digits)
    if value is None:
        raise UsageError(f"{what} is out of range: {shown} (more than {max_digits} digits, or a power of ten "
                         f"beyond 10^±{max_digits})")
    if abs(value) > max_abs:
        raise UsageError(f"{what} is out of range: {shown} (at most {max_abs}{suffix} either way)")
    return value


def _exact(match: re.Match[str], max_digits: int) -> Fraction | None:
    """The matched number's value, or None when a part is too long or its power of ten too large."""
    whole, decimals, denominator = match["whole"], match["decimals"] or "", match["denominator"] or "1"
    exponent = match["exponent"] or "0"
    if max(len(whole + decimals), len(denominator), len(exponent.lstrip("+-"))) > max_digits \
            or abs(int(exponent)) > max_digits:
        return None
    power = int(exponent) - len(decimals)
    value = Fraction(int(whole + decimals or "0") * 10 ** max(power, 0), 10 ** max(-power, 0) * int(denominator))
    return -value if match["sign"] == "-" else value


def parse_int(text: str, what: str = "the value", max_abs: int = MAX_NUMBER) -> int:
    """``parse_fraction`` for a count: a whole number (``3``, ``-1``, ``1e2``) or a ``UsageError``."""
    value = parse_fraction(text, what, max_abs)
    if value.denominator != 1:
        raise UsageError(f"{what} is not a whole number: {_shown(text)}")
    return int(value)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 1000 else "a huge number"
    return text if len(text) <= 60 else text[:59] + "…"


def rate_of(value: float) -> Fraction:
    """An OpenTimelineIO rate (a float: 29.97002997...) as the exact rate it stands for."""
    if not math.isfinite(value):
        raise UsageError(f"not a frame rate: {value!r}")
    return parse_rate(Fraction(value).limit_denominator(1001))


def frames_at(time: Any, rate: Fraction) -> int:
    """An OpenTimelineIO RationalTime as whole frames at ``rate`` (exact when it is on that rate's grid)."""
    if not math.isfinite(time.value):
        raise UsageError(f"not a time: {time.value!r} frames")
    own = rate_of(time.rate)
    if abs(Fraction(time.value) / own) > MAX_TIME_S:   # beyond it a double holds no exact frame count
        raise UsageError(f"a time out of range: {time.value!r} frames at {format_rate(own)} fps "
                         f"(at most {MAX_TIME_S} s)")
    return round(Fraction(time.value).limit_denominator(1000) / own * rate)


def format_rate(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def is_drop_frame(rate: Fraction) -> bool:
    return rate in DROP_FRAME_RATES


def nominal(rate: Fraction) -> int:
    """Frames per timecode second: 30 for 29.97, 24 for 23.976 (1 below 1.5)."""
    return max(1, round(rate))


def frame_to_ms(frame: int, rate: Fraction) -> int:
    """Start of ``frame`` in whole milliseconds (rounded half up)."""
    return math.floor(Fraction(frame * 1000) / rate + Fraction(1, 2))


def ms_to_frame(ms: int, rate: Fraction) -> int:
    """The last frame that starts at or before ``ms`` (see the module rule)."""
    frame = math.floor(Fraction(ms) * rate / 1000)
    while frame_to_ms(frame + 1, rate) <= ms:
        frame += 1
    while frame > 0 and frame_to_ms(frame, rate) > ms:
        frame -= 1
    return frame


def snap_ms(ms: int, rate: Fraction) -> int:
    """``ms`` moved back to the start of its frame."""
    return frame_to_ms(ms_to_frame(ms, rate), rate)


def counts_drop_frame(rate: Fraction, drop: bool | None = None) -> bool:
    """Whether timecode at ``rate`` is counted drop-frame: ``drop=None`` means exactly at 29.97 and
    59.94; ``drop=False`` counts those rates non-drop-frame (what a reader that knows only ``:`` needs)."""
    return is_drop_frame(rate) and drop is not False


def _drop_per_minute(rate: Fraction, drop: bool | None) -> int:
    """Frame numbers skipped each minute: 2 at 29.97 DF, 4 at 59.94 DF, else 0."""
    return nominal(rate) // 15 if counts_drop_frame(rate, drop) else 0


def frames_to_tc(frame: int, rate: Fraction, drop: bool | None = None) -> str:
    """Frame count -> ``HH:MM:SS:FF`` (``HH:MM:SS;FF`` drop-frame at 29.97/59.94)."""
    fps, skip = nominal(rate), _drop_per_minute(rate, drop)
    if skip:
        per_10min = fps * 600 - skip * 9
        per_min = fps * 60 - skip
        tens, rest = divmod(frame, per_10min)
        frame += skip * 9 * tens + (skip * ((rest - skip) // per_min) if rest > skip else 0)
    ff, seconds = frame % fps, frame // fps
    hh, mm, ss = (seconds // 3600) % 24, (seconds // 60) % 60, seconds % 60
    return f"{hh:02d}:{mm:02d}:{ss:02d}{';' if skip else ':'}{ff:02d}"


def tc_to_frames(tc: str, rate: Fraction, drop: bool | None = None) -> int:
    """``HH:MM:SS:FF`` or ``HH:MM:SS;FF`` -> frame count at ``rate`` (``drop`` as in ``frames_to_tc``)."""
    match = TIMECODE.match(tc.strip())
    if not match:
        raise UsageError(f"not a timecode: {_shown(tc)} (expected HH:MM:SS:FF)")
    hh, mm, ss, _, ff = match.groups()
    fps, skip = nominal(rate), _drop_per_minute(rate, drop)
    if int(mm) > 59 or int(ss) > 59 or int(ff) >= fps:
        raise UsageError(f"not a timecode at {format_rate(rate)} fps: {_shown(tc)}")
    minutes = int(hh) * 60 + int(mm)
    return (minutes * 60 + int(ss)) * fps + int(ff) - skip * (minutes - minutes // 10)


def ms_to_tc(ms: int, rate: Fraction, start_frame: int = 0) -> str:
    return frames_to_tc(start_frame + ms_to_frame(ms, rate), rate)


_DURATION = re.compile(r"^(?:([0-9]+)h)?(?:([0-9]+)m(?!s))?(?:([0-9]+(?:\.[0-9]+)?)s)?(?:([0-9]+)ms)?$")


def parse_duration(text: str) -> int:
    """``60s``, ``1m30s``, ``90``, ``1:30``, ``1:00:00``, ``500ms`` -> milliseconds (1000 hours at most)."""
    text = text.strip().lower()
    try:
        ms = _duration_ms(text) if len(text) <= 64 else None
    except UsageError:
        ms = None
    if ms is None or not 0 <= ms <= MAX_DURATION_MS:
        raise UsageError(f"not a duration: {_shown(text)} (e.g. 60s, 1m30s, 1:30; 1000h at most)")
    return ms


def _duration_ms(text: str) -> int | None:
    """``text`` (lower case, at most 64 characters) in milliseconds, or None (or a UsageError)."""
    if ":" in text:
        parts = [_amount(p) for p in text.split(":")]
        if len(parts) > 3 or any(p < 0 for p in parts):
            return None
        return round(sum(p * 60 ** i for i, p in enumerate(reversed(parts))) * 1000)
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return round(_amount(text) * 1000)
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        return None
    h, m, s, ms = (_amount(part or "0") for part in match.groups())
    return round(((h * 60 + m) * 60 + s) * 1000 + ms)


def _amount(text: str) -> Fraction:
    return parse_fraction(text, "a duration", max_abs=MAX_DURATION_MS)


def clock(ms: int, hours: bool = False, tenths: bool = True) -> str:
    """A time as a player counts it, for pages (the console, the summary): ``M:SS.s`` from the start of
    the media (``H:MM:SS.s`` with ``hours``; without ``tenths``, whole seconds). Frames and start
    timecodes are the exports' business (EDL, FCPXML), not a page's."""
    tenth = round(max(ms, 0) / 100) if tenths else round(max(ms, 0) / 1000) * 10
    h, rest = divmod(tenth, 36_000)
    m, rest = divmod(rest, 600)
    s, t = divmod(rest, 10)
    shown = f"{h}:{m:02d}:{s:02d}" if hours else f"{h * 60 + m}:{s:02d}"
    return f"{shown}.{t}" if tenths else shown
