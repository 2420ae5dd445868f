"""What a recording under way shows: the chosen text outputs rewritten from what is known so far, and
``<stem>.live.jsonl``, a line per span once it can no longer change, and a last line saying how the
recording ended."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mediatagger import files, tags
from mediatagger.analysis import Analysis
from mediatagger.exporters import EXPORTERS
from mediatagger.follow.recording import COMPLETE
from mediatagger.presets import Preset
from mediatagger.stream import TrackStream


@dataclass(frozen=True)
class LiveSpan:
    """A span found while following, as a line of ``<stem>.live.jsonl``."""

    track: int
    kind: str
    label: str
    start_ms: int
    end_ms: int
    score: float | None

    def line(self) -> str:
        return json.dumps({"track": self.track, "kind": self.kind, "label": self.label,
                           "name": tags.label_name(self.label), "start_ms": self.start_ms, "end_ms": self.end_ms,
                           "score": self.score}, ensure_ascii=False)


Heard = Callable[[LiveSpan], None]


class Live:
    """The outputs of a recording under way: the chosen text outputs rewritten from what is known so
    far, and ``<stem>.live.jsonl``, a line per span once it can no longer change."""

    def __init__(self, out_dir: Path, stem: str, names: list[str], preset: Preset, heard: Heard | None,
                 refreshed: Callable[[Analysis], None] | None = None):
        self.out_dir, self.stem, self.names, self.preset, self.heard = out_dir, stem, names, preset, heard
        self.refreshed = refreshed
        self.path = out_dir / f"{stem}.live.jsonl"
        self.told: set[LiveSpan] = set()
        spans = preset.spans
        self.margin = spans.merge_gap_ms + 2 * spans.pad_ms + 4 * max(preset.scan.grid_ms, 240)

    def refresh(self, doc: Analysis, heard: list[TrackStream]) -> None:
        for name in (n for n in self.names if EXPORTERS[n].fits(doc)):   # chapters once 30 s have come
            files.write_text(EXPORTERS[name].path(self.out_dir, self.stem), EXPORTERS[name].to_string(doc, self.preset))
        settled = {h.index: h.settled_ms() - self.margin for h in heard}
        self._tell(doc, lambda span: span.end_ms <= settled[span.track])
        if self.refreshed is not None:
            self.refreshed(doc)

    def end(self, doc: Analysis, ending: str, said: str) -> None:
        """Every span not yet told, and how the recording ended."""
        self._tell(doc, lambda span: True)
        files.append_line(self.path, json.dumps({"ended": ending, "complete": ending in COMPLETE, "said": said,
                                                 "duration_ms": doc.source.duration_ms}))

    def _tell(self, doc: Analysis, settled: Callable[[LiveSpan], bool]) -> None:
        found = [LiveSpan(s.track, kind, s.label, s.start_ms, s.end_ms, s.score)
                 for kind in ("events", "emotions") for s in doc.spans(kind)]
        for span in sorted((s for s in found if s not in self.told and settled(s)), key=lambda s: s.start_ms):
            self.told.add(span)
            files.append_line(self.path, span.line())
            if self.heard is not None:
                self.heard(span)
