"""Shotcut and Kdenlive projects, read back by the programs themselves.

melt, MLT's command line and the engine under both editors, loads each project whole
(``MLT_XML_DEEP=1 melt FILE -consumer xml:OUT store=shotcut|kdenlive`` writes back what it built,
without rendering): the clip's length on the timeline, Shotcut's markers (tractor properties) and
MLT's own reading of every time we write. Kdenlive reads its guides from the document itself, not
through MLT, so they are checked in the file here and in Kdenlive below.

The editors open each project under Xvfb (``slow``): the window names the project, the markers are
drawn in their colours (pixels of each colour in a screenshot), and the project the editor saves
again holds them (Kdenlive writes its guides from its own guide model, so what it saves is what it
read). ``MEDIATAGGER_APP_SCREENSHOTS=1`` keeps the screenshots as docs/shotcut.png and docs/kdenlive.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from mediatagger import analysis, api, media, presets
from mediatagger.exporters import EXPORTERS, markers
from mediatagger.exporters.edl_loc import locator_text
from mediatagger.exporters.kdenlive import GUIDE_COLORS, guide_type
from mediatagger.exporters.mlt import HEX_COLORS, clock, hex_color
from mediatagger.presets import RESOLVE_COLORS
from tests.conftest import REPO, TALK, ffmpeg
from tests.exporters.test_hostile import HOSTILE, document, visible
from tests.exporters.test_markers import at_rate

MELT = shutil.which("melt")
needs_melt = pytest.mark.skipif(MELT is None, reason="melt is not installed (apt-get install melt)")
NTSC = Fraction(30000, 1001)
RATES = [Fraction(25), NTSC]


def write(name: str, doc: analysis.Analysis, out_dir: Path) -> Path:
    exporter = EXPORTERS[name]
    path = exporter.path(out_dir, doc.stem)
    path.write_text(exporter.to_string(doc, presets.load()), encoding="utf-8")
    return path


def melt(source: Path, out: Path, *options: str) -> ET.Element:
    """melt's own XML of what it built from ``source``, expanded (``MLT_XML_DEEP``) and not rendered."""
    done = subprocess.run([str(MELT), str(source), "-consumer", f"xml:{out}", *options], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "MLT_XML_DEEP": "1"})
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]
    return ET.parse(out).getroot()


def props(element: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.text or "" for p in element.findall("property")}


def probe(times: list[str] | list[int], fps: Fraction, tmp_path: Path, *options: str) -> list[str]:
    """``in`` of a playlist entry at each of ``times`` as melt writes it back (frames, or clock times with
    ``time_format=clock``): MLT's own reading and writing of times at ``fps``."""
    root = ET.Element("mlt", LC_NUMERIC="C")
    ET.SubElement(root, "profile", width="640", height="360", frame_rate_num=str(fps.numerator),
                  frame_rate_den=str(fps.denominator), progressive="1", sample_aspect_num="1",
                  sample_aspect_den="1", display_aspect_num="16", display_aspect_den="9")
    color = ET.SubElement(root, "producer", id="color")
    for name, value in (("mlt_service", "color"), ("length", "100000000")):
        ET.SubElement(color, "property", name=name).text = value
    playlist = ET.SubElement(root, "playlist", id="probe")
    for t in times:
        ET.SubElement(playlist, "entry", producer="color", **{"in": str(t), "out": str(t)})
    source = tmp_path / "probe.mlt"
    ET.ElementTree(root).write(source, encoding="utf-8")
    back = melt(source, tmp_path / "probe.out.mlt", *options)
    return [e.get("in", "") for e in back.find("playlist[@id='probe']").findall("entry")]


def resource(root: ET.Element, producer: ET.Element) -> Path:
    """A producer's file (melt writes it relative to its ``root`` folder where it can)."""
    return Path(root.get("root", "/"), props(producer)["resource"])


def clip_frames(root: ET.Element, producer: str) -> list[int]:
    """The length of every timeline entry of ``producer`` in melt's XML (in and out in frames)."""
    return [int(e.get("out", "")) - int(e.get("in", "")) + 1
            for e in root.iter("entry") if e.get("producer") == producer]


def audio_only(tmp_path: Path, doc: analysis.Analysis) -> analysis.Analysis:
    """``doc`` as the analysis of a WAV of talk.mp4's sound."""
    wav = tmp_path / "talk.wav"
    ffmpeg("-i", TALK, "-vn", "-ac", "2", "-ar", "48000", wav)
    doc = at_rate(doc, None)
    return analysis.from_dict({**analysis.to_dict(doc), "source": {**analysis.to_dict(doc)["source"],
                                                                   "path": str(wav), "width": None, "height": None}})


# MLT's clock times


@needs_melt
@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25), NTSC, Fraction(60000, 1001)], ids=str)
def test_clock_times_are_mlts_own(fps, tmp_path):
    hour = round(3600 * fps)
    frames = [*range(0, 400), *range(hour - 40, hour + 40), 10 * hour + 7, 2_000_000]
    assert probe([clock(f, fps) for f in frames], fps, tmp_path) == [str(f) for f in frames]
    assert probe(frames, fps, tmp_path, "time_format=clock") == [clock(f, fps) for f in frames]


# Shotcut


def shotcut_markers(root: ET.Element) -> list[dict[str, str]]:
    (tractor,) = [t for t in root.iter("tractor") if props(t).get("shotcut") == "1"]
    (listed,) = [p for p in tractor.findall("properties") if p.get("name") == "shotcut:markers"]
    return [props(one) for one in sorted(listed.findall("properties"), key=lambda p: int(p.get("name", "")))]


@needs_melt
@pytest.mark.parametrize("fps", RATES, ids=str)
def test_shotcut_project_through_melt(fixed_analysis, fps, tmp_path):
    doc = at_rate(fixed_analysis, fps)
    root = melt(write("shotcut", doc, tmp_path), tmp_path / "melt.mlt", "store=shotcut")
    expected, preset = markers.markers(doc), presets.load()
    got = shotcut_markers(root)
    assert [m["text"] for m in got] == [locator_text(m) for m in expected]
    assert [m["color"] for m in got] == [hex_color(markers.resolve_color(preset, m.span.label)) for m in expected]
    assert probe([m["start"] for m in got], fps, tmp_path) == [str(m.frame) for m in expected]
    assert probe([m["end"] for m in got], fps, tmp_path) == [str(m.frame + m.frames - 1) for m in expected]
    (video,) = [p for p in root.iter("playlist") if props(p).get("shotcut:video") == "1"]
    assert props(video)["shotcut:name"] == "V1" and len(video.findall("entry")) == 1
    assert clip_frames(root, video.find("entry").get("producer")) == [markers.media_frames(doc)]
    assert (root.find("profile").get("frame_rate_num"), root.find("profile").get("frame_rate_den")) == (
        str(fps.numerator), str(fps.denominator))


@needs_melt
def test_shotcut_puts_audio_alone_on_an_audio_track(fixed_analysis, tmp_path):
    doc = audio_only(tmp_path, fixed_analysis)
    root = melt(write("shotcut", doc, tmp_path), tmp_path / "melt.mlt", "store=shotcut")
    (audio,) = [p for p in root.iter("playlist") if props(p).get("shotcut:audio") == "1"]
    assert props(audio)["shotcut:name"] == "A1"
    assert [t.get("hide") for t in root.iter("track") if t.get("producer") == audio.get("id")] == ["video"]
    assert clip_frames(root, audio.find("entry").get("producer")) == [markers.media_frames(doc)] == [500]
    assert probe([m["start"] for m in shotcut_markers(root)], Fraction(25), tmp_path) == [
        str(m.frame) for m in markers.markers(doc)]


# Kdenlive


def kdenlive_guides(project: Path) -> list[dict]:
    """The guides as Kdenlive reads them: JSON in the main_bin playlist of the document."""
    (main_bin,) = [p for p in ET.parse(project).getroot().iter("playlist") if p.get("id") == "main_bin"]
    return json.loads(props(main_bin)["kdenlive:docproperties.guides"])


def kdenlive_tracks(root: ET.Element) -> list[tuple[str, list[int]]]:
    """Each timeline track of melt's XML: what it hides, and the lengths of its clips."""
    (main,) = [t for t in root.iter("tractor") if t.find("track[@producer='black_track']") is not None]
    tractors = {t.get("id"): t for t in root.iter("tractor")}
    playlists = {p.get("id"): p for p in root.iter("playlist")}
    out = []
    for track in main.findall("track")[1:]:
        parts = tractors[track.get("producer")].findall("track")
        hidden = {p.get("hide", "") for p in parts}
        entries = [e for p in parts for e in playlists[p.get("producer")].findall("entry")]
        assert all(props(e)["kdenlive:id"] == "2" for e in entries)
        out.append((hidden.pop(), [int(e.get("out", "")) - int(e.get("in", "")) + 1 for e in entries]))
    return out


@needs_melt
@pytest.mark.parametrize("fps", RATES, ids=str)
def test_kdenlive_project_through_melt(fixed_analysis, fps, tmp_path):
    doc = at_rate(fixed_analysis, fps)
    project = write("kdenlive", doc, tmp_path)
    root = melt(project, tmp_path / "melt.mlt", "store=kdenlive")
    frames = markers.media_frames(doc)
    assert kdenlive_tracks(root) == [("video", [frames]), ("audio", [frames])]   # A1, then V1
    (clip,) = [p for p in root.iter("producer") if props(p).get("kdenlive:id") == "2"]
    assert resource(root, clip) == TALK and props(clip)["kdenlive:clip_type"] == "0"
    expected, preset = markers.markers(doc), presets.load()
    assert kdenlive_guides(project) == [
        {"comment": locator_text(m), "pos": m.frame, "type": guide_type(markers.resolve_color(preset, m.span.label))}
        for m in expected]


@needs_melt
def test_kdenlive_puts_audio_alone_on_the_audio_track(fixed_analysis, tmp_path):
    doc = audio_only(tmp_path, fixed_analysis)
    project = write("kdenlive", doc, tmp_path)
    root = melt(project, tmp_path / "melt.mlt", "store=kdenlive")
    assert kdenlive_tracks(root) == [("video", [500]), ("audio", [])]
    assert [g["pos"] for g in kdenlive_guides(project)] == [m.frame for m in markers.markers(doc)]


def test_guide_categories_follow_the_preset_colours():
    assert [guide_type(c) for c in ("Yellow", "Lemon", "Red", "Green", "Blue", "Purple")] == [5, 5, 8, 3, 1, 0]
    assert set(HEX_COLORS) == set(RESOLVE_COLORS)
    assert {guide_type(c) for c in RESOLVE_COLORS} <= set(range(len(GUIDE_COLORS)))


# Both


@needs_melt
@pytest.mark.parametrize("name", ["shotcut", "kdenlive"])
def test_a_path_full_of_markup_is_the_file_melt_opens(fixed_analysis, name, tmp_path):
    odd = tmp_path / "a & b <c> \"d\" 'é' 笑.mp4"
    shutil.copy(TALK, odd)
    doc = analysis.from_dict({**analysis.to_dict(fixed_analysis), "source": {
        **analysis.to_dict(fixed_analysis)["source"], "path": str(odd)}})
    root = melt(write(name, doc, tmp_path), tmp_path / "melt.mlt", f"store={name}")
    (clip,) = [p for p in root.iter("producer") if resource(root, p) == odd]
    assert props(clip)["video_index"] == "0" and props(clip)["audio_index"] == "1"   # avformat opened it


@needs_melt
@pytest.mark.slow   # the tagged fixture runs the tiny model on both samples
@pytest.mark.parametrize("stem", ["talk", "two_tracks"])
def test_tagged_samples_through_melt(tagged, stem, tmp_path):
    doc = api.load(tagged[stem])
    found = markers.markers(doc)
    assert len(found) >= 3
    root = melt(write("shotcut", doc, tmp_path), tmp_path / "shotcut.mlt", "store=shotcut")
    assert probe([m["start"] for m in shotcut_markers(root)], markers.fps_of(doc), tmp_path) == [
        str(m.frame) for m in found]
    assert clip_frames(root, "producer0") == [markers.media_frames(doc)]
    project = write("kdenlive", doc, tmp_path)
    root = melt(project, tmp_path / "kdenlive.mlt", "store=kdenlive")
    assert [g["pos"] for g in kdenlive_guides(project)] == [m.frame for m in found]
    frames = markers.media_frames(doc)
    assert kdenlive_tracks(root) == [("video", [frames]), ("audio", [frames])]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE, HOSTILE)
def test_hostile_names_and_notes_stay_one_marker_each(label, text):
    doc = document(label, text)
    (expected,) = markers.markers(doc)
    shotcut = ET.fromstring(EXPORTERS["shotcut"].to_string(doc, presets.load()).encode())
    (marker,) = shotcut.find("tractor/properties[@name='shotcut:markers']").findall("properties")
    kdenlive = ET.fromstring(EXPORTERS["kdenlive"].to_string(doc, presets.load()).encode())
    (guide,) = json.loads(props(kdenlive.find("playlist[@id='main_bin']"))["kdenlive:docproperties.guides"])
    for said in (props(marker)["text"], guide["comment"]):
        assert said == locator_text(expected) and "\n" not in said
        assert visible(said) == visible(locator_text(expected))
    assert guide["pos"] == expected.frame == 29


# The editors themselves, under Xvfb


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A virtual X display of our own (``Xvfb -displayfd``), 1600x1000."""
    missing = [tool for tool in ("Xvfb", "xdotool", "import") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb xdotool imagemagick)")
    read, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-nolisten",
                               "tcp"], pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    number = b""
    while not number.endswith(b"\n"):   # read to the end of the line: Xvfb dies of SIGPIPE if it cannot write it
        number += os.read(read, 16) or pytest.fail("Xvfb did not start")
    yield f":{number.decode().strip()}"
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)
    os.close(read)


def app_env(display: str, home: Path) -> dict[str, str]:
    """The app's environment: our display, and a home of its own (no settings, no recent files)."""
    home.mkdir(mode=0o700)
    return {**os.environ, "DISPLAY": display, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"), "XDG_RUNTIME_DIR": str(home)}


def xdotool(env: dict[str, str], *args: str) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=10).stdout


def find_window(env: dict[str, str], name: str, title_has: str, timeout: float) -> str | None:
    """The window whose name starts with ``name`` and whose full title has ``title_has``, when it shows."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for window in xdotool(env, "search", "--name", f"^{name}").split():
            if title_has in xdotool(env, "getwindowname", window):
                return window
        time.sleep(0.5)
    return None


class App:
    """An editor started on a project in a session of its own, so that closing it ends all it started."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path):
        self.env = env
        with log.open("w") as out:
            self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def window(self, name: str, title_has: str, timeout: float = 40) -> str:
        window = find_window(self.env, name, title_has, timeout)
        assert window, f"no window titled {name}…{title_has} after {timeout} s"
        xdotool(self.env, "windowsize", window, "1600", "1000")
        return window

    def keys(self, window: str, *args: str) -> None:
        """xdotool ``key``/``type`` ``args`` into ``window`` as real input (XTEST), the window focused first:
        without a window manager nothing else focuses it."""
        xdotool(self.env, "windowfocus", "--sync", window)
        xdotool(self.env, *args)

    def mouse(self, *moves: tuple[str, ...]) -> None:
        """xdotool mouse commands, a second apart (window coordinates: the window sits at 0,0)."""
        for move in moves:
            xdotool(self.env, *move)
            time.sleep(1)

    def screenshot(self, path: Path) -> np.ndarray:
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True, timeout=30)
        done = subprocess.run([media.find_ffmpeg(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt",
                               "rgb24", "-"], capture_output=True, check=True)
        return np.frombuffer(done.stdout, np.uint8).reshape(1000, 1600, 3).astype(np.int16)

    def close(self) -> None:
        """SIGTERM to every process of the app's session, SIGKILL to any left a second later."""
        group = self.process.pid
        for sig, grace in ((signal.SIGTERM, 1), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
            end = time.monotonic() + grace
            while time.monotonic() < end and (self.process.poll() is None or running(group)):
                time.sleep(0.1)


def running(group: int) -> bool:
    """Whether a process of process group ``group`` is still running (not a zombie)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == group and state != "Z":
                return True
    return False


def pixels_of(shot: np.ndarray, color: str) -> int:
    """Pixels of ``#RRGGBB`` (give or take 1) in a screenshot."""
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(shot - rgb).max(axis=2) <= 1).sum())


def keep(shot: Path, name: str) -> None:
    if os.environ.get("MEDIATAGGER_APP_SCREENSHOTS") == "1":
        shutil.copy(shot, REPO / "docs" / name)


def needs(program: str, package: str) -> None:
    if not shutil.which(program):
        pytest.skip(f"{program} is not installed (apt-get install {package})")


@pytest.fixture
def launch(display, tmp_path) -> Iterator[Callable[[list[str], Path], App]]:
    """``launch(argv, project)``: the editor started on a project; closed after the test."""
    started: list[App] = []

    def start(argv: list[str], project: Path) -> App:
        started.append(App([*argv, str(project)], app_env(display, tmp_path / "home"), tmp_path / "app.log"))
        return started[-1]

    yield start
    for app in started:
        app.close()


@pytest.mark.slow
@pytest.mark.parametrize("fps", RATES, ids=str)
def test_shotcut_opens_the_project_with_its_markers(launch, fixed_analysis, fps, tmp_path):
    needs("shotcut", "shotcut")
    doc = at_rate(fixed_analysis, fps)
    project = write("shotcut", doc, tmp_path)
    app = launch(["shotcut", "--noupgrade"], project)
    window = app.window("talk.mlt", "Shotcut")
    # for the screenshot: the Markers button opens the list of markers, which its splitter then widens
    app.mouse(("mousemove", "857", "52", "click", "1"), ("mousemove", "1381", "860", "mousedown", "1"),
              ("mousemove", "1000", "860"), ("mousemove", "760", "860", "mouseup", "1"))
    time.sleep(3)
    shot = app.screenshot(tmp_path / "shotcut.png")
    preset = presets.load()
    for color in {hex_color(markers.resolve_color(preset, m.span.label)) for m in markers.markers(doc)}:
        assert pixels_of(shot, color) > 200, f"no marker drawn in {color}"
    assert pixels_of(shot, HEX_COLORS["Red"]) < 50   # and no colour of a marker that is not there
    if fps == NTSC:
        keep(tmp_path / "shotcut.png", "shotcut.png")
    app.keys(window, "key", "ctrl+s")   # Shotcut saves it again as its own project
    end = time.monotonic() + 15
    while "Shotcut version" not in project.read_text(encoding="utf-8") and time.monotonic() < end:
        time.sleep(0.5)
    saved = ET.parse(project).getroot()
    assert saved.get("title", "").startswith("Shotcut version")
    ours = ET.fromstring(EXPORTERS["shotcut"].to_string(doc, preset).encode())
    assert shotcut_markers(saved) == shotcut_markers(ours)


@pytest.mark.slow
@pytest.mark.parametrize("fps", RATES, ids=str)
def test_kdenlive_opens_the_project_with_its_guides(launch, fixed_analysis, fps, tmp_path):
    needs("kdenlive", "kdenlive")
    needs("dbus-run-session", "dbus")
    doc = at_rate(fixed_analysis, fps)
    project = write("kdenlive", doc, tmp_path)
    app = launch(["dbus-run-session", "--", "kdenlive"], project)   # Kdenlive quits without a session bus
    window = app.window("talk /", "Kdenlive")
    app.mouse(("mousemove", "100", "10", "click", "1"), ("mousemove", "131", "388", "click", "1"))  # View > Guides
    time.sleep(5)   # thumbnails and waveforms
    shot = app.screenshot(tmp_path / "kdenlive.png")
    preset = presets.load()
    for kind in {guide_type(markers.resolve_color(preset, m.span.label)) for m in markers.markers(doc)}:
        assert pixels_of(shot, GUIDE_COLORS[kind]) > 200, f"no guide drawn in {GUIDE_COLORS[kind]}"
    assert pixels_of(shot, GUIDE_COLORS[8]) < 50   # and no colour of a guide that is not there
    if fps == NTSC:
        keep(tmp_path / "kdenlive.png", "kdenlive.png")
    saved = tmp_path / "saved.kdenlive"    # Save As, through Kdenlive's own file dialog
    app.keys(window, "key", "ctrl+shift+s")
    dialog = find_window(app.env, "Save As", "Kdenlive", 15)
    assert dialog, "no Save As dialog"
    time.sleep(2)   # until it takes keys
    app.keys(dialog, "type", "--delay", "10", str(saved))
    time.sleep(1)
    app.keys(dialog, "key", "Return")
    end = time.monotonic() + 15
    while not (saved.exists() and "</mlt>" in saved.read_text(encoding="utf-8")) and time.monotonic() < end:
        time.sleep(0.5)
    assert kdenlive_guides(saved) == kdenlive_guides(project)
    (main_bin,) = [p for p in ET.parse(saved).getroot().iter("playlist") if p.get("id") == "main_bin"]
    assert props(main_bin)["kdenlive:docproperties.kdenliveversion"].startswith("22.12")
