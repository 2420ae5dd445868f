"""Vertical and square reels (``reel --aspect``): the crop follows the face, eases within a shot and jumps
once at a cut, prefers the person speaking, keeps the centre (and says so) where no face is found.

samples/faces/face.mp4 (samples/make_face.py: a photographed face, NASA's portrait of Eileen Collins, moving,
then a cut, then a second face with the sound on its side); the face detector is OpenCV's own, run on
the rendered reel too, frame by frame, to check where the face sits in what was written."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from mediatagger import analysis, framing, media, presets
from samples import make_face
from tests.conftest import SAMPLES, TALK, ffprobe, load_fixed, run_cli

pytest.importorskip("cv2", reason="vertical reels need OpenCV: pip install 'mediatagger[vertical]'")
pytestmark = pytest.mark.slow

FACE = SAMPLES / "faces" / "face.mp4"


@pytest.mark.parametrize(("size", "aspect", "crop"), [
    ((1280, 720), "9:16", (404, 720)), ((1280, 720), "1:1", (720, 720)), ((1280, 720), "4:5", (576, 720)),
    ((1280, 720), "source", (1280, 720)), ((720, 1280), "9:16", (720, 1280)), ((720, 1280), "1:1", (720, 720)),
    ((1080, 1350), "9:16", (760, 1350))])
def test_the_crop_is_the_largest_of_its_aspect(size, aspect, crop):
    assert framing.crop_size(*size, aspect) == crop


@pytest.fixture(scope="module")
def framed() -> framing.Framing:
    return framing.frame(media.probe(FACE), Fraction(0), Fraction(20), "9:16")


def centre_at(crop: framing.Framing, ms: int) -> float:
    keys = crop.keys
    times = [k for k, _ in keys]
    return float(np.interp(ms, times, [x for _, x in keys])) + crop.width / 2


def test_the_crop_follows_the_face_and_the_speaker(framed):
    assert (framed.width, framed.height, framed.faces) == (404, 720, True)
    for ms in range(0, 20_000, 200):
        faces = make_face.faces(ms / 1000)
        speaker = faces[-1][0]     # one face, or (from 12 s) the one on the right, whose side is loud
        centre = centre_at(framed, ms)
        assert abs(centre - speaker) < framed.width / 2 - 40, (ms, centre, speaker)   # the face is in frame
        settled = ms >= 1000 and not (8000 <= ms < 9000) and not (12_000 <= ms < 13_000)
        if settled:
            assert abs(centre - speaker) < 0.15 * framed.width, (ms, centre, speaker)


def test_the_crop_jumps_once_per_cut_and_eases_otherwise(framed):
    keys = list(framed.keys)
    jumps = [b_ms for (a_ms, a), (b_ms, b) in zip(keys, keys[1:]) if abs(b - a) > 60 and b_ms - a_ms < 100]
    assert jumps == [8000, 12000]   # the cut, and the second face appearing (a new shot to the detector)
    steps = [abs(b - a) for (a_ms, a), (b_ms, b) in zip(keys, keys[1:]) if b_ms - a_ms >= 100]
    assert max(steps) <= 60   # within a shot: at most 60 px per 0.2 s, no jitter
    still = [x for ms, x in keys if 9000 <= ms < 12_000]
    assert len(set(still)) == 1   # a face that does not move: a crop that does not move


def reel_of(tmp_path: Path, media_path: Path, *args: str, laugh: tuple[int, int] = (2000, 17_000),
            out: str = "out") -> subprocess.CompletedProcess:
    """``mediatagger reel`` of a hand-made analysis of ``media_path``: samples/talk.mp4's transcript, one
    laugh (a clip from 4 s before it to 1 s after it)."""
    doc = analysis.to_dict(load_fixed())
    doc["source"] = {**analysis.to_dict(analysis.bare(media.probe(media_path)))["source"]}
    doc["tracks"][0]["events"] = [{"start_ms": laugh[0], "end_ms": laugh[1], "label": "LAUGHTER", "score": 0.9,
                                   "track": 0}]
    source = tmp_path / f"{media_path.stem}.analysis.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    return run_cli("reel", source, "-o", tmp_path / out, "--crossfade", "0", "--cut", "accurate", *args)


def picture(path: Path, at: float) -> np.ndarray:
    """The frame of ``path`` at ``at`` seconds, RGB."""
    size = ffprobe(path)["video"]
    done = subprocess.run([media.find_ffmpeg(), "-v", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
                           "-pix_fmt", "rgb24", "-f", "rawvideo", "-"], capture_output=True, check=True)
    return np.frombuffer(done.stdout, np.uint8).reshape(size["height"], size["width"], 3)


KIOSK = {"top": 0.2, "bottom": 0.3, "left": 0.1, "right": 0.2}   # a platform a preset's table adds


@pytest.mark.parametrize("platform", ["shorts", "reels", "tiktok", "kiosk"])
def test_burned_text_stays_inside_the_platforms_safe_zone(tmp_path, platform):
    """The clip from 0 to 5 s: the first line said (0.5-2.7 s) and the [Laughter] badge (2-4 s) burned in.
    Where the burned reel differs from the plain one is the text: every such pixel row and column lies
    inside the platform's safe zone (from the preset's table, reel.safe_zones: the shipped platforms
    chosen with --platform, one the preset adds chosen in the preset), and there is text near its bottom
    and its top."""
    plain = reel_of(tmp_path, FACE, "--aspect", "9:16", laugh=(2000, 4000), out="plain")
    chosen = ["--platform", platform] if platform != "kiosk" else ["--preset", str(kiosk_preset(tmp_path))]
    burned = reel_of(tmp_path, FACE, "--aspect", "9:16", "--burn", "all", *chosen, laugh=(2000, 4000), out="burned")
    assert plain.returncode == 0 and burned.returncode == 0, plain.stderr + burned.stderr
    zone = presets.Preset().reel.zones().get(platform) or presets.SafeZone(**KIOSK)
    top, bottom, left, right = zone.top, zone.bottom, zone.left, zone.right
    width, height = 404, 720
    for at, what in ((1.5, "dialogue"), (3.3, "badge")):
        text = np.abs(picture(tmp_path / "burned" / "face.reel.mp4", at).astype(int)
                      - picture(tmp_path / "plain" / "face.reel.mp4", at).astype(int)).max(axis=2) > 60
        rows, cols = np.flatnonzero(text.any(axis=1)), np.flatnonzero(text.any(axis=0))
        assert len(rows), f"no {what} burned at {at} s"
        assert top * height - 2 <= rows.min() and rows.max() <= (1 - bottom) * height + 2, (what, rows)
        assert left * width - 2 <= cols.min() and cols.max() <= (1 - right) * width + 2, (what, cols)
        if what == "dialogue":   # set on the safe zone's bottom edge
            assert rows.max() > (1 - bottom) * height - 40
        else:                    # the badge hangs from its top edge
            assert rows.min() < top * height + 40


def kiosk_preset(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.yaml"
    zone = ", ".join(f"{k}: {v}" for k, v in KIOSK.items())
    path.write_text(f"reel:\n  platform: kiosk\n  safe_zones:\n    kiosk: {{{zone}}}\n", encoding="utf-8")
    return path


def faces_in(path: Path, seconds: list[float]) -> list[list[float]]:
    """The face centres (x) OpenCV finds in the frames of ``path`` at ``seconds``, the largest first."""
    cascade = framing.detector()
    out = []
    for at in seconds:
        done = subprocess.run([media.find_ffmpeg(), "-v", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
                               "-pix_fmt", "gray", "-f", "rawvideo", "-"], capture_output=True, check=True)
        width, height = ffprobe(path)["video"]["width"], ffprobe(path)["video"]["height"]
        picture = np.frombuffer(done.stdout, np.uint8)[:width * height].reshape(height, width)
        found = cascade.detectMultiScale(picture, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40))
        out.append([x + w / 2 for x, _, w, _ in sorted(found, key=lambda box: -box[2])])
    return out


@pytest.mark.parametrize(("aspect", "width"), [("9:16", 404), ("1:1", 720), ("4:5", 576)])
def test_a_reel_at_each_aspect_keeps_the_face_near_the_middle_of_each_frame(tmp_path, aspect, width):
    done = reel_of(tmp_path, FACE, "--aspect", aspect)
    assert done.returncode == 0, done.stderr
    reel = tmp_path / "out" / "face.reel.mp4"
    probe = ffprobe(reel)
    assert (probe["video"]["width"], probe["video"]["height"]) == (width, 720)
    plan = json.loads((tmp_path / "out" / "face.clips.json").read_text())
    (clip,) = plan["clips"]
    assert clip["crop"]["aspect"] == aspect and clip["crop"]["faces"] is True and len(clip["crop"]["x"]) >= 80
    keys = clip["crop"]["x"]
    # the clip runs from 0 s (the laugh at 2 s less its pre-roll) to 18 s; a frame each half second
    seconds = [t / 2 for t in range(1, 36)]
    for at, found in zip(seconds, faces_in(reel, seconds)):
        left = float(np.interp(at * 1000, [k for k, _ in keys], [x for _, x in keys]))
        expected = make_face.faces(at)[-1][0] - left   # where the speaker's face is in the frame, by the plan
        assert any(abs(x - expected) < 8 for x in found), (at, expected, found)   # the frame is cropped as planned
        settled = not (7.5 <= at <= 8.5 or 11.5 <= at <= 12.5)   # a second after a cut
        if settled and 0 < left < 1280 - width:   # the crop is not held at the picture's edge
            assert abs(expected - width / 2) < 0.15 * width, (at, expected)


def test_no_face_keeps_the_centre_and_says_so(tmp_path):
    done = reel_of(tmp_path, TALK, "--aspect", "1:1")
    assert done.returncode == 0, done.stderr
    assert "warning: " in done.stderr and "no face found in a shot: that shot is cropped at the centre" in done.stderr
    (clip,) = json.loads((tmp_path / "out" / "talk.clips.json").read_text())["clips"]
    width = media.probe(TALK).width
    assert clip["crop"]["faces"] is False and {x for _, x in clip["crop"]["x"]} == {(width - 360) // 2}
    assert ffprobe(tmp_path / "out" / "talk.reel.mp4")["video"]["height"] == 360


@pytest.mark.parametrize(("media_path", "args", "said"), [
    (FACE, ["--aspect", "9:16", "--cut", "fast"], "a 9:16 crop re-encodes the picture: fast cuts cannot make it"),
    (SAMPLES / "realsound" / "clips" / "laughter" / "L1-hedgewars-Surfer-Laugh.ogg", ["--aspect", "4:5"],
     "L1-hedgewars-Surfer-Laugh.ogg: no picture to crop to 4:5"),
    (FACE, ["--aspect", "9:16", "--platform", "myspace"],
     "reel.platform = 'myspace' names no platform of reel.safe_zones (shorts, reels, tiktok)")])
def test_what_a_crop_cannot_do_is_one_line(tmp_path, media_path, args, said):
    done = reel_of(tmp_path, media_path, *args, laugh=(100, 500))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert said in done.stderr.strip().splitlines()[0]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.mp4"))
