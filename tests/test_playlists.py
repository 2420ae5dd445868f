"""Playlists and reference files posing as media (issue 21): a text file named ``clip.mp4`` that holds an
HLS or DASH playlist or an ffconcat list is refused with one line before ffmpeg opens anything it names,
through the command line, a batch and every media job (the console: tests/web/test_playlist_upload.py).

"Never read" is proved with a tripwire: the playlists point at a FIFO whose writer notices a reader
(and feeds it the real MPEG-TS, so ffmpeg without the allow-list tags that file, as the issue saw).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import pytest

from mediatagger import media
from mediatagger.errors import RefusedInputError
from tests.conftest import DATA, TALK, ffmpeg
from tests.reliability import case

PACKAGE = Path(media.__file__).resolve().parent
REFUSED = "is a playlist or reference file ({kind}), not media; refused: it would make ffmpeg read other files"


class Tripwire:
    """A FIFO a playlist names: whoever opens it to read is seen. Opening it is the first step of any read."""

    def __init__(self, path: Path, feed: bytes):
        os.mkfifo(path)
        self.path, self.feed = path, feed
        self.opened, self.closing = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)  # returns once a reader has opened the FIFO
        with os.fdopen(fd, "wb") as fh:
            if self.closing.is_set():
                return
            self.opened.set()
            try:
                fh.write(self.feed)
            except OSError:  # the reader went away
                pass

    def close(self) -> None:
        self.closing.set()
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # lets a writer still waiting through
        self.thread.join(10)
        os.close(fd)


def hls(target: Path) -> str:
    return f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n{target}\n#EXT-X-ENDLIST\n"


def dash(target: Path) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
            'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" mediaPresentationDuration="PT4S" '
            'minBufferTime="PT1S"><Period><AdaptationSet mimeType="video/mp2t"><Representation id="1" '
            f'bandwidth="1000"><BaseURL>file://{target}</BaseURL></Representation></AdaptationSet></Period></MPD>\n')


def ffconcat(target: Path) -> str:
    return f"ffconcat version 1.0\nfile {target.name}\n"  # ffmpeg's safe mode takes a name beside the list


PLAYLISTS: dict[str, Callable[[Path], str]] = {"hls": hls, "dash": dash, "concat": ffconcat}


@pytest.fixture(scope="session")
def secret_ts(tmp_path_factory) -> bytes:
    """The other file's content: samples/talk.mp4 as MPEG-TS."""
    path = tmp_path_factory.mktemp("secret") / "secret.ts"
    ffmpeg("-i", TALK, "-c", "copy", "-f", "mpegts", path)
    return path.read_bytes()


@pytest.fixture
def trap(secret_ts) -> Iterator[Callable[[str, Path], tuple[Path, Tripwire]]]:
    """``trap(kind, playlist)``: write a playlist of ``kind`` at ``playlist`` naming a tripwire, outside its
    folder (an ffconcat list only reaches files beside it, so its tripwire is there)."""
    wires: list[Tripwire] = []

    def make(kind: str, playlist: Path) -> tuple[Path, Tripwire]:
        folder = playlist.parent if kind == "concat" else playlist.parent.parent / "elsewhere"
        for where in (folder, playlist.parent):
            where.mkdir(parents=True, exist_ok=True)
        wire = Tripwire(folder / "secret.ts", secret_ts)
        wires.append(wire)
        playlist.write_text(PLAYLISTS[kind](wire.path))
        return playlist, wire

    yield make
    for wire in wires:
        wire.close()


def tree(root: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    """Every entry under ``root`` but ``skip``: name -> (size, modification time)."""
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) != skip]
        for name in names + dirs:
            stat = os.lstat(Path(folder, name))
            found[str(Path(folder, name).relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """The real command line; a run blocked on a tripwire fails by its timeout."""
    return subprocess.run([sys.executable, "-m", "mediatagger", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=240)


def refused_line(path: Path | str, kind: str) -> str:
    return f"mediatagger: error: {path}: {REFUSED.format(kind=kind)}"


def analysis_of(source: Path, folder: Path) -> Path:
    """The hand-written analysis of talk.mp4 (a laugh, applause), its source path set to ``source``."""
    doc = json.loads((DATA / "talk.analysis.json").read_text())
    doc["source"]["path"] = str(source)
    out = folder / "talk.analysis.json"
    out.write_text(json.dumps(doc))
    return out


# --- the tripwire works ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind,name", [("hls", "clip.m3u8"), ("dash", "clip.mp4"), ("concat", "clip.mov")])
def test_ffmpeg_without_the_allow_list_reads_what_the_playlist_names(trap, tmp_path, kind, name):
    """The issue as it was: plain ffmpeg opens the named file (so a tripwire left alone means never read)."""
    playlist, wire = trap(kind, tmp_path / "in" / name)
    try:
        subprocess.run([media.find_ffmpeg(), "-hide_banner", "-nostdin", "-i", media.file_arg(playlist), "-t", "1",
                        "-f", "null", "-"], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        pass
    assert wire.opened.is_set()


# --- the command line -----------------------------------------------------------------------------

@case("Security", "a text file named clip.mp4 (or .m3u8, .mov) holding an HLS, DASH or ffconcat playlist that "
      "names another file, tagged from the command line",
      "exit 1 and one line: `clip.mp4: is a playlist or reference file (dash), not media; refused: it would make "
      "ffmpeg read other files`; the named file is never opened; nothing written")
@pytest.mark.parametrize("kind,name", [("dash", "clip.mp4"), ("hls", "clip.m3u8"), ("hls", "clip.mp4"),
                                       ("concat", "clip.mov")])
def test_a_playlist_is_refused_by_tag(trap, tmp_path, tiny_model, kind, name):
    playlist, wire = trap(kind, tmp_path / "in" / name)
    out = tmp_path / "out"
    before = tree(tmp_path)
    done = run("tag", playlist, "-o", out, "--model", tiny_model, "--vad", "none", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.splitlines() == [refused_line(playlist, kind)], done.stderr
    assert not out.exists() and tree(tmp_path) == before and not wire.opened.is_set()


@case("Security", "a batch folder holding a good file and a DASH playlist named clip.mp4 that names a file "
      "outside the batch, tagged by two worker processes",
      "the good file is tagged; the playlist fails with the one line (in the journal too); exit 1; the named file "
      "is never opened; nothing written outside -o")
@pytest.mark.slow
def test_a_playlist_in_a_batch_fails_alone(trap, tmp_path, tiny_model):
    show = tmp_path / "show"
    show.mkdir()
    shutil.copy(TALK, show / "talk.mp4")
    _, wire = trap("dash", show / "clip.mp4")
    out = tmp_path / "out"
    before = tree(tmp_path)
    done = run("tag", "show", "-o", out, "--model", tiny_model, "--vad", "silero", "--export", "json", "--jobs", "2",
               cwd=tmp_path)
    line = refused_line("show/clip.mp4", "dash")
    assert done.returncode == 1 and done.stderr.splitlines().count(line) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads((out / "talk.analysis.json").read_text())["source"]["path"] == str(show / "talk.mp4")
    journal = [json.loads(x) for x in (out / "mediatagger.journal.jsonl").read_text().splitlines()]
    last = {x["input"]: x for x in journal}
    assert last["show/talk.mp4"]["status"] == "done" and last["show/clip.mp4"]["status"] == "failed"
    assert last["show/clip.mp4"]["error"] == line.removeprefix("mediatagger: error: ")
    assert tree(tmp_path, skip=out) == before and not wire.opened.is_set()


@case("Security", "an analysis whose media was swapped for a DASH playlist after tagging, then reel and burn",
      "exit 1 and the one line naming the media; no clip, reel or video written; the named file is never opened")
def test_a_playlist_is_refused_by_reel_and_burn(trap, tmp_path):
    playlist, wire = trap("dash", tmp_path / "in" / "talk.mp4")
    doc = analysis_of(playlist, tmp_path / "in")
    before = tree(tmp_path)
    reel = run("reel", doc, "-o", tmp_path / "reel", "--crossfade", "0", cwd=tmp_path)
    assert reel.returncode == 1 and reel.stderr.splitlines() == [refused_line(playlist, "dash")], reel.stderr
    assert not list((tmp_path / "reel").rglob("*.mp4")) and not list((tmp_path / "reel").rglob("*.part*"))
    burn = run("burn", playlist, "--analysis", doc, "-o", tmp_path / "burn" / "talk.subtitled.mp4", cwd=tmp_path)
    assert burn.returncode == 1 and burn.stderr.splitlines() == [refused_line(playlist, "dash")], burn.stderr
    assert not (tmp_path / "burn").exists()
    assert tree(tmp_path, skip=tmp_path / "reel") == before and not wire.opened.is_set()


@case("Security", "subtitles to burn that are a DASH manifest and SRT at once (pysubs2 reads the SRT, ffmpeg's "
      "subtitles filter would open the manifest)",
      "exit 1 and one line naming the subtitle file as a playlist (dash); no video written; the named file is "
      "never opened")
def test_subtitles_that_are_also_a_playlist_are_refused_by_burn(trap, tmp_path):
    subs, wire = trap("dash", tmp_path / "in" / "talk.srt")
    with open(subs, "a") as fh:
        fh.write("\n1\n00:00:01,000 --> 00:00:02,000\nhello\n")
    before = tree(tmp_path)
    done = run("burn", TALK, "--subs", subs, "-o", tmp_path / "out" / "talk.subtitled.mp4", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.splitlines() == [refused_line(subs, "dash")], done.stderr
    assert not (tmp_path / "out").exists() and tree(tmp_path) == before and not wire.opened.is_set()


@case("Security", "an editor's cut (EDL) whose media file is an HLS playlist named clip.mp4, through timeline",
      "exit 1 and the one line naming the media; nothing written; the named file is never opened")
def test_a_playlist_is_refused_as_timeline_media(trap, tmp_path, tiny_model):
    playlist, wire = trap("hls", tmp_path / "in" / "clip.m3u8")
    edl = tmp_path / "in" / "cut.edl"
    edl.write_text("TITLE: cut\nFCM: NON-DROP FRAME\n\n"
                   "001  AX       V     C        00:00:00:00 00:00:03:00 01:00:00:00 01:00:03:00\n"
                   f"* FROM CLIP NAME: {playlist.name}\n")
    before = tree(tmp_path)
    done = run("timeline", edl, "-o", tmp_path / "out", "--fps", "25", "--model", tiny_model, "--vad", "none",
               cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.splitlines() == [refused_line(playlist, "hls")], done.stderr
    assert not (tmp_path / "out").exists() and tree(tmp_path) == before and not wire.opened.is_set()


# --- every ffmpeg run on outside media --------------------------------------------------------------

def test_every_later_run_refuses_a_file_swapped_for_a_playlist_after_its_probe(trap, tmp_path):
    """Probe refuses first, but a file can change after it: each media job's own ffmpeg run refuses too."""
    from mediatagger import burnin, cut, cutting
    from mediatagger.highlights import Clip, framed
    from mediatagger.presets import ClipOptions

    swapped = tmp_path / "in" / "talk.mp4"
    swapped.parent.mkdir()
    shutil.copy(TALK, swapped)
    info = media.probe(swapped)
    edl = tmp_path / "in" / "cut.edl"
    edl.write_text("TITLE: cut\nFCM: NON-DROP FRAME\n\n001  AX       V     C        00:00:01:00 00:00:03:00 "
                   "01:00:00:00 01:00:02:00\n* FROM CLIP NAME: talk.mp4\n")
    timeline = cut.read(edl, fps=Fraction(25))
    assert info.fps is not None
    clip, opts, out = framed(Clip(0, 0, ()), 30, 60, info.fps), ClipOptions(), tmp_path / "out"
    out.mkdir()
    swapped.unlink()
    _, wire = trap("dash", swapped)
    subs = tmp_path / "burn.ass"  # never read: ffmpeg stops at its input
    jobs: dict[str, Callable[[], object]] = {
        "extract audio": lambda: media.extract_audio(info, 0),
        "keyframes": lambda: media.keyframes(swapped),
        "frame count": lambda: media.video_frames(swapped),
        "accurate cut": lambda: cutting.cut(info, clip, opts, out / "a.mp4"),
        "fast cut": lambda: cutting.cut(info, clip, ClipOptions(cut="fast"), out / "f.mp4", keys=[Fraction(0)]),
        "burn": lambda: media.run_ffmpeg(burnin.burn_args(swapped, subs, out / "b.mp4", 18, "veryfast", []),
                                         swapped, "cannot burn"),
        "reel": lambda: media.run_ffmpeg(cutting.reel_args([(clip, swapped)], info.fps, opts, out / "r.mp4"),
                                         swapped, "cannot join the reel"),
        "cut's reel": lambda: cut.cutter(timeline, (320, 180))(clip, opts, out / "c.mp4", None, None, "c.mp4"),
    }
    for name, job in jobs.items():
        with pytest.raises(RefusedInputError) as refused:
            job()
        assert str(refused.value) == f"{swapped}: {REFUSED.format(kind='dash')}", name
    assert not list(out.iterdir()) and not wire.opened.is_set()


def test_every_ffmpeg_input_goes_through_the_allow_list():
    """No ``-i`` is written anywhere in the package but in media.py's helpers that add the allow-list."""
    allowed = {("media.py", "input_args"), ("media.py", "concat_input_args"), ("media.py", "_detected_demuxer")}
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree_ = ast.parse(path.read_text(), str(path))
        for func in ast.walk(tree_):
            if isinstance(func, ast.FunctionDef):
                if any(isinstance(n, ast.Constant) and n.value == "-i" for n in ast.walk(func)):
                    found.add((path.name, func.name))
    assert found == allowed


def test_every_allowed_demuxer_is_one_this_ffmpeg_has():
    done = subprocess.run([media.find_ffmpeg(), "-hide_banner", "-demuxers"], capture_output=True, text=True,
                          check=True)
    names = {n for m in re.finditer(r"^ D.. (\S+)", done.stdout, re.M) for n in m.group(1).split(",")}
    assert set(media.MEDIA_DEMUXERS) <= names
    assert not names & {"hls", "dash", "concat", "image2", "sdp", "imf"} & set(media.MEDIA_DEMUXERS)


@pytest.mark.parametrize("name,content,problem", [
    ("subs.mp4", "1\n00:00:01,000 --> 00:00:02,000\nhello\n", "it holds srt, not audio or video; refused"),
    ("meta.mp4", ";FFMETADATA1\ntitle=x\n", "it holds ffmetadata, not audio or video; refused"),
    ("net.mp4", "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
     "is a playlist or reference file (sdp)"),
])
def test_other_formats_off_the_list_are_refused_with_their_name(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(RefusedInputError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        media.probe(path)


def test_media_of_each_allowed_kind_still_probes(tmp_path):
    """A sample of containers and audio files that ffmpeg writes, each read under the allow-list."""
    for suffix in ("mkv", "ts", "avi", "flv", "mpg", "nut", "mxf", "webm", "wmv"):
        path = tmp_path / f"talk.{suffix}"
        ffmpeg("-i", TALK, "-t", "1", "-s", "320x180", path)  # each container's default codecs
        assert media.probe(path).audio_tracks, suffix
    for suffix in ("wav", "flac", "mp3", "ogg", "m4a", "aiff", "w64", "caf", "wv", "au", "ac3"):
        path = tmp_path / f"talk.{suffix}"
        ffmpeg("-i", TALK, "-t", "1", "-vn", path)
        assert len(media.probe(path).audio_tracks) == 1, suffix
