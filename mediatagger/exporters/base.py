"""What every text format is: a name, a file suffix, a line of description, and ``to_string``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediatagger.analysis import Analysis
    from mediatagger.presets import Preset


def always(analysis: Analysis) -> bool:
    return True


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    description: str
    to_string: Callable[[Analysis, Preset], str]
    fits: Callable[[Analysis], bool] = always   # whether the format can hold this analysis at all
                                                # (chapters: not a video under 30 s); asked for, one that
                                                # cannot is an error; offered (console, live), left out

    def path(self, out_dir: Path, stem: str) -> Path:
        return out_dir / f"{stem}{self.suffix}"
