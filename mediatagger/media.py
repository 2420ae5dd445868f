"""Find ffmpeg, probe media with it alone (no ffprobe needed), extract audio tracks."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger.errors import FFmpegError, MediaError, RefusedInputError, TrackError
from mediatagger.files import hold_signals, release_signals
from mediatagger.timecode import format_rate, parse_rate

SAMPLE_RATE = 16000
_RUNNING: set[subprocess.Popen[bytes]] = set()  # the ffmpeg decodes this process has running, on any thread


def kill_running() -> None:
    """Kill every ffmpeg decode this process has running (a worker told to end, whichever thread it is on)."""
    for proc in list(_RUNNING):
        proc.kill()
_STREAM = re.compile(r"^\s*Stream #\d+:(\d+)(?:\[\w+\])?(?:\((\w+)\))?: (\w+): (.*)$")
_META = re.compile(r"^\s+(\w[\w ]*?)\s*: (.*)$")
_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_START = re.compile(r"start: (-?\d+(?:\.\d+)?)")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_RATE = re.compile(r"(\d+) Hz")
_RATES = re.compile(r"([\d.]+)(k?) fps, ([\d.]+)(k?) tbr")
_KEY_PTS = re.compile(r"pts_time:\s*(-?[\d.]+)")
_SHOWINFO_RATE = re.compile(r"config in time_base: \S+, frame_rate: (\d+)/(\d+)")
_FIRST_PTS = re.compile(r"^\[a?showinfo@(\w+) .*?\bn:\s*0 .*?pts_time:(-?[\d.]+)", re.M)
_FRAMES = re.compile(r"frame=\s*(\d+)")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5,
            "5.0": 5, "5.1": 6, "6.0": 6, "6.1": 7, "7.0": 7, "7.1": 8, "downmix": 2}
_DEFAULT_HANDLERS = {"SoundHandler", "VideoHandler", "Core Media Audio", "Core Media Video"}

# The demuxers ffmpeg may use on media from outside (``input_args``): containers and audio formats that
# read the one file they are given and nothing else. A demuxer matches by any of its names (``mov`` is
# ``mov,mp4,m4a,3gp,3g2,mj2``; ``matroska`` is ``matroska,webm``). The mov demuxer's external tracks
# (``enable_drefs``) and absolute alias paths (``use_absolute_path``) are off by default and never turned
# on. Left out on purpose, as they open other files or URLs: hls, dash, concat, imf, image2 (file
# patterns), sdp/rtp/rtsp (network), dvdvideo (a DVD's folder), webm_dash_manifest; and everything that
# is not audio or video (subtitles, images, ffmetadata, tty, ...).
MEDIA_DEMUXERS = (
    "mov", "matroska", "avi", "mpegts", "mpeg", "mxf", "flv", "asf", "nut", "ogg", "rm", "wtv", "gxf", "dv",
    "ivf",                                                          # containers (video with sound)
    "wav", "w64", "aiff", "caf", "flac", "mp3", "aac", "ac3", "eac3", "dts", "dtshd", "truehd", "mlp", "amr",
    "amrnb", "amrwb", "au", "wv", "ape", "tta", "tak", "mpc", "mpc8", "dsf", "voc", "xwma", "loas", "oma",
    "qcp", "ac4", "sox", "ircam", "spdif",                          # audio files and streams
)
# The text subtitle formats a file given to burn may be (ffmpeg's ``subtitles`` filter opens it as media).
SUBTITLE_DEMUXERS = ("ass", "srt", "webvtt", "microdvd", "mpl2", "subviewer", "subviewer1", "sami", "realtext",
                     "pjs", "jacosub", "stl", "vplayer", "aqtitle", "lrc", "mpsub")
# Refused demuxers that would open further files or URLs: named as such in the refusal.
REFERENCE_DEMUXERS = frozenset({"hls", "applehttp", "dash", "concat", "imf", "sdp", "rtp", "rtsp",
                                "dvdvideo", "webm_dash_manifest", "avisynth", "vapoursynth"})
_REFUSED = ("not on whitelist",)  # "Format not on whitelist '...'", "Protocol 'http' not on whitelist 'file'!"
_OPENING = re.compile(r"^(?:Error opening input file file:(.+)\.|file:(.+): Invalid argument)$", re.M)  # 6.1+, older
_PROBED = re.compile(r"Format (\S+) probed with size=")
_PLAYLIST_SIGNS = {b"#EXTM3U": "hls", b"ffconcat version": "concat"}


# ISO 639-2 codes containers carry (``eng``) -> the language's name, for tracks with no title
LANGUAGES = {"eng": "English", "zho": "Chinese", "chi": "Chinese", "cmn": "Mandarin", "yue": "Cantonese",
             "jpn": "Japanese", "kor": "Korean", "fra": "French", "fre": "French", "deu": "German",
             "ger": "German", "spa": "Spanish", "ita": "Italian", "por": "Portuguese", "rus": "Russian",
             "ara": "Arabic", "hin": "Hindi", "nld": "Dutch", "dut": "Dutch", "swe": "Swedish"}


@dataclass(frozen=True)
class AudioTrack:
    index: int            # among the file's audio streams, from 0
    codec: str
    channels: int
    sample_rate: int
    language: str | None
    title: str | None
    offset_ms: int = 0    # its first sample on the media clock (negative: before the first video frame)


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration_ms: int
    fps: Fraction | None
    width: int | None
    height: int | None
    start_timecode: str | None
    audio_tracks: tuple[AudioTrack, ...]
    variable_fps: bool = False     # average rate and frame rate differ (phone footage, screen recordings)
    video_frames: int | None = None  # frames in the first video stream (its audio may run longer)
    start_ms: int = 0   # the media clock's zero (the first video frame, else the first audio sample) from
                        # the file's start, where ffmpeg's -ss counts from; floored, so a seek never passes it

    @property
    def origin(self) -> Fraction:
        """The media clock's zero in seconds from the file's start: add it to a time in the media to seek there."""
        return Fraction(self.start_ms, 1000)

    def track_title(self, index: int) -> str | None:
        """Audio track ``index``'s own name: its stream title (``Dialogue``, ``Audience``), else its
        language (``English``), else None; a title or language two tracks share gets the number."""
        def called(track: AudioTrack) -> str | None:
            title = " ".join((track.title or "").split())[:60]
            return title or LANGUAGES.get(track.language or "", track.language)
        names = [called(t) for t in self.audio_tracks]
        name = names[index] if 0 <= index < len(names) else None
        return name if name is None or names.count(name) == 1 else f"{name} {index}"

    def track_name(self, index: int) -> str:
        """Audio track ``index`` as people call it: ``track_title``, else ``track 1``."""
        return self.track_title(index) or f"track {index}"

    @property
    def fps_text(self) -> str | None:
        return format_rate(self.fps) if self.fps else None


def find_ffmpeg() -> str:
    """``MEDIATAGGER_FFMPEG`` if set, else ``ffmpeg`` on PATH, else imageio-ffmpeg's binary."""
    env = os.environ.get("MEDIATAGGER_FFMPEG")
    if env:
        return env
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MediaError("ffmpeg", "not found: install ffmpeg or `pip install imageio-ffmpeg`") from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def file_arg(path: Path | str) -> str:
    """A path as an ffmpeg file argument: ``file:`` + absolute path, so names that start with
    ``-`` or hold ``:`` (``a:b.mp4`` reads as protocol ``a``) are taken literally."""
    return "file:" + os.path.abspath(path)


def input_args(path: Path | str | None, demuxers: tuple[str, ...] = MEDIA_DEMUXERS) -> list[str]:
    """``-i`` for a media file from outside: ffmpeg may open it only with a demuxer of ``MEDIA_DEMUXERS``
    and through the ``file`` protocol alone. ffmpeg picks the demuxer from the content, not the name, so
    without this a text file named ``clip.mp4`` holding an HLS playlist or an ffconcat list would be read
    as the files it names (anywhere on this machine, or URLs). Every ffmpeg run on outside media takes
    its inputs from here; a refusal reads as ``RefusedInputError`` (see ``ffmpeg_error``). ``path`` None:
    the bytes written to ffmpeg's standard input, through the ``pipe`` protocol alone."""
    if path is None:
        return ["-format_whitelist", ",".join(demuxers), "-protocol_whitelist", "pipe", "-i", "pipe:0"]
    return ["-format_whitelist", ",".join(demuxers), "-protocol_whitelist", "file", "-i", file_arg(path)]


def concat_input_args(listing: Path) -> list[str]:
    """``-i`` for an ffconcat list mediatagger wrote itself (of clips it cut): the concat demuxer opens the
    files it names, each under the same allow-list as ``input_args``."""
    return ["-f", "concat", "-safe", "0", "-format_whitelist", ",".join(("concat", *MEDIA_DEMUXERS)),
            "-protocol_whitelist", "file", "-i", file_arg(listing)]


def ffmpeg_error(path: Path | str, problem: str, stderr: str) -> MediaError:
    """The error for a failed ffmpeg run on ``path``: ``RefusedInputError`` naming the input the allow-list
    stopped (ffmpeg names it; a run may have several), else ``FFmpegError`` with ffmpeg's last line."""
    if not any(marker in stderr for marker in _REFUSED):
        return FFmpegError(path, problem, stderr)
    named = [new or old for new, old in _OPENING.findall(stderr)]
    refused = named[-1] if named and named[-1] != os.path.abspath(path) else str(path)  # as the user named it
    demuxer = _detected_demuxer(refused) or _playlist_kind(Path(refused)) or "an unknown format"
    return RefusedInputError(refused, demuxer, demuxer in REFERENCE_DEMUXERS or "Protocol" in stderr)


def check_subtitle_file(path: Path, name: Path | str) -> None:
    """Raise ``RefusedInputError`` (naming ``name``) unless ffmpeg opens ``path`` as a subtitle file: the
    ``subtitles`` filter picks its demuxer from the content, and a DASH manifest can parse as SRT too."""
    done = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", *input_args(path, SUBTITLE_DEMUXERS)],
                          capture_output=True, check=False)
    if any(marker in done.stderr.decode("utf-8", "replace") for marker in _REFUSED):
        demuxer = _detected_demuxer(str(path)) or "an unknown format"
        raise RefusedInputError(name, demuxer, demuxer in REFERENCE_DEMUXERS)


def _detected_demuxer(path: str) -> str | None:
    """The demuxer ffmpeg picks for ``path`` from its content, found without letting it open the file
    (None for a FIFO: it was read once already, by the run that failed)."""
    if not os.path.isfile(path):
        return None
    done = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "debug", "-format_whitelist",
                           "none", "-protocol_whitelist", "file", "-i", file_arg(path)],
                          capture_output=True, check=False)
    found = _PROBED.search(done.stderr.decode("utf-8", "replace"))
    return found.group(1).split(",")[0] if found else None


def _playlist_kind(path: Path) -> str | None:
    """``hls`` or ``concat`` if the file starts as a playlist does (some ffmpeg versions decline an HLS
    playlist whose name is not ``.m3u8`` rather than refuse it: the message should say the same)."""
    if not path.is_file():  # a FIFO is read once, by ffmpeg
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return None
    return next((name for sign, name in _PLAYLIST_SIGNS.items() if head.startswith(sign)), None)


def run_ffmpeg(args: list[str], path: Path | str, what: str,
               progress: Callable[[float], None] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with an argument list (never a shell string); raise FFmpegError on failure (its
    RefusedInputError when an input is not on the allow-list of ``input_args``).

    ``progress`` is called with the output seconds written so far (ffmpeg's ``-progress``). If this
    process is interrupted (Ctrl-C, SIGTERM), ffmpeg is killed before the exception goes on. The
    result carries ffmpeg's stderr; its stdout is not kept (outputs go to files)."""
    cmd = [find_ffmpeg(), "-hide_banner", "-nostdin", *(["-progress", "pipe:1", "-nostats"] if progress else []),
           *args]
    with tempfile.TemporaryFile() as errors:
        held = hold_signals()  # a signal while Popen runs would leave ffmpeg running, unkilled, writing its file
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            release_signals(held)
            raise MediaError(cmd[0], f"cannot run ffmpeg: {exc.strerror}") from None
        with proc:
            try:
                release_signals(held)  # one that came meanwhile is raised here, and ffmpeg is killed
                _follow(proc, progress)
            except BaseException:
                proc.kill()
                raise
        errors.seek(0)
        stderr = errors.read()
    if proc.returncode != 0:
        raise ffmpeg_error(path, what, stderr.decode("utf-8", "replace") + stopped(proc.returncode))
    return subprocess.CompletedProcess(cmd, proc.returncode, b"", stderr)


def stopped(returncode: int) -> str:
    """What ends ffmpeg's stderr when a signal stopped it (killed from outside, a file size limit):
    the line an error reports, not the warning it happened to print last."""
    if returncode >= 0:
        return ""
    import signal

    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"\nffmpeg was stopped by {name}"


def _follow(proc: subprocess.Popen[bytes], progress: Callable[[float], None] | None) -> None:
    """Read ffmpeg's ``-progress`` lines (``out_time_us=``) until it ends."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if progress and line.startswith(b"out_time_us=") and line[12:].strip().isdigit():
            progress(int(line[12:]) / 1_000_000)
    proc.wait()


def check_input(path: Path) -> None:
    if not path.exists():
        raise MediaError(path, "no such file")
    if path.is_dir():
        raise MediaError(path, "is a folder, not a media file")
    if path.stat().st_size == 0:
        raise MediaError(path, "file is empty")


def _stream_blocks(text: str) -> list[tuple[re.Match[str], dict[str, str]]]:
    """Each ``Stream #0:N`` line of ``ffmpeg -i`` with the metadata printed under it."""
    blocks: list[tuple[re.Match[str], dict[str, str]]] = []
    for line in text.splitlines():
        match = _STREAM.match(line)
        if match:
            blocks.append((match, {}))
        elif blocks and (meta := _META.match(line)) and "Metadata" not in line:
            blocks[-1][1].setdefault(meta.group(1).strip(), meta.group(2).strip())
    return blocks


def _channels(desc: str) -> int:
    for part in desc.split(", ")[1:4]:
        name = part.split("(")[0].strip()
        if name in _LAYOUTS:
            return _LAYOUTS[name]
        if m := re.match(r"(\d+) channels", part):
            return int(m.group(1))
    return 0


def _audio_track(index: int, match: re.Match[str], meta: dict[str, str]) -> AudioTrack:
    desc = match.group(4)
    rate = _RATE.search(desc)
    handler = meta.get("handler_name")
    title = meta.get("title") or meta.get("name") or (handler if handler not in _DEFAULT_HANDLERS else None)
    language = match.group(2) if match.group(2) not in (None, "und") else None
    return AudioTrack(index=index, codec=desc.split()[0].rstrip(","), channels=_channels(desc),
                      sample_rate=int(rate.group(1)) if rate else 0, language=language, title=title)


def _duration_ms(text: str) -> int:
    match = _DURATION.search(text)
    if not match:
        return 0
    h, m, s = match.groups()
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


_TIME = re.compile(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)")


def _read_through(path: Path) -> int:
    """How long a file whose container does not say (``Duration: N/A``: a Matroska stream written to a
    pipe, then saved) plays: ffmpeg copies its packets to nowhere and tells the last time it reached."""
    done = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", *input_args(path), "-map", "0", "-c", "copy",
                           "-f", "null", "-"], capture_output=True, check=False)
    times = _TIME.findall(done.stderr.decode("utf-8", "replace"))
    return round((int(times[-1][0]) * 3600 + int(times[-1][1]) * 60 + float(times[-1][2])) * 1000) if times else 0


def _first_video_frame(path: Path) -> tuple[Fraction | None, Fraction]:
    """The first video stream's frame rate as ffmpeg's filter graph sees it (an exact fraction), and
    its first frame's time in seconds from the file's start."""
    done = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", *input_args(path), "-map",
                           "0:v:0", "-frames:v", "1", "-vf", "showinfo@v", "-f", "null", "-"],
                          capture_output=True, check=False)
    text = done.stderr.decode("utf-8", "replace")
    first = {name: Fraction(t) for name, t in _FIRST_PTS.findall(text)}
    match = _SHOWINFO_RATE.search(text)
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        return None, first.get("v", Fraction(0))
    return parse_rate(f"{match.group(1)}/{match.group(2)}"), first.get("v", Fraction(0))


def _audio_starts(path: Path, count: int) -> list[Fraction | None]:
    """Each audio stream's first decoded sample, in seconds from the file's start (None: no sample),
    from one ffmpeg run that decodes one frame of each."""
    graph = ";".join(f"[0:a:{n}]ashowinfo@a{n}[o{n}]" for n in range(count))
    outputs = [arg for n in range(count) for arg in ("-map", f"[o{n}]", "-frames:a", "1", "-f", "null", "-")]
    done = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-t", "600", *input_args(path),
                           "-filter_complex", graph, *outputs], capture_output=True, check=False)  # 10 min at most
    first = {name: Fraction(t) for name, t in _FIRST_PTS.findall(done.stderr.decode("utf-8", "replace"))}
    return [first.get(f"a{n}") for n in range(count)]


def _on_clock(path: Path, tracks: list[AudioTrack], video_start: Fraction | None) -> tuple[int, list[AudioTrack]]:
    """(the media clock's zero in ms from the file's start, the tracks with their offsets on it): the
    clock is the picture's where there is video, else the earliest audio track's."""
    if video_start is None and len(tracks) < 2:
        return 0, tracks
    starts = _audio_starts(path, len(tracks)) if tracks else []
    known = [s for s in starts if s is not None]
    zero = video_start if video_start is not None else min(known, default=Fraction(0))
    shifted = [replace(t, offset_ms=round((s - zero) * 1000)) if s is not None else t for t, s in zip(tracks, starts)]
    return math.floor(zero * 1000), shifted


def video_frames(path: Path | str) -> int:
    """Packets in the first video stream (its frames), counted as ffmpeg copies them, without decoding."""
    done = run_ffmpeg([*input_args(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"], path,
                      "cannot count frames")
    counts = _FRAMES.findall(done.stderr.decode("utf-8", "replace"))
    return int(counts[-1]) if counts else 0


def with_frame_count(info: MediaInfo) -> MediaInfo:
    """``info`` with its video stream's frame count (one pass over the file's packets, so it is counted
    once per analysis, not at every probe)."""
    if info.fps is None or info.video_frames is not None:
        return info
    try:
        return replace(info, video_frames=video_frames(info.path) or None)
    except FFmpegError:
        return info


def _is_variable(stream_desc: str) -> bool:
    """``25.92 fps, 29.97 tbr``: the average rate differs from the stream's rate by more than 2 %."""
    match = _RATES.search(stream_desc)
    if not match:
        return False
    avg, tbr = (float(match.group(i)) * (1000 if match.group(i + 1) else 1) for i in (1, 3))
    return tbr > 0 and abs(avg - tbr) / tbr > 0.02


def piped(args: list[str], path: Path | str, what: str) -> bytes:
    """ffmpeg's raw output on its stdout (``args`` end in ``pipe:1``), for short pieces a job measures
    rather than writes: nothing goes to disk. ffmpeg is killed if this process is interrupted."""
    done = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", *args], capture_output=True)
    if done.returncode != 0:
        raise ffmpeg_error(path, what, done.stderr.decode("utf-8", "replace") + stopped(done.returncode))
    return done.stdout


def sound(info: MediaInfo, start: Fraction, length: Fraction, channels: int = 1, rate: int = 8000) -> np.ndarray:
    """``length`` seconds of the first audio track from ``start`` (media time), as float32 samples at
    ``rate``, one column per channel (a short piece: a clip's)."""
    raw = piped(["-loglevel", "error", "-ss", f"{float(start + info.origin):.6f}", *input_args(info.path),
                 "-t", f"{float(length):.6f}", "-map", "0:a:0", "-ac", str(channels), "-ar", str(rate),
                 "-f", "f32le", "pipe:1"], info.path, "cannot read the clip's sound")
    samples = np.frombuffer(raw, np.float32)
    return samples[:len(samples) // channels * channels].reshape(-1, channels)


def keyframes(path: Path | str) -> list[Fraction]:
    """Start times (seconds from the file's start) of the first video stream's keyframes, decoding
    only the keyframes."""
    done = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", "-skip_frame", "nokey", *input_args(path),
                           "-map", "0:v:0", "-vf", "showinfo", "-fps_mode", "passthrough", "-f", "null", "-"],
                          capture_output=True, check=False)
    text = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise ffmpeg_error(path, "cannot list keyframes", text)
    return sorted(Fraction(m) for line in text.splitlines() if "iskey:1" in line
                  for m in _KEY_PTS.findall(line)[:1])


def _starts_as_mp4(path: Path) -> bool:
    """The file opens as an MP4/MOV does (an ``ftyp``, ``wide`` or ``mdat`` box first)."""
    with open(path, "rb") as fh:
        return fh.read(8)[4:8] in (b"ftyp", b"wide", b"mdat", b"free")


def probe(path: Path | str) -> MediaInfo:
    """Streams, duration, frame rate, size, timecode and clock of a media file, from ffmpeg's report;
    read once per file content (its size and modification time): a batch asks for it for its progress
    bar, the decode ahead and the run, and each probe runs ffmpeg three times."""
    path = Path(path)
    check_input(path)
    stat = path.stat()
    return _probe(str(path), os.path.abspath(path), stat.st_size, stat.st_mtime_ns, find_ffmpeg())


@functools.lru_cache(maxsize=64)
def _probe(given: str, where: str, nbytes: int, mtime_ns: int, ffmpeg: str) -> MediaInfo:
    """``probe`` of the file at ``where`` as it is now (``given``: its name in messages)."""
    path = Path(given)
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", *input_args(path)], capture_output=True, check=False)
    text = done.stderr.decode("utf-8", "replace")
    blocks = _stream_blocks(text)
    if not blocks:
        raise _unreadable(path, text)
    audio = [b for b in blocks if b[0].group(3) == "Audio"]
    video = [b for b in blocks if b[0].group(3) == "Video" and "attached pic" not in b[0].group(4)]
    size = _SIZE.search(video[0][0].group(4)) if video else None
    timecodes = [meta["timecode"] for _, meta in blocks if "timecode" in meta]
    fps, video_start = _first_video_frame(path) if video else (None, None)
    start_ms, tracks = _on_clock(path, [_audio_track(i, m, meta) for i, (m, meta) in enumerate(audio)], video_start)
    return MediaInfo(
        path=where, duration_ms=_duration_ms(text) or (_read_through(path) if "Duration: N/A" in text else 0),
        fps=fps,
        width=int(size.group(1)) if size else None, height=int(size.group(2)) if size else None,
        start_timecode=timecodes[0] if timecodes else None, audio_tracks=tuple(tracks),
        variable_fps=_is_variable(video[0][0].group(4)) if video else False, start_ms=start_ms,
    )


def _unreadable(path: Path, text: str) -> MediaError:
    """Why ffmpeg found no streams in ``path``: refused by the allow-list, a playlist, cut short, or not media."""
    kind = _playlist_kind(path)
    if kind and not any(marker in text for marker in _REFUSED):  # declined by ffmpeg itself, not refused
        return RefusedInputError(path, kind)
    if "moov atom not found" in text and _starts_as_mp4(path):
        return MediaError(path, "is cut short: its index (the MP4/MOV moov atom) is missing, so the recording "
                                "or copy did not finish")
    return ffmpeg_error(path, "not a media file ffmpeg can read", text)


def select_tracks(info: MediaInfo, track: int | str) -> list[int]:
    """``0``, ``1``, ... or ``"all"`` -> the audio track indexes to analyse."""
    count = len(info.audio_tracks)
    if count == 0:
        raise MediaError(info.path, "has no audio stream")
    if track == "all":
        return list(range(count))
    if not isinstance(track, int) or not 0 <= track < count:
        raise TrackError(Path(info.path), int(track), count)
    return [track]


def decode_args(info: MediaInfo, track: int, piped: bool = False) -> list[str]:
    """ffmpeg's command that decodes audio track ``track`` of ``info`` to 16 kHz mono float32 on its stdout,
    read from the file or (``piped``) from the bytes written to its stdin."""
    return [find_ffmpeg(), "-hide_banner", *([] if piped else ["-nostdin"]), "-loglevel", "error",
            "-threads", "1", *input_args(None if piped else info.path), "-map", f"0:a:{track}", "-vn", "-sn",
            "-dn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"]


def offset_samples(info: MediaInfo, track: int) -> int:
    """Where track ``track``'s first sample falls on the media clock, in samples (negative: before it)."""
    return info.audio_tracks[track].offset_ms * SAMPLE_RATE // 1000 if track < len(info.audio_tracks) else 0


def extract_audio(info: MediaInfo, track: int,
                  progress: Callable[[float], None] | None = None) -> np.ndarray:
    """One audio track as 16 kHz mono float32, decoded by ffmpeg straight into one array.

    The array is sized from the probed duration (plus a second) and grows only if the stream runs
    longer, so a track is held once: two hours are 460 MB, not a multiple of it. ``progress`` is
    called with the seconds decoded so far. The audio is put on the media clock: a track that starts
    after the first video frame is led by silence, one that starts before it loses what comes first,
    so sample 0 is the first frame's instant.
    """
    offset, cmd = offset_samples(info, track), decode_args(info, track)
    samples = np.empty((info.duration_ms * SAMPLE_RATE) // 1000 + SAMPLE_RATE + max(offset, 0), dtype="<f4")
    samples[:max(offset, 0)] = 0
    filled = max(offset, 0) * 4  # bytes
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        _RUNNING.add(proc)
        try:
            while True:
                if filled == samples.nbytes:  # longer than the container said
                    samples = np.concatenate([samples, np.empty(len(samples) // 2 + SAMPLE_RATE, "<f4")])
                read = proc.stdout.readinto(samples.data.cast("B")[filled:])  # type: ignore[attr-defined]
                if not read:
                    break
                filled += read
                if progress:
                    progress((filled / 4 - max(offset, 0)) / SAMPLE_RATE)
        except BaseException:
            proc.kill()
            raise
        finally:
            _RUNNING.discard(proc)
        stderr = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise ffmpeg_error(info.path, f"cannot decode audio track {track}", stderr + stopped(proc.returncode))
    return samples[max(-offset, 0): max(filled // 4, -offset)]


class AudioStream:
    """One audio track decoded as it is read: blocks of ``block_s`` seconds of 16 kHz mono float32 on the
    media clock (as ``extract_audio``), never the whole track. ffmpeg reads the file, or (``feed``) the
    bytes ``feed`` writes to it as they come (a recording still being written); a thread reads ffmpeg's
    output ahead, at most ``ahead_s`` seconds of it, so decoding overlaps the work on earlier blocks.
    ``get`` gives the next block, None at the end; an ffmpeg that fails raises there."""

    END = None

    def __init__(self, info: MediaInfo, track: int, feed: Callable[[Any], None] | None = None,
                 block_s: float = 1.0, ahead_s: float = 30.0):
        self.info, self.track, self.feed, self._closed = info, track, feed, False
        self.block = int(block_s * SAMPLE_RATE)
        self.queue: queue.Queue[np.ndarray | BaseException | None] = queue.Queue(max(2, int(ahead_s / block_s)))
        self.errors = tempfile.TemporaryFile()
        held = hold_signals()
        try:
            self.proc = subprocess.Popen(decode_args(info, track, feed is not None), stdout=subprocess.PIPE,
                                         stderr=self.errors,
                                         stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL)
        except OSError as exc:
            release_signals(held)
            raise MediaError(find_ffmpeg(), f"cannot run ffmpeg: {exc.strerror}") from None
        _RUNNING.add(self.proc)
        release_signals(held)
        self.threads = [threading.Thread(target=self._read, daemon=True)]
        if feed is not None:
            self.threads.append(threading.Thread(target=self._feed, daemon=True))
        for thread in self.threads:
            thread.start()

    def _feed(self) -> None:
        assert self.feed is not None and self.proc.stdin is not None
        with contextlib.suppress(OSError, ValueError):  # ffmpeg gone (it failed, or was stopped): its error is read
            try:
                self.feed(self.proc.stdin)
            finally:
                self.proc.stdin.close()

    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        skip = -offset_samples(self.info, self.track)
        try:
            if skip < 0:   # the track starts after the media clock's zero: silence first
                self._put(np.zeros(-skip, np.float32))
            while raw := stdout.read(self.block * 4):
                block = np.frombuffer(raw[:len(raw) // 4 * 4], "<f4")
                if skip > 0:
                    block, skip = block[skip:], max(0, skip - len(block))
                if len(block):
                    self._put(block)
            self.proc.wait()
            if self.proc.returncode != 0:
                self.errors.seek(0)
                text = self.errors.read().decode("utf-8", "replace") + stopped(self.proc.returncode)
                raise ffmpeg_error(self.info.path, f"cannot decode audio track {self.track}", text)
            self._put(self.END)
        except BaseException as exc:  # handed to the reader of ``get``
            self._put(exc)
        finally:
            _RUNNING.discard(self.proc)

    def _put(self, item: np.ndarray | BaseException | None) -> None:
        while not self.closed():
            with contextlib.suppress(queue.Full):
                self.queue.put(item, timeout=0.2)
                return

    def closed(self) -> bool:
        return self._closed

    def get(self, timeout: float | None = None) -> np.ndarray | None:
        """The next block; None once the track has ended; ``queue.Empty`` if none came within ``timeout``."""
        item = self.queue.get(timeout=timeout)
        if isinstance(item, BaseException):
            self.queue.put(item)   # asked again, it fails again
            raise item
        if item is None:
            self.queue.put(None)
        return item

    def __iter__(self) -> Iterator[np.ndarray]:
        while (block := self.get()) is not None:
            yield block

    def close(self) -> None:
        """Stop ffmpeg (if it still runs) and the threads."""
        self._closed = True
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stdin, self.errors):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        _RUNNING.discard(self.proc)

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
