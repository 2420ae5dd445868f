"""Shared fixtures: the samples, a tiny SenseVoice model folder, a fixed analysis document."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mediatagger import analysis, media

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
DATA = Path(__file__).resolve().parent / "data"
TALK = SAMPLES / "talk.mp4"
TWO_TRACKS = SAMPLES / "two_tracks.mov"


def truth(sample: Path) -> list[dict]:
    return json.loads(sample.with_name(sample.name + ".truth.json").read_text())["items"]


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """The committed SenseVoiceSmall-architecture test model (samples/tiny_sensevoice.py made it)."""
    return SAMPLES / "model"


@pytest.fixture
def fixed_analysis() -> analysis.Analysis:
    return load_fixed()


def load_fixed() -> analysis.Analysis:
    """A hand-written analysis of samples/talk.mp4 (29.97 fps, one track)."""
    doc = analysis.load(DATA / "talk.analysis.json")
    return analysis.from_dict({**analysis.to_dict(doc), "source": {
        **analysis.to_dict(doc)["source"], "path": str(TALK)}})


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mediatagger", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=600)


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *map(str, args)],
                   check=True)


def frame_count(path: Path, stream: str = "v:0") -> tuple[int, float]:
    """(decoded frames, decoded seconds) of one stream, counted by decoding it with ffmpeg."""
    done = subprocess.run([media.find_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-map",
                           f"0:{stream}", "-f", "null", "-"], capture_output=True, text=True, check=True)
    frames = re.findall(r"frame=\s*(\d+)", done.stderr)
    times = re.findall(r"time=(\d+):(\d+):(\d+\.\d+)", done.stderr)
    h, m, s = times[-1] if times else ("0", "0", "0")
    return (int(frames[-1]) if frames else 0), int(h) * 3600 + int(m) * 60 + float(s)
