"""The cut's highlight reel: the clips cut from the cut's record time, its first video track rendered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from mediatagger import media
from mediatagger.cut.reading import Cut, Piece
from mediatagger.timecode import ms_to_frame

# --- a highlight reel of the cut -------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """A stretch of a highlight clip: frames of one piece's media, or a gap (black and silence)."""

    seconds: Fraction            # length
    media: Path | None = None    # None: a gap
    seek: Fraction = Fraction(0)  # where in the media it starts (seconds)
    audio: bool = True           # the media has a sound track


def shown(cut: Cut) -> list[Piece]:
    """What the audience sees: the first video track's pieces (or the first audio track's, without video)."""
    video = [p for p in cut.pieces if p.video]
    first = (video or list(cut.pieces))[:1]
    return [p for p in (video or list(cut.pieces)) if first and p.track == first[0].track]


def parts(cut: Cut, first: int, frames: int) -> list[Part]:
    """Record frames [first, first + frames) as the pieces (and gaps) that show them."""
    out, cursor, end = [], first, first + frames
    for p in sorted(shown(cut), key=lambda p: p.record):
        length = cut.record_frames(p, p.frames)
        a, b = max(cursor, p.record), min(end, p.record + length)
        if b <= a:
            continue
        if a > cursor:
            out.append(Part(Fraction(a - cursor) / cut.fps))
        info = cut.infos[p.media]
        seek = info.origin + Fraction(p.source) / p.rate + Fraction(a - p.record) / cut.fps
        out.append(Part(Fraction(b - a) / cut.fps, p.media, seek, bool(info.audio_tracks)))
        cursor = b
    if cursor < end:
        out.append(Part(Fraction(end - cursor) / cut.fps))
    return out


def render_args(cut: Cut, clip_parts: list[Part], size: tuple[int, int] | None, length: Fraction,
                opts: Any, out: Path, subs: Path | None, shift: Fraction) -> list[str]:
    """ffmpeg arguments that render ``clip_parts`` one after another as one clip of ``length`` seconds,
    conformed to the timeline's rate and ``size`` (None: sound only)."""
    from mediatagger import burnin, cutting

    args, chains, inputs = ["-y", "-loglevel", "error"], [], 0
    for n, part in enumerate(clip_parts):
        d = cutting.seconds(part.seconds)
        if part.media is None:
            if size:
                chains.append(f"color=c=black:s={size[0]}x{size[1]}:r={cut.fps}:d={d},format=yuv420p,setsar=1[v{n}]")
            chains.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={d}[a{n}]")
            continue
        coarse = cutting.floor_us(max(Fraction(0), part.seek - cutting.PREROLL))
        args += ["-ss", cutting.seconds(coarse), *media.input_args(part.media)]
        fine = cutting.seconds(part.seek - coarse)
        if size:
            chains.append(f"[{inputs}:v:0]trim=start={fine}:duration={d},setpts=PTS-STARTPTS,fps={cut.fps},"
                          f"scale={size[0]}:{size[1]}:force_original_aspect_ratio=decrease,"
                          f"pad={size[0]}:{size[1]}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v{n}]")
        chains.append(f"[{inputs}:a:0]atrim=start={fine}:duration={d},asetpts=PTS-STARTPTS,aresample=48000,"
                      f"aformat=channel_layouts=stereo,apad=whole_dur={d}[a{n}]" if part.audio else
                      f"anullsrc=r=48000:cl=stereo,atrim=duration={d}[a{n}]")
        inputs += 1
    joined = "".join((f"[v{n}]" if size else "") + f"[a{n}]" for n in range(len(clip_parts)))
    video_out = "[vj]" if subs is not None else "[v]"
    chains.append(f"{joined}concat=n={len(clip_parts)}:v={1 if size else 0}:a=1" + (video_out if size else "") + "[a]")
    if subs is not None and size:
        chains.append(f"[vj]{burnin.subtitles_filter(subs, None, shift)}[v]")
    maps = (["-map", "[v]", "-r", str(cut.fps)] if size else []) + ["-map", "[a]"]
    return [*args, "-filter_complex", ";".join(chains), *maps, "-t", cutting.seconds(length),
            *cutting.encode_args(opts), media.file_arg(out)]


def cutter(cut: Cut, size: tuple[int, int] | None) -> Callable[..., Any]:
    """A highlight clip's renderer for ``clips.Job``: the clip's record range, rendered from the cut."""

    def render(clip: Any, opts: Any, out: Path, subs: Path | None, progress: Callable[[float], None] | None,
               name: str) -> Any:
        first = ms_to_frame(clip.start_ms, cut.fps)
        frames = clip.frames if clip.frames else max(1, ms_to_frame(clip.end_ms, cut.fps) - first)
        args = render_args(cut, parts(cut, first, frames), size, clip.length, opts, out, subs, clip.seek)
        media.run_ffmpeg(args, cut.path, f"cannot render {name}", progress)
        return clip
    return render
