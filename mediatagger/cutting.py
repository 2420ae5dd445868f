"""Cutting planned clips out of a source with ffmpeg, and joining them into a reel.

``accurate`` (default) re-encodes: a coarse input seek to a few seconds before the in point, then
an exact output seek, so the first frame is the planned one in any container (MPEG-TS included);
``-t`` at the constant output rate holds the exact frame count, and variable-rate sources come out
constant. ``fast`` copies streams: it starts on the keyframe at or before the in point and
ends on the keyframe at or after the out point; the clip records those real points. Fast cuts of
variable-frame-rate sources are refused (their keyframe times do not map to frames).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from mediatagger import burnin, framing, media
from mediatagger.errors import UsageError
from mediatagger.framing import Framing
from mediatagger.highlights import Clip, framed
from mediatagger.media import MediaInfo
from mediatagger.presets import ClipOptions
from mediatagger.timecode import format_rate

PREROLL = Fraction(3)   # seconds decoded before the in point by an accurate cut's exact seek


def floor_us(value: Fraction) -> Fraction:
    return Fraction(math.floor(value * 1_000_000), 1_000_000)


def seconds(value: Fraction) -> str:
    """Exact seconds for ffmpeg, floored to the microsecond so a seek to a frame's start never lands after it."""
    micros = int(floor_us(value) * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def hybrid_seek(clip: Clip, origin: Fraction = Fraction(0)) -> tuple[Fraction, Fraction]:
    """(input seek, output seek) in the file's time (the media's plus ``origin``): a coarse seek up to
    ``PREROLL`` before the in point, then the exact rest."""
    seek = clip.seek + origin
    coarse = floor_us(max(Fraction(0), seek - PREROLL))
    return coarse, seek - coarse


def encode_args(opts: ClipOptions) -> list[str]:
    return ["-c:v", "libx264", "-preset", opts.x264_preset, "-crf", str(opts.crf), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", opts.audio_bitrate, "-movflags", "+faststart", "-f", "mp4"]


def accurate_args(info: MediaInfo, clip: Clip, opts: ClipOptions, out: Path, subs: Path | None = None,
                  fontsdir: Path | None = None, crop: Framing | None = None) -> list[str]:
    coarse, fine = hybrid_seek(clip, info.origin)
    args = ["-y", "-loglevel", "warning", "-ss", seconds(coarse), *media.input_args(info.path),
            "-ss", seconds(fine), "-t", seconds(clip.length), "-map", "0:v:0?", "-map", "0:a?",
            "-sn", "-dn", "-map_metadata", "-1"]
    if clip.frames and info.fps:  # -t ends a constant-rate stream after exactly clip.frames frames
        args += ["-fps_mode", "cfr", "-r", format_rate(info.fps)]  # (-frames:v ends the audio early in ffmpeg 5)
    # audio from the clip's first instant (silence fills what a coarse packet boundary left out) to its last
    args += ["-af", "aresample=async=1:first_pts=0,apad"]
    # the filters see times from the coarse seek; the output seek trims after them
    chain = [framing.crop_filter(crop, float(fine))] if crop is not None else []
    if subs is not None:
        chain.append(burnin.subtitles_filter(subs, fontsdir, shift=coarse - info.origin))
    if chain:
        args += ["-vf", ",".join(chain)]
    return args + encode_args(opts) + [media.file_arg(out)]


def snap_to_keyframes(clip: Clip, keys: list[Fraction], info: MediaInfo) -> Clip:
    """The clip widened to keyframes: in on the last at or before it, out on the first at or after it."""
    refuse_variable_rate(info)
    fps = info.fps
    assert fps is not None
    keys = [k - info.origin for k in keys]  # the file's times to the media's
    first = max((k for k in keys if k <= clip.seek), default=Fraction(0))
    total = math.floor((Fraction(info.duration_ms, 1000) - info.origin) * fps)
    last = min((k for k in keys if k >= clip.seek + clip.length), default=total / fps)
    return framed(clip, round(first * fps), min(total, round(last * fps)), fps)


def fast_args(info: MediaInfo, clip: Clip, out: Path) -> list[str]:
    """Stream copy from a keyframe: seek half a frame past it (the demuxer goes back to it)."""
    assert info.fps is not None and clip.frames is not None
    return ["-y", "-loglevel", "error", "-ss", seconds(info.origin + clip.seek + 1 / (2 * info.fps)),
            *media.input_args(info.path), "-t", seconds(clip.length), "-frames:v", str(clip.frames),
            "-map", "0:v:0", "-map", "0:a?", "-sn", "-dn", "-map_metadata", "-1", "-c", "copy",
            "-avoid_negative_ts", "make_zero", "-movflags", "+faststart", "-f", "mp4", media.file_arg(out)]


def check(info: MediaInfo, opts: ClipOptions, aspect: str = "source") -> None:
    """What would make a cut (cropped to ``aspect``) fail part-way, raised before anything is cut."""
    if aspect != "source":
        framing.check(info, opts, aspect)
    if opts.cut != "fast" or not info.fps:
        return
    if opts.burn != "none":
        raise UsageError("burned subtitles need re-encoding", hint="use {cut_accurate}")
    refuse_variable_rate(info)


def refuse_variable_rate(info: MediaInfo) -> None:
    if info.variable_fps:
        raise UsageError(f"{info.path}: variable frame rate: fast cuts cannot land on frames",
                         hint="use {cut_accurate}")


def cut(info: MediaInfo, clip: Clip, opts: ClipOptions, out: Path, subs: Path | None = None,
        keys: list[Fraction] | None = None, progress: Callable[[float], None] | None = None,
        name: str | None = None, crop: Framing | None = None) -> Clip:
    """Write one clip to ``out`` (a temp file that becomes ``name``, for messages); returns the clip as
    actually cut (fast cuts move to keyframes). ``progress`` gets the seconds of the clip written so far."""
    what = f"cannot cut {name or out.name}"
    if opts.cut == "fast" and info.fps:
        keys = keys if keys is not None else media.keyframes(info.path)
        media.run_ffmpeg(fast_args(info, snap_to_keyframes(clip, keys, info), out), info.path, what, progress)
        return as_cut(info, clip, opts, out, keys)
    done = media.run_ffmpeg(accurate_args(info, clip, opts, out, subs, crop=crop), info.path, what, progress)
    if subs is not None:
        burnin.check_fonts(done.stderr.decode("utf-8", "replace"), subs)
    return clip


def as_cut(info: MediaInfo, clip: Clip, opts: ClipOptions, path: Path, keys: list[Fraction] | None = None) -> Clip:
    """The planned ``clip`` as the file ``path`` holds it: fast cuts start on a keyframe and hold the
    frames the copy really has; accurate cuts hold the plan."""
    if opts.cut != "fast" or not info.fps:
        return clip
    clip = snap_to_keyframes(clip, keys if keys is not None else media.keyframes(info.path), info)
    first = clip.first_frame or 0
    return framed(clip, first, first + media.video_frames(path), info.fps)


def overlap(clips: list[Clip], opts: ClipOptions, fps: Fraction | None) -> Fraction:
    """The reel's crossfade in seconds: whole frames, at most half the shortest clip, 0 for one clip."""
    if len(clips) < 2 or not opts.crossfade_ms:
        return Fraction(0)
    want = Fraction(opts.crossfade_ms, 1000)
    if fps:
        return min(round(want * fps), min(c.frames or 0 for c in clips) // 2) / fps
    return min(want, min(c.length for c in clips) / 2)


def audio_chain(i: int, clip: Clip, opts: ClipOptions, fades: bool) -> str:
    """Clip ``i``'s first audio track, padded or trimmed to the clip's exact length (no drift)."""
    chain = (f"[{i}:a:0]aresample=48000,aformat=channel_layouts=stereo,apad,atrim=end={seconds(clip.length)},"
             "asetpts=PTS-STARTPTS")
    if fades and opts.audio_fade_ms:
        fade = Fraction(opts.audio_fade_ms, 1000)
        chain += f",afade=t=in:d={seconds(fade)},afade=t=out:st={seconds(clip.length - fade)}:d={seconds(fade)}"
    return chain + f"[a{i}]"


def reel_graph(clips: list[Clip], fps: Fraction | None, opts: ClipOptions) -> str:
    """The filtergraph joining the clip files (inputs 0..n-1) into ``[v]``/``[a]``.

    Each clip's audio is padded or trimmed to its exact length, so lengths add up without drift;
    crossfades are xfade/acrossfade of whole frames, hard cuts get short audio fades instead.
    """
    cross = overlap(clips, opts, fps)
    parts = []
    for i, clip in enumerate(clips):
        parts.append(audio_chain(i, clip, opts, fades=not cross))
        if fps:
            parts.append(f"[{i}:v:0]setpts=PTS-STARTPTS,fps={format_rate(fps)},format=yuv420p,setsar=1,"
                         f"trim=end_frame={clip.frames},setpts=PTS-STARTPTS[v{i}]")
    if not cross:
        inputs = "".join((f"[v{i}]" if fps else "") + f"[a{i}]" for i in range(len(clips)))
        parts.append(f"{inputs}concat=n={len(clips)}:v={1 if fps else 0}:a=1" + ("[v]" if fps else "") + "[a]")
        return ";".join(parts)
    video, audio, offset = "v0", "a0", Fraction(0)
    for i in range(1, len(clips)):
        offset += clips[i - 1].length - cross
        last = i == len(clips) - 1
        if fps:
            parts.append(f"[{video}][v{i}]xfade=transition=fade:duration={seconds(cross)}:offset={seconds(offset)}"
                         + ("[v]" if last else f"[xv{i}]"))
        parts.append(f"[{audio}][a{i}]acrossfade=d={seconds(cross)}:c1=tri:c2=tri" + ("[a]" if last else f"[xa{i}]"))
        video, audio = f"xv{i}", f"xa{i}"
    return ";".join(parts)


def reel_args(clips: list[tuple[Clip, Path]], fps: Fraction | None, opts: ClipOptions, out: Path) -> list[str]:
    graph = reel_graph([c for c, _ in clips], fps, opts)
    inputs = [arg for _, path in clips for arg in media.input_args(path)]
    maps = (["-map", "[v]"] if fps else []) + ["-map", "[a]"]
    return ["-y", "-loglevel", "error", *inputs, "-filter_complex", graph, *maps, *encode_args(opts),
            media.file_arg(out)]


def concat_list(paths: list[Path]) -> str:
    """An ffconcat list; quotes in names escaped as the concat demuxer reads them."""
    lines = ["ffconcat version 1.0"]
    lines += ["file '" + str(p.resolve()).replace("'", "'\\''") + "'" for p in paths]
    return "\n".join(lines) + "\n"


def copy_reel_args(listing: Path, out: Path) -> list[str]:
    """Fast clips with hard cuts: the reel is their streams copied one after another (no re-encoding, no fades)."""
    return ["-y", "-loglevel", "error", *media.concat_input_args(listing),
            "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-movflags", "+faststart", "-f", "mp4",
            media.file_arg(out)]
