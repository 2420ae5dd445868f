"""Burning subtitles into video with ffmpeg's ``subtitles`` filter (libass).

Paths reach the filter through two levels of escaping (FFmpeg's "Quoting and escaping"): inside an
option value ``\\ ' :`` are backslash-escaped, then in the filtergraph ``\\ ' [ ] , ;`` are; no
shell is ever involved. The filter renders with the fonts of ``fontsdir`` (mediatagger's bundled
DejaVu Sans by default) as well as the system's, and a subtitle font libass cannot find is an
error rather than a video without subtitles.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

from mediatagger import files, media
from mediatagger.errors import MediaError, MediaTaggerError, UsageError
from mediatagger.progress import Callback, Stage, ignore

FONTS = Path(__file__).resolve().parent / "fonts"
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
MP4_AUDIO = ("aac", "mp3", "ac3", "eac3", "alac", "opus", "flac")  # what mp4/mov take without re-encoding
MISSING_FONT = re.compile(r"fontselect: failed to find any fallback with glyph 0x([0-9A-Fa-f]+) for font: \((.*?), ")


def escape_value(text: str) -> str:
    """First level: an option value (``\\``, ``'`` and the ``:`` that separates options)."""
    return re.sub(r"([\\':])", r"\\\1", text)


def escape_graph(text: str) -> str:
    """Second level: a whole filter description inside a filtergraph."""
    return re.sub(r"([\\'\[\],;])", r"\\\1", text)


def subtitles_filter(subs: Path, fontsdir: Path | None = None, shift: Fraction = Fraction(0)) -> str:
    """The ``-vf`` graph that burns ``subs``; ``shift`` is the source time (seconds) of the filter's
    time zero (for a clip cut from the middle: the filter sees times from the seek, cues are in source time)."""
    fonts = (fontsdir or FONTS).resolve()
    burn = escape_graph(f"subtitles=filename={escape_value(str(subs.resolve()))}:fontsdir={escape_value(str(fonts))}")
    if shift:  # to source time for the cues and back by the same whole number of ticks (setpts truncates;
        ticks = f"round({shift.numerator}/({shift.denominator}*TB))"  # STARTPTS need not be the seek point)
        return f"setpts=PTS+{ticks},{burn},setpts=PTS-{ticks}"
    return burn


def container(out: Path) -> str:
    try:
        return CONTAINERS[out.suffix.lower()]
    except KeyError:
        raise UsageError(f"{out}: the output must end in {', '.join(CONTAINERS)}") from None


def audio_args(info: media.MediaInfo, muxer: str, bitrate: str) -> list[str]:
    """Copy the audio when the container takes its codec, else encode AAC."""
    if muxer == "matroska" or all(t.codec in MP4_AUDIO for t in info.audio_tracks):
        return ["-c:a", "copy"]
    return ["-c:a", "aac", "-b:a", bitrate]


def check_fonts(stderr: str, subs: Path) -> None:
    """libass only warns when no font can draw a character; make that an error naming the font."""
    missing = MISSING_FONT.search(stderr)
    if missing:
        char = chr(int(missing.group(1), 16))
        what = f"the character {char!r}" if char != "\x00" else "any text"
        raise MediaError(subs, f"no font for {what} in font {missing.group(2)!r}",
                         hint="install it, or pass {fontsdir} with the font file")


def check_subtitles(subs: Path) -> None:
    """A subtitle file that exists and parses (pysubs2 reads what libass will be given)."""
    import pysubs2

    media.check_input(subs)
    try:
        pysubs2.load(str(subs))
    except (UnicodeDecodeError, pysubs2.exceptions.Pysubs2Error, ValueError) as exc:
        raise MediaError(subs, f"cannot read subtitles: {exc}") from None


def own_copy(subs: Path, folder: Path) -> Path:
    """The subtitles as a file of ours in ``folder`` (the same bytes), checked as ffmpeg's ``subtitles`` filter
    will open it: a subtitle format, not a playlist that also parses as SRT; a copy cannot be swapped after."""
    own = folder / f"subs{subs.suffix.lower()}"
    shutil.copyfile(subs, own)
    media.check_subtitle_file(own, subs)
    return own


def check(source: Path, subs: Path, out: Path) -> None:
    """Before anything is read for a burn: subtitles that parse, a source there, an output no input."""
    check_subtitles(subs)
    media.check_input(source)
    check_paths(source, subs, out)


def check_paths(source: Path, subs: Path, out: Path) -> None:
    if out.resolve() in (source.resolve(), subs.resolve()):
        raise UsageError(f"{out}: the output would overwrite an input")


STAMP = "mediatagger burn "  # the comment tag a burned file carries: what it was made from


def recipe(source: Path, subs: Path, crf: int, x264_preset: str, audio_bitrate: str,
           fontsdir: Path | None = None) -> str:
    """The stamp of a burn: the source's and the subtitles' bytes, the encoding and the fonts given."""
    from mediatagger.pipeline import content_hash

    given = fontsdir.iterdir() if fontsdir and fontsdir.is_dir() else ()
    fonts = sorted((f.name, f.stat().st_size) for f in given if f.is_file())
    parts = [content_hash(source), hashlib.sha256(subs.read_bytes()).hexdigest(), crf, x264_preset,
             audio_bitrate, fonts]
    return STAMP + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def stamp_of(out: Path) -> str | None:
    """The stamp in ``out``'s comment tag, or None (not ours, or unreadable)."""
    with tempfile.TemporaryDirectory(prefix="mediatagger-") as folder:
        tags = Path(folder) / "tags.txt"
        try:
            media.run_ffmpeg(["-loglevel", "error", *media.input_args(out), "-f", "ffmetadata",
                              media.file_arg(tags)], out, "cannot read its tags")
        except MediaTaggerError:
            return None
        found = re.search(r"^comment=(mediatagger burn \w+)$", tags.read_text("utf-8", "replace"), re.M)
    return found.group(1) if found else None


def burn_args(source: Path, subs: Path, out: Path, crf: int, x264_preset: str, audio: list[str],
              fontsdir: Path | None = None, origin: Fraction = Fraction(0), stamp: str = "") -> list[str]:
    """Every source frame kept as it was timed (``passthrough``: no frame is duplicated to fill a late
    video start, so frame N of the output is frame N of the source). Cues are on the media's clock,
    frames on the file's: the first frame is at ``origin``."""
    return ["-y", "-loglevel", "warning", *media.input_args(source), "-map", "0:v:0", "-map", "0:a?",
            "-vf", subtitles_filter(subs, fontsdir, -origin), "-fps_mode", "passthrough",
            "-c:v", "libx264", "-preset", x264_preset, "-crf", str(crf), "-pix_fmt", "yuv420p", *audio,
            *(["-metadata", f"comment={stamp}"] if stamp else []),
            "-movflags", "+faststart", "-f", container(out), media.file_arg(out)]


def burn(source: Path, subs: Path, out: Path, crf: int = 18, x264_preset: str = "veryfast",
         audio_bitrate: str = "192k", fontsdir: Path | None = None, progress: Callback = ignore,
         stamp: str = "") -> Path:
    """Write ``out``: ``source`` with ``subs`` burned in, audio copied; written to a temp file first,
    tagged with ``stamp`` (``recipe``) so an identical rerun can keep it. The caller checked the
    subtitles and the paths (``check``) before taking the recipe."""
    info = media.probe(source)
    if not info.fps:
        raise MediaError(source, "has no video to burn subtitles into")
    audio = audio_args(info, container(out), audio_bitrate)
    stage = Stage(progress, "burn", info.duration_ms / 1000, "s")
    with tempfile.TemporaryDirectory(prefix="mediatagger-") as folder, files.atomic_path(out) as tmp:
        own = own_copy(subs, Path(folder))
        done = media.run_ffmpeg(burn_args(source, own, tmp, crf, x264_preset, audio, fontsdir, info.origin, stamp),
                                source,
                                f"cannot burn {subs.name} into {out.name}", stage.update)
        check_fonts(done.stderr.decode("utf-8", "replace"), subs)
    stage.finish()
    return out
