"""YouTube chapters: a list to paste into a video's description, a line per chapter (``0:00 Title``).

YouTube shows chapters only when the list keeps its rules: the first starts at 0:00, there are at least
three, each lasts at least 10 seconds, in order. A chapter starts at the best moment (the longest,
surest laughter, applause, music... span) of each stretch of about two minutes, at the moment's setup:
the start of the line said just before it, when that is near. Where that makes fewer than three, the
longest chapters are split at a line said near their middle. A chapter is titled by its moment's label
and the line it starts with (``Laughter: and then the goat ate the script``); the first by a moment in
its first seconds; one without a moment by its first line. Titles are one line, without ``<`` and ``>``
(YouTube refuses them in a description). A video shorter than 30 seconds cannot have chapters:
``UsageError`` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediatagger import tags
from mediatagger.analysis import Analysis, Segment
from mediatagger.errors import UsageError
from mediatagger.exporters.base import Exporter
from mediatagger.exporters.text import one_line
from mediatagger.presets import Preset
from mediatagger.timeline import Span

MIN_S = 10              # YouTube: each chapter at least this long
MIN_COUNT = 3           # ... and at least this many
EVERY_S = 120           # a chapter for each stretch this long (at most; three stretches in a short video)
SETUP_S = 20            # a moment's chapter starts at the line said this close before it
TITLE_CHARS = 80        # a title's words cut to this many characters (then "…")
EVENT_LABELS = ("LAUGHTER", "APPLAUSE", "BGM", "CRY")   # the moments that start chapters


@dataclass(frozen=True)
class Chapter:
    start_s: int        # whole seconds from the start: what the list says
    title: str


def to_string(analysis: Analysis, preset: Preset) -> str:
    return "".join(f"{clock(c.start_s, analysis.source.duration_ms)} {c.title}\n" for c in chapters(analysis))


def long_enough(analysis: Analysis) -> bool:
    return analysis.source.duration_ms // 1000 >= MIN_S * MIN_COUNT


def chapters(analysis: Analysis) -> list[Chapter]:
    """The chapters of ``analysis`` (``UsageError`` when its media is too short for any)."""
    length = analysis.source.duration_ms // 1000
    if not long_enough(analysis):
        raise UsageError(f"{analysis.source.path}: {length} s is too short for YouTube chapters "
                         f"(they need {MIN_COUNT} of at least {MIN_S} s)")
    lines = sorted((s for _, s in analysis.segments() if one_line(s.text)), key=lambda s: s.start_ms)
    starts: dict[int, str] = {0: ""}
    stretches, ranked = max(MIN_COUNT, length // EVERY_S), moments(analysis)
    for stretch in range(stretches):   # the best moment of each stretch, so chapters cover the whole show
        low, high = stretch * length // stretches, (stretch + 1) * length // stretches
        for span in ranked:
            at = setup(span, lines)
            if low <= at < high and (fits(at, starts, length) or (at < MIN_S and not starts[0])):
                starts[at if at >= MIN_S else 0] = title(span.label, said_at(at * 1000, lines))
                break
    while len(starts) < MIN_COUNT:
        split = split_point(sorted(starts), length, lines)
        if split is None:   # no chapter long enough to split: thirds
            starts = {0: starts[0], length // 3: "", 2 * length // 3: ""}
        else:
            starts[split] = title(None, said_at(split * 1000, lines))
    return [Chapter(at, starts[at] or title(None, said_at(at * 1000, lines), first=not at)) for at in sorted(starts)]


def moments(analysis: Analysis) -> list[Span]:
    """The event spans that start chapters, the most telling first (longest times surest)."""
    spans = analysis.spans("events", EVENT_LABELS)
    return sorted(spans, key=lambda s: (-(s.end_ms - s.start_ms) * (s.score or 0.5), s.start_ms))


def setup(span: Span, lines: list[Segment]) -> int:
    """Where ``span``'s chapter starts (whole seconds): the line said just before it, if near."""
    before = [s.start_ms for s in lines if span.start_ms - SETUP_S * 1000 <= s.start_ms <= span.start_ms]
    return (before[-1] if before else span.start_ms) // 1000


def fits(at: int, starts: dict[int, str], length: int) -> bool:
    return length - at >= MIN_S and all(abs(at - other) >= MIN_S for other in starts)


def split_point(starts: list[int], length: int, lines: list[Segment]) -> int | None:
    """A second in the middle part of the longest chapter (at a line's start when one is there) that
    leaves both halves at least MIN_S long; None when it is too short to split."""
    ends = [*starts[1:], length]
    begin, end = max(zip(starts, ends), key=lambda pair: pair[1] - pair[0])
    low, high = begin + MIN_S, end - MIN_S
    if low > high:
        return None
    said = [s.start_ms // 1000 for s in lines if low <= s.start_ms // 1000 <= high]
    middle = (begin + end) // 2
    return min(said, key=lambda at: abs(at - middle)) if said else middle


def said_at(ms: int, lines: list[Segment]) -> str:
    """The line being said at ``ms``, else the next one if it comes within SETUP_S."""
    for segment in lines:
        if segment.end_ms > ms:
            return one_line(segment.text) if segment.start_ms <= ms + SETUP_S * 1000 else ""
    return ""


def title(label: str | None, said: str, first: bool = False) -> str:
    """``Laughter: what was said``; a line alone; ``Start`` for a first chapter with nothing said."""
    words = shortened(said.replace("<", "").replace(">", ""))
    name = tags.label_name(label) if label else ""
    if name and words:
        return f"{name}: {words}"
    return name or words or ("Start" if first else "Part")


def shortened(text: str) -> str:
    text = one_line(text)
    if len(text) <= TITLE_CHARS:
        return text
    return text[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def clock(seconds: int, duration_ms: int) -> str:
    """``M:SS``, or ``H:MM:SS`` in a video of an hour or more (as YouTube writes them)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if duration_ms >= 3600_000 else f"{minutes + 60 * hours}:{secs:02d}"


EXPORTER = Exporter("chapters", ".chapters.txt", "YouTube chapters for a video's description", to_string,
                    long_enough)
