"""The Blender add-on: its pure frame placing, its zip, and the add-on itself in real Blender (bpy).

bpy is Blender: it runs in a child process (one per session, fed code over a pipe), never in this
one, so it cannot disturb torch, threads or signals here. The expected markers are computed here
from the analysis JSON the add-on wrote, with the timing each strip is known to have.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import shutil
import subprocess
import sys
import time
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest

from mediatagger import tags
from mediatagger.editors.blender import pack, placing, reading, running
from mediatagger.editors.blender.placing import Cue, StripTiming
from mediatagger.errors import AnalysisError, UsageError
from mediatagger.timecode import frame_to_ms, ms_to_frame
from mediatagger.timeline import Span
from tests.conftest import DATA, SAMPLES, TALK, TWO_TRACKS

NTSC = Fraction(30000, 1001)


def has_bpy() -> bool:
    """Whether bpy is installed (found, not imported: importing it starts Blender in this process)."""
    try:
        return importlib.util.find_spec("bpy") is not None
    except (ImportError, ValueError):   # ValueError: sys.modules["bpy"] is None
        return False


HAS_BPY = has_bpy()
needs_bpy = pytest.mark.skipif(not HAS_BPY, reason="bpy (Blender as a Python module) is not installed")


# --- placing: pure frames ---------------------------------------------------------------------------

def timing(frame_start=50, final_start=None, final_end=None, duration=599, anim_start=0, anim_end=0) -> StripTiming:
    final_start = frame_start if final_start is None else final_start
    final_end = frame_start + duration if final_end is None else final_end
    return StripTiming("strip", frame_start, final_start, final_end, duration, anim_start, anim_end)


@pytest.mark.parametrize(("fps", "base", "rate"), [
    (30, 1.001, NTSC), (3, 0.1001, NTSC),   # 3/0.1001: what Add > Movie's "Use Movie Framerate" sets for 29.97
    (24, 1.001, Fraction(24000, 1001)), (25, 1.0, Fraction(25)), (24, 1.0, Fraction(24)),
    (60, 1.001, Fraction(60000, 1001)),
])
def test_scene_rate_is_exact_from_blenders_float_base(fps, base, rate):
    import numpy as np

    assert placing.scene_rate(fps, float(np.float32(base))) == rate   # Blender stores fps_base as float32
    assert placing.scene_rate(*placing.fps_settings(rate)) == rate


def test_fps_settings_are_what_blender_shows():
    assert placing.fps_settings(NTSC) == (30, 1.001)
    assert placing.fps_settings(Fraction(25)) == (25, 1.0)
    assert placing.fps_settings(Fraction(25, 2)) == (25, 2.0)


@pytest.mark.parametrize(("scene", "duration", "rate"), [
    (Fraction(24), 599, NTSC),             # strips.new_movie: a movie frame per scene frame
    (Fraction(24), 479, Fraction(24)),     # Add > Movie, Adjust Playback Rate: its own speed
    (Fraction(25), 499, Fraction(25)),
    (NTSC, 598, NTSC),                     # the same at 30/1.001: float rounding loses a frame
    (NTSC, 599, NTSC),
])
def test_movie_timing_is_told_by_its_length(scene, duration, rate):
    assert placing.movie(timing(duration=duration), scene, NTSC, 599).rate == rate


def test_a_movie_strip_of_another_length_is_an_error_naming_it():
    with pytest.raises(UsageError, match="'strip': is 300 frames long"):
        placing.movie(timing(duration=300), Fraction(24), NTSC, 599)


def test_frames_follow_offset_and_trims_at_25():
    where = placing.movie(timing(frame_start=100, final_start=110, final_end=160, duration=250), Fraction(25),
                          Fraction(25), 250)
    assert (where.first, where.end) == (110, 160)
    assert placing.frame_of(0, where) == 100
    assert placing.frame_of(1000, where) == 125
    assert placing.frame_of(1039, where) == 125 and placing.frame_of(1040, where) == 126
    laugh = Span(1000, 1500, "LAUGHTER", 0.93)
    assert placing.cue(laugh, where) == Cue(125, "Laughter 0.93", laugh)
    assert placing.cue(Span(2399, 3000, "APPLAUSE"), where).frame == 159   # starts on the last visible frame
    assert placing.cue(Span(2400, 3000, "APPLAUSE"), where) is None        # on the first one cut away
    assert placing.cue(Span(399, 1000, "APPLAUSE"), where, running=False) is None   # before the first visible one


def test_frames_at_2997_follow_the_sources_frame_grid():
    where = placing.movie(timing(frame_start=50), NTSC, NTSC, 599)
    for frame in (0, 1, 29, 30, 119, 598):
        start = frame_to_ms(frame, NTSC)
        assert placing.frame_of(start, where) == 50 + frame
        assert placing.frame_of(start - 1, where) == 49 + frame
    assert placing.frame_of(4000, where) == 50 + 119


def test_a_span_under_way_at_the_cut_is_marked_on_the_first_visible_frame_only_when_asked():
    where = placing.movie(timing(frame_start=0, final_start=50), Fraction(25), Fraction(25), 599)
    laugh = Span(1000, 2500, "LAUGHTER", 0.5)      # frames 25..62: on screen at frame 50
    assert placing.cue(laugh, where) == Cue(50, "Laughter 0.50", laugh, running=True)
    assert placing.cue(laugh, where, running=False) is None
    assert placing.cue(Span(1000, 2000, "LAUGHTER"), where) is None    # ends as frame 50 starts: not seen
    assert placing.cue(Span(1000, 2001, "LAUGHTER"), where).frame == 50


def test_handles_beyond_the_content_show_no_source():
    where = placing.movie(timing(frame_start=50, final_start=30, final_end=700, duration=100), Fraction(25),
                          Fraction(25), 100)
    assert (where.first, where.end) == (50, 150)
    assert placing.cue(Span(3999, 5000, "BGM"), where).frame == 149
    assert placing.cue(Span(4000, 5000, "BGM"), where) is None


def test_animation_offset_skips_source_frames():
    one_to_one = placing.movie(timing(frame_start=50, duration=569, anim_start=30), Fraction(24), NTSC, 599)
    assert one_to_one.rate == NTSC and placing.frame_of(1001, one_to_one) == 50   # movie frame 30 is at 1001 ms
    own_speed = placing.movie(timing(frame_start=50, duration=455, anim_start=30), Fraction(24), NTSC, 599)
    assert own_speed.rate == 24 and placing.frame_of(1001, own_speed) == 50
    assert placing.frame_of(2001, own_speed) == 50 + 24   # content starts at 1001 ms: 1000 ms on is 24 frames on
    assert placing.frame_of(2000, own_speed) == 50 + 23


def test_sound_offset_delays_the_sound():
    where = placing.sound(timing(frame_start=10, duration=500), Fraction(25), offset_ms=200)
    assert placing.frame_of(0, where) == 15 and placing.frame_of(1000, where) == 40


def test_spread_drops_the_same_marker_and_moves_others_within_the_strip():
    a, b, c = (Cue(10, name, Span(400, 500, name.split()[0])) for name in ("LAUGHTER 1.00", "HAPPY 0.90", "BGM 0.80"))
    assert placing.spread([a], {10: {"LAUGHTER 1.00"}}, 0, 100) == []
    assert [x.frame for x in placing.spread([a, b, c], {11: {"mine"}}, 0, 100)] == [10, 12, 13]
    assert [x.frame for x in placing.spread([a, b, c], {}, 8, 12)] == [10, 11, 9]
    assert placing.spread([a, b], {}, 10, 11) == [a]


def test_marker_names():
    """Regression: markers were named by the label's token (``BGM 0.80``); every other output says Music."""
    assert placing.marker_name(Span(0, 1, "LAUGHTER", 0.934)) == "Laughter 0.93"
    assert placing.marker_name(Span(0, 1, "BGM", 0.8)) == "Music 0.80"
    assert placing.marker_name(Span(0, 1, "CRY", 0.5)) == "Crying 0.50"
    assert placing.marker_name(Span(0, 1, "APPLAUSE")) == "Applause"
    assert placing.marker_name(Span(0, 1, "GUNSHOT_GUNFIRE", 0.7)) == "Gunshot, gunfire 0.70"


def test_labels_are_chosen_by_their_names_too(tmp_path):
    tagged = reading.Tagged(tmp_path / "a.json", Fraction(25), 100, 4000,
                            (("events", Span(0, 500, "BGM", 0.9)), ("events", Span(600, 900, "LAUGHTER", 0.9))))
    assert [s.label for s in tagged.chosen(["events"], ["music"])] == ["BGM"]
    assert [s.label for s in tagged.chosen(["events"], ["bgm", "Laughter"])] == ["BGM", "LAUGHTER"]


# --- reading, running, pack: no Blender -------------------------------------------------------------

def test_reading_the_json_gives_what_the_api_gives():
    from mediatagger import api

    path = DATA / "talk.analysis.json"
    assert reading.read(path) == reading.from_analysis(api.load(path), path)
    tagged = reading.read(path)
    assert tagged.fps == NTSC
    assert tagged.chosen(["events"], ["laughter"]) == api.load(path).spans("events", ["LAUGHTER"])


def test_reading_a_bad_document_names_the_file_and_the_key(tmp_path):
    doc = json.loads((DATA / "talk.analysis.json").read_text())
    del doc["tracks"][0]["events"][0]["start_ms"]
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(AnalysisError, match=r"bad.json: malformed analysis: tracks\[0\].events\[0\]: start_ms"):
        reading.read(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(AnalysisError, match="not a mediatagger.analysis"):
        reading.read(tmp_path / "other.json")


def test_output_folder_is_beside_the_blend_or_the_media(tmp_path):
    media = tmp_path / "rushes" / "a.mp4"
    assert running.output_dir("", "", media) == tmp_path / "rushes" / "mediatagger"
    assert running.output_dir("", str(tmp_path / "edit.blend"), media) == tmp_path / "mediatagger"
    assert running.output_dir("//tags", str(tmp_path / "edit.blend"), media) == tmp_path / "tags"
    assert running.output_dir("/x/y", str(tmp_path / "edit.blend"), media) == Path("/x/y")


def test_the_command_is_an_argument_list(tmp_path):
    settings = running.Settings(tmp_path / "out dir", model="my model", vad="silero", replace=True)
    args = running.command_line(Path("/m/a b.mp4"), settings, "/bin/mediatagger")
    assert args == ["/bin/mediatagger", "tag", "/m/a b.mp4", "-o", str(tmp_path / "out dir"), "--export", "json",
                    "-q", "--model", "my model", "--vad", "silero", "--force"]
    with pytest.raises(UsageError, match="mediatagger command not found"):
        running.find_command(str(tmp_path / "nowhere" / "mediatagger"))


def test_pack_builds_one_folder_with_the_manifest_and_vendored_modules(tmp_path):
    zip_path = pack.pack(tmp_path / "dist" / "addon.zip")
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        assert {n.split("/")[0] for n in names} == {"mediatagger_blender"}
        assert {"mediatagger_blender/__init__.py", "mediatagger_blender/blender_manifest.toml",
                "mediatagger_blender/_vendor/timecode.py"} <= names
        timecode = archive.read("mediatagger_blender/_vendor/timecode.py").decode()
        assert "from .errors import UsageError" in timecode and "from mediatagger" not in timecode
    assert pack.pack(tmp_path / "again.zip").read_bytes() == zip_path.read_bytes()   # reproducible


def test_the_vendored_labels_name_audioset_classes_from_their_own_copy(tmp_path):
    """The zip's copy of tags reads the class names it carries, not mediatagger's (Blender may have none)."""
    with zipfile.ZipFile(pack.pack(tmp_path / "addon.zip")) as archive:
        archive.extractall(tmp_path)
    code = ("import sys; sys.modules['mediatagger'] = None; import _vendor.tags as t; "
            "print(t.__file__, t.label_name('GUNSHOT_GUNFIRE'), t.label_name('BGM'), sep='|')")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "mediatagger_blender",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    where, gunshot, music = done.stdout.strip().split("|")
    assert Path(where).is_relative_to(tmp_path) and (gunshot, music) == ("Gunshot, gunfire", "Music")


def test_versions_agree():
    tomllib = pytest.importorskip("tomllib")   # Python 3.11+
    import mediatagger
    from mediatagger.editors import blender

    manifest = tomllib.loads((Path(blender.__file__).parent / "blender_manifest.toml").read_text())
    assert manifest["version"] == mediatagger.__version__ == ".".join(map(str, blender.bl_info["version"]))
    assert manifest["blender_version_min"] == "4.2.0" and manifest["type"] == "add-on"


def test_pack_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mediatagger.editors.blender.pack", str(tmp_path / "a.zip")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == str(tmp_path / "a.zip")


# --- real Blender ------------------------------------------------------------------------------------

DRIVER = r'''
import json, os, sys, traceback
reply = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)                 # Blender's own prints go to the log; the pipe carries the replies alone
sys.stdout = sys.stderr
if os.environ.get("NO_MEDIATAGGER"):
    sys.modules["mediatagger"] = None   # a Blender whose Python cannot import mediatagger
import bpy
space = {"bpy": bpy, "__name__": "blender_session"}
for line in sys.stdin:
    request = json.loads(line)
    space.update(request["vars"])
    try:
        exec(request["code"], space)
        answer = {"ok": True, "result": space.pop("result", None)}
    except BaseException:
        answer = {"ok": False, "error": traceback.format_exc()}
    reply.write(json.dumps(answer) + "\n")
    reply.flush()
'''

HELPERS = r'''
import bpy

def new_scene(name, fps, base):
    scene = bpy.data.scenes.new(name)
    scene.render.fps, scene.render.fps_base = fps, base
    bpy.context.window.scene = scene
    bpy.context.workspace.sequencer_scene = scene    # Blender 5.0: the scene the sequencer edits
    scene.sequence_editor_create()
    return scene

def markers(scene):
    return sorted([m.frame, m.name] for m in scene.timeline_markers)

def numbers(strip):
    return {"type": strip.type, "frame_start": round(strip.frame_start), "final_start": strip.frame_final_start,
            "final_end": strip.frame_final_end, "duration": strip.frame_duration}

def in_sequencer():
    """A context for the sequencer's own operators, which need a sequencer area."""
    area = bpy.context.window.screen.areas[0]
    area.type = "SEQUENCE_EDITOR"
    region = next(r for r in area.regions if r.type == "WINDOW")
    return bpy.context.temp_override(window=bpy.context.window, area=area, region=region,
                                     space_data=area.spaces.active)

def ui_add_movie(path, frame_start, channel, adjust, use_framerate=False):
    """Add > Movie, as from the menu (with its sound strip)."""
    with in_sequencer():
        bpy.ops.sequencer.movie_strip_add(filepath=path, frame_start=frame_start, channel=channel, move_strips=False,
                                          adjust_playback_rate=adjust, use_framerate=use_framerate, sound=True)
    editor = bpy.context.workspace.sequencer_scene.sequence_editor
    return [s for s in editor.strips if s.channel in (channel, channel + 1)]

def call(operator, strip=None):
    """Run a mediatagger operator on the active strip: its result, or the error it reported."""
    if strip is not None:
        strip.select = True
        bpy.context.workspace.sequencer_scene.sequence_editor.active_strip = strip
    try:
        return sorted(getattr(bpy.ops.mediatagger, operator)())
    except RuntimeError as exc:   # bpy.ops raises what an operator reports as an ERROR
        return "error: " + str(exc)
'''


class Blender:
    """A Blender (bpy) child process that runs the code it is sent in one namespace and answers in JSON."""

    def __init__(self, home: Path, env: dict[str, str] | None = None):
        self.log_path = home / "blender.log"
        self.log = open(self.log_path, "w")
        environment = {**os.environ, "BLENDER_USER_RESOURCES": str(home / "user"), **(env or {})}
        self.process = subprocess.Popen([sys.executable, "-c", DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True, env=environment)
        self.run(HELPERS)

    def run(self, code: str, timeout: float = 300, **names):
        """Run ``code`` (it may set ``result``) with ``names`` bound; its ``result``."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"code": code, "vars": names}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.close()
            pytest.fail(f"Blender {'died' if ready else 'timed out'}; its log ends:\n{self.tail()}")
        answer = json.loads(line)
        if not answer["ok"]:
            pytest.fail(f"in Blender:\n{answer['error']}\nits log ends:\n{self.tail()}")
        return answer["result"]

    def tail(self) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def addon_zip(tmp_path_factory) -> Path:
    return pack.pack(tmp_path_factory.mktemp("addon") / "mediatagger_blender.zip")


@pytest.fixture(scope="session")
def analyses(tmp_path_factory) -> Path:
    """The add-on's output folder, shared by both Blender sessions (the second reuses what the first made)."""
    return tmp_path_factory.mktemp("analyses")


@pytest.fixture(scope="session")
def blender(tmp_path_factory, addon_zip, analyses):
    """One Blender for the session, with the zip installed and enabled the way a user does it."""
    if not HAS_BPY:
        pytest.skip("bpy (Blender as a Python module) is not installed")
    session = Blender(tmp_path_factory.mktemp("blender"))
    session.run('''
result = [sorted(bpy.ops.preferences.addon_install(filepath=zip_path)),
          sorted(bpy.ops.preferences.addon_enable(module="mediatagger_blender"))]
prefs = bpy.context.preferences.addons["mediatagger_blender"].preferences
prefs.model, prefs.vad, prefs.output_dir = model, "silero", out_dir
''', zip_path=str(addon_zip), model=str(SAMPLES / "model"), out_dir=str(analyses))
    yield session
    session.close()


def analysis_of(folder: Path, media: Path) -> dict:
    return json.loads((folder / f"{media.stem}.analysis.json").read_text())


def expected(doc: dict, strip: dict, rate: Fraction, taken: dict[int, set[str]] | None = None,
             kinds: tuple[str, ...] = ("events", "emotions"), labels: tuple[str, ...] = ()) -> list[list]:
    """The markers a strip should get, worked out here from the document's spans: on the frame on screen
    at each span's start when that is visible, on the first visible frame for a span under way there,
    moved on to the next free frame when another marker has that frame."""
    first, end = max(strip["final_start"], strip["frame_start"]), strip["final_end"]
    if strip["type"] == "MOVIE":
        end = min(end, strip["frame_start"] + strip["duration"])
    spans = sorted((s["start_ms"], s["end_ms"], s["label"], s["score"]) for track in doc["tracks"]
                   for kind in kinds for s in track[kind] if not labels or s["label"] in labels)
    wanted = []
    for start, stop, label, score in spans:
        frame = strip["frame_start"] + ms_to_frame(start, rate)
        last = strip["frame_start"] + ms_to_frame(stop - 1, rate)
        if first <= frame < end:
            wanted.append((frame, f"{tags.LABELS[label].en} {score:.2f}"))
        elif frame < first <= last and first < end:
            wanted.append((first, f"{tags.LABELS[label].en} {score:.2f}"))
    taken = {frame: set(names) for frame, names in (taken or {}).items()}
    out = []
    for frame, name in sorted(wanted):
        while frame in taken:
            frame += 1
        assert frame < end, "this test's strips leave room after every marker"
        taken.setdefault(frame, set()).add(name)
        out.append([frame, name])
    return sorted(out)


@needs_bpy
@pytest.mark.slow
def test_the_zip_installs_and_enables_as_an_addon(blender):
    found = blender.run('''
import mediatagger_blender, addon_utils
result = {"file": mediatagger_blender.__file__, "enabled": "mediatagger_blender" in bpy.context.preferences.addons,
          "panel": bpy.types.MEDIATAGGER_PT_panel.bl_category, "space": bpy.types.MEDIATAGGER_PT_panel.bl_space_type,
          "ops": [hasattr(bpy.ops.mediatagger, n) for n in ("tag_strip", "tag_all", "match_rate", "clear_markers")]}
''')
    assert found["enabled"] and "/scripts/addons/mediatagger_blender/" in found["file"]   # the installed copy
    assert (found["panel"], found["space"], found["ops"]) == ("mediatagger", "SEQUENCE_EDITOR", [True] * 4)


@needs_bpy
@pytest.mark.slow
def test_the_panel_draws_in_the_sequencer_sidebar(blender):
    drawn = blender.run('''
import types

class Layout:
    """Stands in for a UI layout: records what is drawn, and checks that every property and operator exists."""
    def __init__(self, log):
        self.log = log
    def __getattr__(self, name):
        def draw(*args, **kwargs):
            if name == "prop":
                assert args[1] in args[0].bl_rna.properties, args[1]
            if name == "operator":
                module, op = args[0].split(".")
                assert hasattr(getattr(bpy.ops, module), op), args[0]
            self.log.append([name, *[a for a in args if isinstance(a, str)], kwargs.get("text", "")])
            return self
        return draw

scene = new_scene("panel", 24, 1.0)
movie = scene.sequence_editor.strips.new_movie("talk", talk, 1, 1)
scene.sequence_editor.active_strip = movie
panel = bpy.types.MEDIATAGGER_PT_panel
log = []
panel.draw(types.SimpleNamespace(layout=Layout(log), draw_rate=panel.draw_rate), bpy.context)
result = {"log": log, "where": [panel.bl_space_type, panel.bl_region_type, panel.bl_category]}
''', talk=str(TALK))
    assert drawn["where"] == ["SEQUENCE_EDITOR", "UI", "mediatagger"]
    operators = [entry[1] for entry in drawn["log"] if entry[0] == "operator"]
    assert operators == ["mediatagger.tag_strip", "mediatagger.tag_all", "mediatagger.match_rate",
                         "mediatagger.clear_markers"]
    assert ["label", "Movie 29.970 fps, scene 24.000"] in drawn["log"]


@needs_bpy
@pytest.mark.slow
def test_blender_times_a_2997_movie_by_how_it_was_added(blender):
    """The facts the add-on's timing rests on (bpy 5.0.1, samples/talk.mp4: 599 frames at 30000/1001, 20 s)."""
    lengths = blender.run('''
result = {}
for name, fps, base in (("s24", 24, 1.0), ("s25", 25, 1.0), ("sntsc", 30, 1.001), ("s3", 3, 0.1001)):
    scene = new_scene(name, fps, base)
    editor = scene.sequence_editor
    result[name] = {"new_movie": editor.strips.new_movie("m", talk, 1, 1).frame_duration,
                    "new_sound": editor.strips.new_sound("s", talk, 2, 1).frame_duration,
                    "ui_own_speed": [s.frame_duration for s in ui_add_movie(talk, 1, 3, True) if s.type == "MOVIE"][0],
                    "ui_frame_per_frame": [s.frame_duration for s in ui_add_movie(talk, 1, 5, False)
                                           if s.type == "MOVIE"][0]}
scene = new_scene("follow", 24, 1.0)
ui_add_movie(talk, 1, 1, True, use_framerate=True)
result["use_framerate"] = [scene.render.fps, round(scene.render.fps_base, 6)]
''', talk=str(TALK))
    assert lengths["s24"] == {"new_movie": 599, "new_sound": 480, "ui_own_speed": 479, "ui_frame_per_frame": 599}
    assert lengths["s25"] == {"new_movie": 599, "new_sound": 500, "ui_own_speed": 499, "ui_frame_per_frame": 599}
    assert lengths["sntsc"] == {"new_movie": 599, "new_sound": 599, "ui_own_speed": 598, "ui_frame_per_frame": 599}
    assert lengths["s3"]["ui_own_speed"] == 599
    assert lengths["use_framerate"] == [3, 0.1001]


@needs_bpy
@pytest.mark.slow
def test_tag_strip_marks_what_the_trimmed_strip_shows(blender, analyses):
    strip = blender.run('''
scene = new_scene("trimmed", 30, 1.001)
movie = scene.sequence_editor.strips.new_movie("talk", talk, 1, 50)
movie.frame_offset_start, movie.frame_offset_end = 150, 169
result = {"call": call("tag_strip", movie), **numbers(movie)}
''', talk=str(TALK))
    assert strip["call"] == ["FINISHED"]
    assert (strip["final_start"], strip["final_end"]) == (200, 480)
    want = expected(analysis_of(analyses, TALK), strip, NTSC)
    assert blender.run("result = markers(scene)") == want
    assert want and all(200 <= frame < 480 for frame, _ in want)
    laugh = next(s for s in analysis_of(analyses, TALK)["tracks"][0]["events"] if s["label"] == "LAUGHTER")
    assert 50 + ms_to_frame(laugh["start_ms"], NTSC) < 200 and [200, f"Laughter {laugh['score']:.2f}"] in want

    again = blender.run('''
moved = next(m for m in scene.timeline_markers if m.frame != 200)
moved.frame += 3                     # the editor moved this one: it is theirs now
user = scene.timeline_markers.new("my note", frame=200)
result = [call("tag_strip", movie), markers(scene), [moved.frame, moved.name]]
''')
    assert again[0] == ["FINISHED"]
    mine = [m for m in again[1] if m != again[2] and m[1] != "my note"]
    assert mine == expected(analysis_of(analyses, TALK), strip, NTSC, {200: {"my note"}, again[2][0]: {again[2][1]}})
    assert [201, want[0][1]] in mine                  # the laugh moved off the editor's marker, one frame on


@needs_bpy
@pytest.mark.slow
def test_a_movie_at_its_own_speed_in_a_24_fps_scene_is_marked_in_scene_time(blender, analyses):
    result = blender.run('''
scene = new_scene("own speed", 24, 1.0)
strips = {s.type: s for s in ui_add_movie(talk, 30, 1, True)}
result = {"movie": numbers(strips["MOVIE"]), "call": call("tag_strip", strips["MOVIE"]), "markers": markers(scene)}
''', talk=str(TALK))
    assert result["movie"]["duration"] == 479 and result["call"] == ["FINISHED"]
    assert result["markers"] == expected(analysis_of(analyses, TALK), result["movie"], Fraction(24))

    sound = blender.run('''
scene.timeline_markers.clear()
scene.mediatagger.placed.clear()
result = {"sound": numbers(strips["SOUND"]), "call": call("tag_strip", strips["SOUND"]), "markers": markers(scene)}
''')
    assert sound["markers"] == result["markers"]   # its sound strip: the very same markers


@needs_bpy
@pytest.mark.slow
def test_a_movie_played_frame_per_frame_in_a_24_fps_scene_is_marked_on_its_picture(blender, analyses):
    result = blender.run('''
scene = new_scene("frame per frame", 24, 1.0)
movie = scene.sequence_editor.strips.new_movie("talk", talk, 1, 10)
result = {"movie": numbers(movie), "call": call("tag_strip", movie), "markers": markers(scene)}
''', talk=str(TALK))
    assert result["movie"]["duration"] == 599 and result["call"] == ["FINISHED"]
    assert result["markers"] == expected(analysis_of(analyses, TALK), result["movie"], NTSC)
    assert blender.run('result = [call("match_rate", movie), scene.render.fps, round(scene.render.fps_base, 6)]') \
        == [["FINISHED"], 30, 1.001]


@needs_bpy
@pytest.mark.slow
def test_tag_all_marks_every_strip_and_skips_muted_ones(blender, analyses):
    result = blender.run('''
scene = new_scene("all", 30, 1.001)
editor = scene.sequence_editor
movie = editor.strips.new_movie("talk", talk, 1, 50)
movie.frame_offset_start = 100
sound = editor.strips.new_sound("audience", two, 2, 700)
sound.frame_offset_end = 60
muted = editor.strips.new_movie("muted", talk, 3, 2000)
muted.mute = True
result = {"call": call("tag_all"), "movie": numbers(movie), "sound": numbers(sound), "markers": markers(scene)}
''', talk=str(TALK), two=str(TWO_TRACKS))
    assert result["call"] == ["FINISHED"]
    want = expected(analysis_of(analyses, TALK), result["movie"], NTSC)
    want += expected(analysis_of(analyses, TWO_TRACKS), result["sound"], NTSC, {f: {n} for f, n in want})
    assert result["markers"] == sorted(want)
    assert any(f >= 700 for f, _ in want) and any(f < 700 for f, _ in want)
    assert not any(f >= 2000 for f, _ in result["markers"])


@needs_bpy
@pytest.mark.slow
def test_errors_are_one_line_reports_not_crashes(blender, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a movie at all")
    result = blender.run('''
scene = new_scene("errors", 25, 1.0)
editor = scene.sequence_editor
movie = editor.strips.new_movie("gone", talk, 1, 1)
movie.filepath = missing
result = {"missing": call("tag_strip", movie), "all": call("tag_all")}
movie.filepath = junk
result["junk"] = call("tag_strip", movie)
prefs = bpy.context.preferences.addons["mediatagger_blender"].preferences
prefs.run_with, prefs.command = "COMMAND", nowhere
movie.filepath = talk
result["no command"] = call("tag_strip", movie)
prefs.run_with = "AUTO"
retimed = editor.strips.new_movie("retimed", talk, 2, 1)
editor.active_strip, retimed.select, scene.frame_current = retimed, True, 100
with in_sequencer():
    bpy.ops.sequencer.retiming_key_add()
result["retimed"] = call("tag_strip", retimed)
backwards = editor.strips.new_movie("backwards", talk, 3, 1)
backwards.use_reverse_frames = True
result["backwards"] = call("tag_strip", backwards)
result["markers"] = markers(scene)
''', talk=str(TALK), missing=str(tmp_path / "missing.mp4"), junk=str(junk),
       nowhere=str(tmp_path / "no" / "mediatagger"))
    assert result["missing"] == f"error: Error: {tmp_path / 'missing.mp4'}: media file not found\n"
    assert result["all"].startswith("error: Error: no strip tagged; gone: ") and "not found" in result["all"]
    assert result["junk"].startswith(f"error: Error: {junk}")
    assert result["no command"].startswith("error: Error: mediatagger command not found")
    assert result["retimed"].startswith("error: Error: strip 'retimed': is retimed")
    assert result["backwards"] == "error: Error: strip 'backwards': plays in reverse\n"
    for message in (result["missing"], result["all"], result["junk"], result["no command"], result["retimed"]):
        assert "Traceback" not in message and message.count("\n") == 1
    assert result["markers"] == []


@needs_bpy
@pytest.mark.slow
def test_as_an_extension_in_a_blender_without_mediatagger_it_runs_the_command(tmp_path, addon_zip, analyses, blender):
    command = shutil.which("mediatagger") or str(Path(sys.executable).parent / "mediatagger")
    if not Path(command).is_file():
        pytest.skip("the mediatagger command is not installed")
    blender.run('call("tag_strip", new_scene("first", 30, 1.001).sequence_editor.strips.new_movie("t", talk, 1, 1))',
                talk=str(TALK))   # the API made the analysis, so the command's run reuses it
    session = Blender(tmp_path, {"NO_MEDIATAGGER": "1"})
    try:
        started = time.monotonic()
        result = session.run('''
import sys
result = {"install": sorted(bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                                     enable_on_install=True))}
name = "bl_ext.user_default.mediatagger_blender"
prefs = bpy.context.preferences.addons[name].preferences
prefs.model, prefs.vad, prefs.output_dir, prefs.command = model, "silero", out_dir, command
scene = new_scene("extension", 30, 1.001)
movie = scene.sequence_editor.strips.new_movie("talk", talk, 1, 50)
movie.frame_offset_start = 150
result.update(call=call("tag_strip", movie), strip=numbers(movie), markers=markers(scene),
              vendored=sys.modules[name + ".shared"].ms_to_frame.__module__)
''', zip_path=str(addon_zip), model=str(SAMPLES / "model"), out_dir=str(analyses), command=command, talk=str(TALK))
        seconds = time.monotonic() - started
    finally:
        session.close()
    assert result["install"] == ["FINISHED"] and result["call"] == ["FINISHED"]
    assert result["vendored"] == "bl_ext.user_default.mediatagger_blender._vendor.timecode"
    assert result["markers"] == expected(analysis_of(analyses, TALK), result["strip"], NTSC)
    assert seconds < 60, "the command reuses the analysis the API made"


@needs_bpy
@pytest.mark.slow
def test_the_scene_settings_choose_the_markers_and_clear_removes_only_the_addons(blender, analyses):
    result = blender.run('''
scene = new_scene("chosen", 25, 1.0)
sound = scene.sequence_editor.strips.new_sound("talk", talk, 1, 0)
settings = scene.mediatagger
settings.emotions, settings.labels = False, "laughter, bgm"
first = [call("tag_strip", sound), markers(scene)]
scene.timeline_markers.new("my note", frame=3)
result = {"first": first, "strip": numbers(sound), "clear": call("clear_markers"), "after": markers(scene),
          "records": len(settings.placed)}
''', talk=str(TALK))
    assert result["first"][0] == ["FINISHED"]
    want = expected(analysis_of(analyses, TALK), result["strip"], Fraction(25), labels=("LAUGHTER", "BGM"))
    assert result["first"][1] == want and {name.split()[0] for _, name in want} == {"Laughter", "Music"}
    assert (result["clear"], result["after"], result["records"]) == (["FINISHED"], [[3, "my note"]], 0)


@needs_bpy
@pytest.mark.slow
def test_markers_and_settings_survive_saving_and_reopening_the_blend(blender, analyses, tmp_path):
    result = blender.run('''
prefs = bpy.context.preferences.addons["mediatagger_blender"].preferences
scene = new_scene("saved", 25, 1.0)
movie = scene.sequence_editor.strips.new_movie("talk", talk, 1, 20)
scene.mediatagger.labels = "LAUGHTER"
bpy.ops.wm.save_as_mainfile(filepath=blend)
prefs.output_dir = ""                   # the default: a mediatagger folder beside the .blend
try:
    first = [call("tag_strip", movie), markers(scene), numbers(movie)]
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.open_mainfile(filepath=blend)
    scene = bpy.data.scenes["saved"]
    bpy.context.window.scene = scene
    bpy.context.workspace.sequencer_scene = scene
    movie = scene.sequence_editor.strips["talk"]
    reopened = [markers(scene), scene.mediatagger.labels, len(scene.mediatagger.placed)]
    again = [call("tag_strip", movie), markers(scene)]
finally:
    prefs.output_dir = out_dir
result = {"first": first, "reopened": reopened, "again": again}
''', talk=str(TALK), blend=str(tmp_path / "edit.blend"), out_dir=str(analyses))
    first, markers_made, strip = result["first"]
    assert first == ["FINISHED"] and (tmp_path / "mediatagger" / "talk.analysis.json").is_file()
    assert markers_made == expected(analysis_of(analyses, TALK), strip, NTSC, labels=("LAUGHTER",)) != []
    assert result["reopened"] == [markers_made, "LAUGHTER", len(markers_made)]
    assert result["again"] == [["FINISHED"], markers_made]     # replaced, not doubled
