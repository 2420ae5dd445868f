"""What every text format is: a name, a file suffix, a line of description, and ``to_string``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediatagger.analysis import Analysis
    from mediatagger.presets import Preset


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    description: str
    to_string: Callable[[Analysis, Preset], str]

    def path(self, out_dir: Path, stem: str) -> Path:
        return out_dir / f"{stem}{self.suffix}"
