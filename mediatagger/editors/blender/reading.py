"""What the add-on needs from an analysis document: the source's video rate and frames, and the spans.

``from_analysis`` takes mediatagger's own ``Analysis`` (``api.load`` read and checked it);
``read`` reads the JSON itself, for a Blender whose Python cannot import mediatagger (the document
then comes from the ``mediatagger`` command), checking what it uses and naming the key of anything wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from .shared import AnalysisError, MediaTaggerError, Span, label_name, ms_to_frame, parse_rate

SCHEMAS = ("mediatagger.analysis/1", "mediatagger.analysis/2", "mediatagger.analysis/3")
KINDS = ("events", "emotions")


@dataclass(frozen=True)
class Tagged:
    """One source as its analysis describes it."""

    path: Path                          # the analysis document
    fps: Fraction | None                # the video's rate (None: no video)
    frames: int | None                  # frames in the video
    duration_ms: int
    spans: tuple[tuple[str, Span], ...]  # (kind, span) in time order

    def chosen(self, kinds: Iterable[str], labels: Iterable[str] = (), min_score: float = 0.0) -> list[Span]:
        """Spans of ``kinds``, of ``labels`` only when some are given (labels or their names, any case:
        ``bgm`` or ``music``), scoring at least ``min_score`` (spans without a score are kept)."""
        wanted_kinds, wanted = set(kinds), {label.strip().upper() for label in labels if label.strip()}
        return [span for kind, span in self.spans if kind in wanted_kinds
                and (not wanted or span.label in wanted or label_name(span.label).upper() in wanted)
                and (span.score is None or span.score >= min_score)]

    def video_frames(self) -> int | None:
        """The video's frame count, or those that start before the end when the document has none."""
        if self.frames or self.fps is None:
            return self.frames
        return ms_to_frame(max(0, self.duration_ms - 1), self.fps) + 1


def from_analysis(analysis: Any, path: Path | str) -> Tagged:
    """A ``mediatagger.Analysis`` (read from ``path``) as the add-on's ``Tagged``."""
    src = analysis.source
    spans = sorted(((kind, span) for kind in KINDS for span in analysis.spans(kind)), key=lambda ks: ks[1])
    return Tagged(Path(path), src.fps, src.video_frames, src.duration_ms, tuple(spans))


def read(path: Path | str) -> Tagged:
    """An analysis document as the add-on's ``Tagged``; AnalysisError naming the key of anything wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AnalysisError(path, f"cannot read analysis: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") not in SCHEMAS:
        raise AnalysisError(path, f"not a {' or '.join(SCHEMAS)} document")
    try:
        return _tagged(data, Path(path))
    except (KeyError, TypeError, ValueError, MediaTaggerError) as exc:
        raise AnalysisError(path, f"malformed analysis: {exc}") from None


def _tagged(data: dict[str, Any], path: Path) -> Tagged:
    src = data["source"]
    fps = parse_rate(src["fps"]) if src.get("fps") else None
    frames = src.get("video_frames")
    spans = [(kind, _span(item, track["index"], f"tracks[{t}].{kind}[{i}]"))
             for t, track in enumerate(data["tracks"]) for kind in KINDS for i, item in enumerate(track[kind])]
    return Tagged(path, fps, int(frames) if frames else None, int(src["duration_ms"]),
                  tuple(sorted(spans, key=lambda ks: ks[1])))


def _span(item: dict[str, Any], track: int, where: str) -> Span:
    try:
        return Span(int(item["start_ms"]), int(item["end_ms"]), str(item["label"]), item.get("score"),
                    int(item.get("track", track)))
    except KeyError as exc:
        raise ValueError(f"{where}: {exc.args[0]} is missing") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
