"""Choosing highlight clips from scored spans: the plan a reel is cut from (no ffmpeg here).

From the chosen labels' spans (at or above ``min_score``): pad each (pre-roll before a laugh, a
little after), join clips that overlap or lie within ``merge_gap_ms``, hold each between
``min_clip_ms`` and ``max_clip_ms`` (clips that then overlap, two clips of one laugh, become one),
score each by the ``rank`` rule, keep the best up to ``target_ms`` of footage (0: all), and order
them by time or by score. In and out points sit on frame starts.

Each clip says why it scored as it did (``Why``): its seconds of laughter and how sure they are, the
applause in the seconds after its last laugh, the swing of feeling from before its first laugh to
during the clip, and the line said just before the laugh (the setup). The rules:

  length    every span's score x seconds (the default: a long sure laugh beats a short doubtful one)
  laughs    seconds of laughter x their mean score
  reaction  laughs, plus the seconds of applause after, plus twice the swing of feeling
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from mediatagger.analysis import Analysis
from mediatagger.presets import ClipOptions
from mediatagger.timecode import frame_to_ms, ms_to_frame
from mediatagger.timeline import Span, join_close

RANKS = ("length", "laughs", "reaction")
AFTER_MS = 5000          # applause this soon after the last laugh is the audience's answer to it
BEFORE_MS = 10000        # the feeling before the first laugh: the emotion spans this long before it
SETUP_MS = 15000         # the setup: the last line said that ends this close before the laugh
CHEERFUL = ("HAPPY", "SURPRISED")
SETUP_CHARS = 80         # a setup line said in words is cut to this


@dataclass(frozen=True)
class Why:
    """What a clip's score is made of."""

    laughter_s: float        # seconds of laughter in the clip
    laughter_score: float    # their mean score (weighted by length; 0 without laughter)
    applause_after_s: float  # seconds of applause within AFTER_MS of the clip's last laugh (or its end)
    swing: float             # the cheerful share of feeling during the clip less that before its first laugh (0..1)
    setup: str               # the line said just before the first laugh ("" when none is near)
    laughter_db: float | None = None  # how loud the laughter is (RMS dBFS), measured from the sound by a cut


@dataclass(frozen=True)
class Clip:
    start_ms: int                 # in point on the source timeline (a frame start when there is video)
    end_ms: int                   # out point
    spans: tuple[Span, ...]       # the spans it was cut for
    first_frame: int | None = None
    frames: int | None = None     # exact video frames (None without video)
    seek: Fraction = Fraction(0)  # exact in point in seconds
    length: Fraction = Fraction(0)
    score: float = 0.0            # by the plan's rank rule
    why: Why | None = None        # what the score is made of

    @property
    def rank(self) -> float:
        """Score x duration of what it holds (seconds): a long sure laugh beats a short doubtful one."""
        return sum((s.score if s.score is not None else 0.5) * s.duration_ms / 1000 for s in self.spans)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def chosen_spans(analysis: Analysis, opts: ClipOptions) -> list[Span]:
    return [s for s in analysis.spans("events", opts.labels) if s.score is None or s.score >= opts.min_score]


def windows(spans: list[Span], opts: ClipOptions, duration_ms: int) -> list[Clip]:
    """Padded, joined windows, each with the spans it covers, held within min/max length."""
    padded = [(max(0, s.start_ms - opts.pad_before_ms), min(duration_ms, s.end_ms + opts.pad_after_ms))
              for s in spans]
    out = []
    for start, end in join_close(padded, opts.merge_gap_ms):
        inside = tuple(s for s in spans if s.start_ms < end and s.end_ms > start)
        out.append(fit(Clip(start, end, inside), opts, duration_ms))
    return out


def fit(clip: Clip, opts: ClipOptions, duration_ms: int) -> Clip:
    """Stretch a short clip evenly to ``min_clip_ms``; cut a long one to ``max_clip_ms`` from the
    pre-roll of its best span."""
    start, end = clip.start_ms, clip.end_ms
    if opts.max_clip_ms and end - start > opts.max_clip_ms:
        best = max(clip.spans, key=lambda s: (s.score or 0, s.duration_ms))
        start = max(start, min(best.start_ms - opts.pad_before_ms, end - opts.max_clip_ms))
        end = start + opts.max_clip_ms
    if end - start < opts.min_clip_ms:
        grow = opts.min_clip_ms - (end - start)
        start = max(0, start - grow // 2)
        end = min(duration_ms, start + opts.min_clip_ms)
        start = max(0, end - opts.min_clip_ms)
    spans = tuple(s for s in clip.spans if s.start_ms < end and s.end_ms > start)
    return Clip(start, end, spans)


def merged(clips: list[Clip], opts: ClipOptions, duration_ms: int) -> list[Clip]:
    """Clips that overlap once held to their lengths (two clips of one laugh) as one."""
    out: list[Clip] = []
    for clip in sorted(clips, key=lambda c: c.start_ms):
        if out and clip.start_ms < out[-1].end_ms:
            last = out.pop()
            spans = tuple(sorted(set(last.spans) | set(clip.spans)))
            clip = fit(Clip(last.start_ms, max(last.end_ms, clip.end_ms), spans), opts, duration_ms)
        out.append(clip)
    return out


def why_of(clip: Clip, analysis: Analysis) -> Why:
    """What ``clip`` holds that makes a highlight (see the module doc)."""
    laughs = [s for s in clip.spans if s.label == "LAUGHTER"]
    inside = [(min(s.end_ms, clip.end_ms) - max(s.start_ms, clip.start_ms), s.score) for s in laughs]
    seconds = sum(ms for ms, _ in inside) / 1000
    sure = sum(ms * (score if score is not None else 0.5) for ms, score in inside) / 1000 / seconds if seconds else 0.0
    first = min((s.start_ms for s in laughs), default=clip.start_ms)
    last = max((s.end_ms for s in laughs), default=clip.end_ms)
    applause = sum(min(s.end_ms, last + AFTER_MS) - max(s.start_ms, last)
                   for s in analysis.spans("events", ["APPLAUSE"]) if s.start_ms < last + AFTER_MS and s.end_ms > last)
    feeling = analysis.spans("emotions")
    swing = max(0.0, cheerful(feeling, clip.start_ms, clip.end_ms) - cheerful(feeling, first - BEFORE_MS, first))
    return Why(round(seconds, 3), round(sure, 3), round(applause / 1000, 3), round(swing, 3), setup(analysis, first))


def cheerful(spans: list[Span], start_ms: int, end_ms: int) -> float:
    """The share of the feelings heard from ``start_ms`` to ``end_ms`` that are cheerful (0 with none)."""
    heard = [(min(s.end_ms, end_ms) - max(s.start_ms, start_ms), s.label) for s in spans
             if s.start_ms < end_ms and s.end_ms > start_ms]
    total = sum(ms for ms, _ in heard)
    return sum(ms for ms, label in heard if label in CHEERFUL) / total if total else 0.0


def setup(analysis: Analysis, laugh_ms: int) -> str:
    """The last line said that ends at most SETUP_MS before ``laugh_ms`` (or runs into it)."""
    said = [s for _, s in analysis.segments() if s.start_ms < laugh_ms and s.end_ms >= laugh_ms - SETUP_MS
            and s.text.strip()]
    return " ".join(max(said, key=lambda s: s.start_ms).text.split()) if said else ""


def said(why: Why, durations: bool = True) -> str:
    """``why`` in words: ``2.5 s of laughter (0.93, -18.5 dBFS) · 1 s of applause after · feeling +0.40 · setup: "…"``
    (without ``durations``, for a page that shows times its own way: ``laughter (0.93) · applause after``)."""
    seconds = (lambda s: f"{s:g} s of ") if durations else (lambda s: "")
    loud = f", {why.laughter_db:g} dBFS" if why.laughter_db is not None else ""
    parts = [f"{seconds(why.laughter_s)}laughter ({why.laughter_score:.2f}{loud})" if why.laughter_s else "no laughter"]
    if why.applause_after_s:
        parts.append(f"{seconds(why.applause_after_s)}applause after")
    if why.swing:
        parts.append(f"feeling +{why.swing:.2f}")
    if why.setup:
        setup = why.setup if len(why.setup) <= SETUP_CHARS else why.setup[:SETUP_CHARS - 1].rstrip() + "\u2026"
        parts.append(f"setup: \u201c{setup}\u201d")
    return " \u00b7 ".join(parts)


def scored(clip: Clip, why: Why, rule: str) -> float:
    """The clip's score by ``rule`` (one of RANKS)."""
    laughs = why.laughter_s * why.laughter_score
    if rule == "laughs":
        return laughs
    if rule == "reaction":
        return laughs + why.applause_after_s + 2 * why.swing
    return clip.rank


def select(clips: list[Clip], opts: ClipOptions) -> list[Clip]:
    """The best clips up to ``target_ms`` (at least one), in time or score order."""
    ranked = sorted(clips, key=lambda c: (-c.score, c.start_ms))
    if opts.target_ms:
        kept: list[Clip] = []
        total = 0
        for clip in ranked:
            if not kept or total + clip.duration_ms <= opts.target_ms:
                kept.append(clip)
                total += clip.duration_ms
        ranked = kept
    return ranked if opts.order == "score" else sorted(ranked, key=lambda c: c.start_ms)


def framed(clip: Clip, first: int, last: int, fps: Fraction) -> Clip:
    """The clip from frame ``first`` up to (not including) frame ``last``, every form of its in and out set."""
    return replace(clip, start_ms=frame_to_ms(first, fps), end_ms=frame_to_ms(last, fps), first_frame=first,
                   frames=last - first, seek=first / fps, length=(last - first) / fps)


def on_frames(clip: Clip, fps: Fraction | None) -> Clip:
    """In and out moved to frame starts (the out point to the frame its time lies in), exact seconds kept."""
    if not fps:
        return replace(clip, seek=Fraction(clip.start_ms, 1000), length=Fraction(clip.duration_ms, 1000))
    first = ms_to_frame(clip.start_ms, fps)
    return framed(clip, first, max(ms_to_frame(clip.end_ms, fps), first + 1), fps)


def plan(analysis: Analysis, opts: ClipOptions) -> list[Clip]:
    """The clips to cut, in reel order, each with its score and why."""
    duration = analysis.source.duration_ms
    clips = merged(windows(chosen_spans(analysis, opts), opts, duration), opts, duration)
    whys = [why_of(c, analysis) for c in clips]
    clips = select([replace(c, why=w, score=scored(c, w, opts.rank)) for c, w in zip(clips, whys)], opts)
    return [on_frames(c, analysis.source.fps) for c in clips]
