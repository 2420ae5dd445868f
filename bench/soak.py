"""A soak: many tag calls in one process, then many visitors of the web console; nothing may pile up.

    python bench/soak.py [--calls 200] [--web-jobs 50] [--model samples/model] [--vad silero]

First ``--calls`` calls of ``Tagger.run`` in this process with one loaded model, going round samples/talk.mp4,
samples/two_tracks.mov (every track) and a 4 s WAV cut from talk.mp4 with ffmpeg, each with other
presets, export formats and rich-text forms, each into a fresh folder (so the model runs every time) that
is checked for temp files and removed. Then ``--web-jobs`` visitors of ``mediatagger serve`` (a
subprocess, the triage preset), each a new ``gradio_client.Client`` that uploads one of the media to ``/tag``, reads its
analysis and leaves. Both parts run with TMPDIR a private folder.

For each part it prints, after the warm-up (the first tenth, at least 4) and at the end, side by side: the
resident memory, open file descriptors, threads (the kernel's count; Python's too for this process), and
files in the temp folder. The targets, each with a PASS or FAIL line (the exit code is 1 on any FAIL):
RSS grows less than 5 % after the warm-up, descriptors and threads come back to their warm-up count, and no
temp file survives a finished job (for the console: no visitor's folder after they left, no stray or
partial upload; Gradio's content-addressed cache of results, which it ages out itself, is counted apart).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
RSS_GROWTH = 0.05


# --- what is measured ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """One look at a process and its temp folder."""

    rss_kb: int
    fds: int
    threads: int                 # the kernel's count (/proc/PID/status Threads)
    py_threads: int | None       # threading.active_count(), for this process only
    temp_files: tuple[str, ...]  # files left in the temp folder, relative to it


def status(pid: int | str = "self") -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def files_under(folder: Path | None, keep: Callable[[Path], bool] = lambda p: True) -> tuple[str, ...]:
    """The files under ``folder`` (relative paths); a folder removed while it is looked at is skipped."""
    if folder is None:
        return ()
    found = (Path(top, name) for top, _, names in os.walk(folder) for name in names)
    return tuple(sorted(str(p.relative_to(folder)) for p in found if keep(p)))


def look(pid: int | str = "self", temp: Path | None = None, keep: Callable[[Path], bool] = lambda p: True,
         settle: bool = True) -> Figures:
    """The figures of process ``pid`` (this one by default) and the files under ``temp``."""
    if settle and pid == "self":
        gc.collect()
    info = status(pid)
    return Figures(rss_kb=int(info["VmRSS"].split()[0]), fds=len(os.listdir(f"/proc/{pid}/fd")),
                   threads=int(info["Threads"]), py_threads=threading.active_count() if pid == "self" else None,
                   temp_files=files_under(temp, keep))


@dataclass(frozen=True)
class Verdict:
    target: str
    passed: bool
    detail: str


def verdicts(warm: Figures, end: Figures, rss_growth: float = RSS_GROWTH) -> list[Verdict]:
    """The soak's targets, checked on the figures after the warm-up and at the end."""
    growth = (end.rss_kb - warm.rss_kb) / warm.rss_kb
    threads_back = end.threads <= warm.threads and (end.py_threads or 0) <= (warm.py_threads or 0)
    return [Verdict(f"RSS grows < {rss_growth:.0%} after warm-up", growth < rss_growth, f"{growth:+.1%}"),
            Verdict("descriptors back to warm-up count", end.fds <= warm.fds, f"{warm.fds} -> {end.fds}"),
            Verdict("threads back to warm-up count", threads_back, f"{warm.threads} -> {end.threads}"),
            Verdict("no temp file survives a finished job", not end.temp_files,
                    ", ".join(end.temp_files[:5]) + (" ..." if len(end.temp_files) > 5 else "") or "none")]


def report(title: str, warm: Figures, end: Figures, results: list[Verdict], extra: str = "") -> None:
    print(f"\n{title}")
    print(f"  {'':24}{'after warm-up':>16}{'at the end':>16}")
    rows = [("RSS (MB)", f"{warm.rss_kb / 1024:.1f}", f"{end.rss_kb / 1024:.1f}"),
            ("open descriptors", warm.fds, end.fds), ("threads (kernel)", warm.threads, end.threads),
            ("threads (Python)", warm.py_threads if warm.py_threads is not None else "-",
             end.py_threads if end.py_threads is not None else "-"),
            ("files in the temp folder", len(warm.temp_files), len(end.temp_files))]
    for name, a, b in rows:
        print(f"  {name:24}{a!s:>16}{b!s:>16}")
    if extra:
        print(f"  {extra}")
    for verdict in results:
        print(f"  {'PASS' if verdict.passed else 'FAIL'}  {verdict.target}: {verdict.detail}")


# --- the media and the calls ----------------------------------------------------------------------

def short_wav(folder: Path, seconds: float = 4.0, name: str = "short.wav") -> Path:
    """``seconds`` of samples/talk.mp4's sound as a 16 kHz mono WAV, cut with ffmpeg."""
    from mediatagger import media

    out = folder / name
    subprocess.run([media.find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(SAMPLES / "talk.mp4"),
                    "-t", str(seconds), "-vn", "-ac", "1", "-ar", "16000", str(out)], check=True)
    return out


def media_set(folder: Path) -> dict[str, Path]:
    return {"talk": SAMPLES / "talk.mp4", "two": SAMPLES / "two_tracks.mov", "wav": short_wav(folder)}


@dataclass(frozen=True)
class Call:
    """One tag call: which media, preset, exports (None: the preset's), tracks and rich-text form."""

    media: str
    preset: str
    formats: tuple[str, ...] | None
    tracks: Any = 0
    rich: str | None = None
    label_lang: str | None = None


CYCLE = (  # the long media with the fast preset (no fine windows): the calls go round, not the model's time
    Call("wav", "triage", None),
    Call("talk", "triage", ("json", "ass", "srt", "vtt"), rich="emoji"),
    Call("wav", "subtitles", ("json", "ass", "srt", "vtt"), rich="html", label_lang="zh"),
    Call("two", "triage", ("json", "fcpxml", "xmeml", "otio"), tracks="all"),
    Call("wav", "laughter-reel", ("json", "edl-loc", "csv", "clips")),
    Call("wav", "markers", ("json", "edl", "shotcut", "kdenlive"), rich="raw"),
)
QUICK = tuple(c for c in CYCLE if c.media == "wav" and c.preset != "laughter-reel")  # no model-heavy or media jobs


def tagger_for(base: Any, call: Call) -> Any:
    from mediatagger import presets

    variant = base.variant(call.preset)
    variant.preset = presets.override(variant.preset, "text", source="the soak", rich=call.rich,
                                      label_lang=call.label_lang)
    return variant


def api_call(base: Any, call: Call, media: dict[str, Path], out: Path) -> list[Path]:
    """``call`` into a fresh ``out`` (so the model runs), its outputs checked, its temp files named."""
    written = tagger_for(base, call).run(media[call.media], out, call.formats, tracks=call.tracks)
    paths = [w.path for w in written]
    missing = [p for p in paths if not p.is_file()]
    if missing or not any(p.name.endswith(".analysis.json") for p in paths):
        raise AssertionError(f"{call}: outputs missing: {missing or 'the analysis'}")
    return paths


def leftovers(out: Path) -> list[str]:
    """What a finished call must not leave: temp files (``.x.*.part*``), locks, staging folders."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if ".part" in p.name or p.name.endswith(".lock")
                  or p.name.startswith(".") or "mediatagger-" in p.name)


def api_soak(tagger: Any, calls: int, work: Path, media: dict[str, Path], temp: Path, warm_calls: int,
             say: Callable[[str], None] = print, cycle: tuple[Call, ...] = CYCLE) -> tuple[Figures, Figures, list[str]]:
    """``calls`` tag calls going round ``cycle``; the figures after ``warm_calls`` and at the end, and any
    temp file a call left in its output folder."""
    left: list[str] = []
    warm: Figures | None = None
    began = time.monotonic()
    for n in range(calls):
        call = cycle[n % len(cycle)]
        out = work / f"call{n:03d}"
        api_call(tagger, call, media, out)
        left += [f"{out.name}/{name}" for name in leftovers(out)]
        shutil.rmtree(out)
        if n + 1 == warm_calls:
            warm = look(temp=temp)
        if (n + 1) % 10 == 0:
            rss = look(settle=False).rss_kb / 1024
            say(f"  {n + 1}/{calls} calls, {time.monotonic() - began:.0f} s, RSS {rss:.0f} MB")
    assert warm is not None, "warm_calls must be less than calls"
    return warm, look(temp=temp), left


# --- the web console ------------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def console(model: str, vad: str, temp: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``mediatagger serve`` in a subprocess (the fast preset) with TMPDIR ``temp`` and a 1 s heartbeat, so a
    visitor who leaves is noticed at once; yields its URL and process."""
    port = free_port()
    env = {**os.environ, "TMPDIR": str(temp), "GRADIO_HEARTBEAT_INTERVAL": "1"}
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "mediatagger", "serve", "--port", str(port), "--model", model,
                                 "--vad", vad, "--preset", "triage"], env=env, stderr=err, cwd=REPO)
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for_page(url, proc)
            yield url, proc
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def wait_for_page(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"mediatagger serve ended with {proc.returncode}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).close()
            return
        time.sleep(0.2)
    raise RuntimeError(f"the console did not answer in {timeout_s:.0f} s")


def visit(url: str, upload: Path, downloads: Path, language: str = "auto") -> tuple[Any, str]:
    """One visitor: a new client uploads ``upload`` to ``/tag``, reads the analysis, and leaves."""
    from gradio_client import Client, handle_file

    from mediatagger import api

    client = Client(url, verbose=False, download_files=str(downloads))
    try:
        json_path, rich = client.predict(handle_file(str(upload)), language, api_name="/tag")
    finally:
        client.close()
    result = api.load(json_path)
    shutil.rmtree(Path(json_path).parent, ignore_errors=True)
    return result, rich


def session_root(temp: Path) -> Path | None:
    return next(iter(sorted(temp.glob("mediatagger-web-*"))), None)


def stray(temp: Path) -> Callable[[Path], bool]:
    """What counts as a left-over file in the console's TMPDIR: anything but Gradio's content-addressed
    cache (``gradio/<hash>/<name>``), the files Gradio makes once at start and the root's owner file."""
    from mediatagger.web.session import OWNER

    def keep(path: Path) -> bool:
        parts = path.relative_to(temp).parts
        if parts[0] == "gradio" or parts[1:] == (OWNER,):  # Gradio's own folder at TMPDIR; the root's owner
            return False
        in_cache = len(parts) == 4 and parts[1] == "gradio" and not parts[3].startswith(".")
        return not in_cache
    return keep


def cached(temp: Path) -> int:
    root = session_root(temp)
    return len(files_under(root / "gradio")) if root else 0


def settle(pid: int, temp: Path, keep: Callable[[Path], bool], than: Figures | None = None,
           timeout_s: float = 30) -> Figures:
    """The server's figures once the visitors who left are gone (their folders dropped) and, given the
    warm-up's figures ``than``, its idle worker threads have ended (anyio's end after 10 s idle); or at
    the timeout, as they are."""
    began = time.monotonic()
    while True:
        figures = look(pid, temp, keep)
        back = than is None or (figures.fds <= than.fds and figures.threads <= than.threads)
        if (not figures.temp_files and back) or time.monotonic() - began > timeout_s:
            return figures
        time.sleep(0.5)


def thread_names(pid: int) -> list[str]:
    tasks = Path(f"/proc/{pid}/task")
    return sorted((t / "comm").read_text().strip() for t in tasks.iterdir()) if tasks.is_dir() else []


def web_soak(url: str, pid: int, jobs: int, media: list[Path], temp: Path, work: Path, warm_jobs: int,
             say: Callable[[str], None] = print) -> tuple[Figures, Figures]:
    """``jobs`` visitors one after another, each with the next of ``media``; the server's figures."""
    keep = stray(temp)
    downloads = work / "downloads"
    warm: Figures | None = None
    began = time.monotonic()
    for n in range(jobs):
        upload = media[n % len(media)]
        result, rich = visit(url, upload, downloads)
        if result.stem != upload.stem or not rich:
            raise AssertionError(f"visitor {n}: got {result.stem!r} for {upload.name}")
        if n + 1 == warm_jobs:
            warm = settle(pid, temp, keep)
        if (n + 1) % 10 == 0:
            say(f"  {n + 1}/{jobs} visitors, {time.monotonic() - began:.0f} s")
    assert warm is not None, "warm_jobs must be less than jobs"
    return warm, settle(pid, temp, keep, warm)


# --- the run --------------------------------------------------------------------------------------

def private_tmp() -> Path:
    """A fresh temp folder for this run, made this process's TMPDIR (and its children's)."""
    folder = Path(tempfile.mkdtemp(prefix="mediatagger-soak-"))
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="tag calls through the Python API")
    parser.add_argument("--web-jobs", type=int, default=50, help="visitors of the web console (0: none)")
    parser.add_argument("--model", default=str(SAMPLES / "model"))
    parser.add_argument("--vad", default="silero")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # killed: the temp folders still go (finally)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio_client's request log

    base = Path(tempfile.mkdtemp(prefix="mediatagger-soak-work-"))
    temp = private_tmp()
    from mediatagger import api

    failed = False
    try:
        media = media_set(base)
        began = time.monotonic()
        if args.calls:
            tagger = api.Tagger(model=args.model, vad=args.vad)
            warm_calls = max(4, args.calls // 10)
            warm, end, left = api_soak(tagger, args.calls, base / "api", media, temp, warm_calls)
            results = verdicts(warm, end)
            results[-1] = Verdict(results[-1].target, results[-1].passed and not left,
                                  results[-1].detail if not left else f"{results[-1].detail}; in outputs: {left[:5]}")
            report(f"{args.calls} tag calls through the API (warm-up: {warm_calls} calls), "
                   f"{time.monotonic() - began:.0f} s", warm, end, results)
            failed |= not all(v.passed for v in results)
        if args.web_jobs:
            server_temp = Path(tempfile.mkdtemp(prefix="server-", dir=base))
            began = time.monotonic()
            with console(args.model, args.vad, server_temp, base / "serve.log") as (url, proc):
                warm_jobs = max(4, args.web_jobs // 10)
                warm, end = web_soak(url, proc.pid, args.web_jobs, [media["wav"], media["talk"], media["two"]],
                                     server_temp, base, warm_jobs)
                results = verdicts(warm, end)
                if end.threads > warm.threads:
                    print(f"  the server's threads: {', '.join(thread_names(proc.pid))}")
                report(f"{args.web_jobs} visitors of the web console (warm-up: {warm_jobs}), "
                       f"{time.monotonic() - began:.0f} s; the server process", warm, end, results,
                       f"Gradio's cache of uploads and results (aged out by Gradio): {cached(server_temp)} files")
            failed |= not all(v.passed for v in results)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(temp, ignore_errors=True)
    print("\nFAIL" if failed else "\nPASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
