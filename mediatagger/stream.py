"""A track analysed as its audio comes: a chunk at a time, so memory does not grow with its length.

``TrackStream.feed`` takes blocks of 16 kHz audio (from a file being read, or a recording still being
written). SenseVoice's side works a chunk at a time: each chunk ends at the quietest 100 ms of its last
quarter (``vad.quiet_cut``, on the curves' grid), and runs as a short file would (VAD, tagging, the scan
of the gaps and its refinement); its segments and curves are appended to the track's. The AudioSet
detector hears the same blocks a minute at a time (``audioset.Heard``), exactly as it hears a whole
track. ``finish`` gives the ``TrackResult``; ``so_far`` what is known before the end. Only chunks are
held: the spans are derived from the whole curves at the end, so a laugh that straddles a chunk's end
is one span.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mediatagger import scan, tags, vad
from mediatagger.analysis import Segment, TrackResult, Word
from mediatagger.head import AudioTagger, Models, SpeechDetector, Tagged
from mediatagger.media import SAMPLE_RATE
from mediatagger.presets import Preset


@dataclass(frozen=True)
class Listened:
    """What SenseVoice found in one chunk, on the chunk's own clock."""

    segments: tuple[Segment, ...]
    curves: scan.Curves


class TrackStream:
    """Track ``index`` analysed with ``models`` as its audio is fed to it."""

    def __init__(self, index: int, preset: Preset, models: Models):
        self.index, self.preset, self.models = index, preset, models
        self.chunk = preset.scan.chunk_ms * SAMPLE_RATE // 1000
        self.align = preset.scan.grid_ms * SAMPLE_RATE // 1000
        self.pending, self.start, self.total = np.zeros(0, np.float32), 0, 0   # samples
        self.segments: list[Segment] = []
        self.values: dict[str, np.ndarray] = {}   # SenseVoice's curves so far, in arrays grown by doubling
        self.points = 0                            # ... of which this many points are filled
        self.joins: list[int] = []   # where one chunk ended and the next began (ms)
        self.heard = models.audioset.stream(preset.events.extra_labels()) if models.audioset is not None else None

    def feed(self, block: np.ndarray) -> None:
        self.total += len(block)
        if self.heard is not None:
            self.heard.feed(block)
        if self.models.sensevoice is None:
            return
        self.pending = block if not len(self.pending) else np.concatenate([self.pending, block])
        while len(self.pending) > self.chunk:
            cut = vad.quiet_cut(self.pending[:self.chunk], self.align)
            self._listen(self.pending[:cut])
            self.pending, self.start = self.pending[cut:].copy(), self.start + cut
            self.joins.append(self.start * 1000 // SAMPLE_RATE)

    @property
    def fed_ms(self) -> int:
        return self.total * 1000 // SAMPLE_RATE

    def settled_ms(self) -> int:
        """Up to where the curves can no longer change: the chunks SenseVoice has done, the minutes the
        AudioSet detector has heard."""
        done = [self.start * 1000 // SAMPLE_RATE] if self.models.sensevoice is not None else []
        return min(done + ([self.heard.heard_ms()] if self.heard is not None else []), default=0)

    def finish(self) -> TrackResult:
        """The track's result, once its audio has all come."""
        if self.models.sensevoice is not None and (len(self.pending) or not self.values):
            self._listen(self.pending)
            self.start += len(self.pending)
            self.pending = np.zeros(0, np.float32)
        return self._result(self.heard.finish() if self.heard is not None else None)

    def so_far(self) -> TrackResult:
        """What is known of the track before its end: the chunks done (their curves padded with nothing
        up to the audio fed), what the AudioSet detector heard of all of it."""
        return self._result(self.heard.so_far() if self.heard is not None else None)

    def _result(self, audioset: scan.Curves | None) -> TrackResult:
        duration = self.fed_ms
        curves = None
        if self.models.sensevoice is not None:
            points = max(1, -(-duration // self.preset.scan.grid_ms))
            labels = self.values or dict.fromkeys((*tags.EVENTS, tags.SPEECH, *tags.EMOTIONS), np.zeros(0, np.uint8))
            curves = scan.Curves(self.preset.scan.grid_ms, {label: padded(values[:self.points], points)
                                                            for label, values in labels.items()})
        return TrackResult(self.index, tuple(self.segments), curves=curves, duration_ms=duration, audioset=audioset)

    def _listen(self, audio: np.ndarray) -> None:
        assert self.models.sensevoice is not None
        found = listen(audio, self.preset, self.models.sensevoice, self.models.vad)
        offset = self.start * 1000 // SAMPLE_RATE
        self.segments += [shifted(s, offset) for s in found.segments]
        self._append(found.curves)

    def _append(self, curves: scan.Curves) -> None:
        """A chunk's curves after those before it (each chunk but the last is a whole number of points)."""
        for label, values in curves.values.items():
            have = self.values.get(label, np.zeros(0, np.uint8))
            if self.points + len(values) > len(have):
                grown = np.zeros(max(2 * len(have), self.points + len(values), 1024), np.uint8)
                grown[:self.points] = have[:self.points]
                have = self.values[label] = grown
            have[self.points:self.points + len(values)] = values
        self.points += len(next(iter(curves.values.values())))


def padded(values: np.ndarray, points: int) -> np.ndarray:
    """``values`` cut or padded with zeros to ``points`` (a copy)."""
    out = np.zeros(points, np.uint8)
    out[:min(points, len(values))] = values[:points]
    return out


def shifted(segment: Segment, offset_ms: int) -> Segment:
    return replace(segment, start_ms=segment.start_ms + offset_ms, end_ms=segment.end_ms + offset_ms,
                   words=tuple(Word(w.start_ms + offset_ms, w.end_ms + offset_ms, w.text) for w in segment.words))


# --- one chunk ---------------------------------------------------------------------------------

def listen(audio: np.ndarray, preset: Preset, sensevoice: AudioTagger, detector: SpeechDetector | None) -> Listened:
    """SenseVoice on one stretch of audio: speech found and tagged, the gaps scanned, the curves."""
    opts = preset.model
    duration_ms = len(audio) * 1000 // SAMPLE_RATE
    regions = vad.speech_regions(audio, detector, preset.vad)
    tagged = sensevoice.tag(audio, regions, opts.language, opts.itn, opts.batch_seconds, words=True)
    segments = tuple(segment_from(s, e, t) for (s, e), t in zip(regions, tagged))
    windows = [scan.Window(s, e, t.probs, rank=0) for (s, e), t in zip(regions, tagged)]
    coarse: list[scan.Window] = []
    fine: list[scan.Window] = []
    if preset.scan.enabled:
        coarse, fine = scan_gaps(sensevoice, audio, windows, preset)
    grid = preset.scan.grid_ms
    # fine windows place event boundaries; a half-second of speech is too little to judge a feeling
    events = scan.curves(windows + coarse + fine, duration_ms, grid, (*tags.EVENTS, tags.SPEECH))
    emotions = scan.curves(windows + coarse, duration_ms, grid, tags.EMOTIONS)
    return Listened(segments, scan.Curves(grid, {**events.values, **emotions.values}))


def scan_gaps(sensevoice: AudioTagger, audio: np.ndarray, segments: list[scan.Window],
              preset: Preset) -> tuple[list[scan.Window], list[scan.Window]]:
    """Coarse windows over the gaps between speech segments, then (``scan.refine``) fine windows
    around the event boundaries the coarse pass shows; returns both, with their probabilities."""
    opts, duration_ms = preset.model, len(audio) * 1000 // SAMPLE_RATE

    def tag(spans: list[tuple[int, int]]) -> list[scan.Window]:
        out = sensevoice.tag(audio, spans, opts.language, opts.itn, opts.batch_seconds, text=False)
        return [scan.Window(s, e, t.probs) for (s, e), t in zip(spans, out)]

    gaps = scan.gaps(duration_ms, [(w.start_ms, w.end_ms) for w in segments])
    coarse = tag(vad.audible(audio, scan.tile(gaps, preset.scan.window_ms)))
    if not preset.scan.refine:
        return coarse, []
    curve = scan.curves(segments + coarse, duration_ms, preset.scan.grid_ms, tags.EVENTS)
    edges = scan.crossings(curve, tags.EVENTS, preset.spans.on_level)
    fine = scan.within(scan.fine_windows(edges, duration_ms, preset.scan), gaps, preset.scan.fine_window_ms // 2)
    return coarse, tag(fine)


def segment_from(start_ms: int, end_ms: int, tagged: Tagged) -> Segment:
    rich = tags.parse_rich(tagged.raw)
    words = tuple(Word(start_ms + s, start_ms + e, w) for s, e, w in tagged.words)
    return Segment(start_ms, end_ms, rich.language, rich.emotion, rich.event, rich.text, tagged.raw,
                   _score(tagged.probs, rich.emotion), _score(tagged.probs, rich.event), words)


def _score(probs: dict[str, float], label: str | None) -> float | None:
    return round(probs[label], 3) if label in probs else None
