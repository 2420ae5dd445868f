"""Make samples/faces/face.mp4: a face to keep in frame, for vertical reels (``reel --aspect 9:16``).

    python samples/make_face.py

1280x720 at 30 fps, 20 s, samples/talk.mp4's sound; the picture is a plain background and the face of
samples/faces/astronaut.jpg (see samples/faces/SOURCES.md), placed by ffmpeg's overlay:

   0 - 8 s   one face moving left to right (its centre from x 255 to 975)
   8 s       a cut: the face jumps to the left (centre x 295) and stays
  12 - 20 s  a second face, mirrored, on the right (centre x 1060); the sound is then the right
             channel's (the left one at a tenth): the person on the right speaks

``FACES`` below is where the face centres are, for the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SIZE, FPS, SECONDS = (1280, 720), 30, 20
FACE = 400                  # the picture's size on screen (px)
FACE_X, FACE_Y = 175, 88    # the face's centre in the picture (the detector's box, scaled from 512 to 400)
TOP = 160                   # the picture's top on screen
CUT_S, SECOND_S = 8, 12


def left_x(t: float) -> float:
    """Where the first picture's left edge is at ``t`` (s)."""
    return 80 + 90 * t if t < CUT_S else 120


RIGHT_X = 1280 - 80 - FACE + 35   # the mirrored picture's left edge: its face centre at 1060


def faces(t: float) -> list[tuple[float, float]]:
    """The face centres on screen at ``t``: the first, then from SECOND_S the mirrored one too."""
    first = [(left_x(t) + FACE_X, TOP + FACE_Y)]
    return first + ([(RIGHT_X + FACE - FACE_X, TOP + FACE_Y)] if t >= SECOND_S else [])


def main() -> None:
    from mediatagger import media

    out = HERE / "faces" / "face.mp4"   # beside its picture, not in samples/, which the README's batch tags
    graph = (f"[1:v]scale={FACE}:{FACE},split[a][b];[b]hflip[m];"
             f"[0:v][a]overlay=x='if(lt(t,{CUT_S}),80+90*t,120)':y={TOP}[one];"
             f"[one][m]overlay=x={RIGHT_X}:y={TOP}:enable='gte(t,{SECOND_S})',format=yuv420p[v];"
             f"[2:a]channelsplit=channel_layout=stereo[l][r];[l]volume=volume=0.1:enable='gte(t,{SECOND_S})'[lq];"
             "[lq][r]join=inputs=2:channel_layout=stereo[s]")
    media.run_ffmpeg(["-y", "-loglevel", "error", "-f", "lavfi", "-i",
                      f"color=c=0x2b3a4a:s={SIZE[0]}x{SIZE[1]}:r={FPS}:d={SECONDS}",
                      "-loop", "1", "-framerate", str(FPS), "-i", str(HERE / "faces" / "astronaut.jpg"),
                      "-i", str(HERE / "talk.mp4"), "-filter_complex", graph, "-map", "[v]", "-map", "[s]",
                      "-t", str(SECONDS), "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", "60",
                      "-c:a", "aac", "-b:a", "96k", media.file_arg(out)], out, "cannot make the face sample")
    print(out)


if __name__ == "__main__":
    main()
