"""The Blender side: preferences, the scene's marker settings, the operators and the sequencer panel.

Everything here is thin: frames come from ``placing``, analyses from ``running``. An operator that
cannot do its job reports one line (``self.report({'ERROR'}, ...)``) and returns ``{'CANCELLED'}``.
(No ``from __future__ import annotations``: Blender reads the property annotations as objects.)
"""

import traceback
from pathlib import Path

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from . import placing, running
from .reading import Tagged
from .shared import MediaError, MediaTaggerError, parse_rate

TAGGABLE = ("MOVIE", "SOUND")


# --- settings -----------------------------------------------------------------------------------

class MEDIATAGGER_AP_preferences(bpy.types.AddonPreferences):
    """How to run mediatagger on this machine."""

    bl_idname = __package__

    output_dir: StringProperty(  # type: ignore[valid-type]
        name="Analyses folder", subtype="DIR_PATH", default="",
        description="Where analyses are written (//: beside the .blend). Empty: a 'mediatagger' folder beside "
                    "the .blend, or beside the media while the .blend is unsaved")
    model: StringProperty(  # type: ignore[valid-type]
        name="Model", default="",
        description="SenseVoiceSmall: a hub id or a local folder. Empty: mediatagger's default (iic/SenseVoiceSmall)")
    vad: StringProperty(  # type: ignore[valid-type]
        name="VAD", default="", description="fsmn, silero, none or a local fsmn-vad folder. Empty: the preset's")
    run_with: EnumProperty(  # type: ignore[valid-type]
        name="Run with", default="AUTO",
        items=[("AUTO", "Automatic", "The Python API when Blender's Python can import mediatagger, else the command"),
               ("API", "Python API", "import mediatagger in Blender's Python"),
               ("COMMAND", "Command", "Run the mediatagger command")])
    command: StringProperty(  # type: ignore[valid-type]
        name="mediatagger command", subtype="FILE_PATH", default="mediatagger",
        description="The mediatagger executable: a path, or a name on PATH")
    replace: BoolProperty(  # type: ignore[valid-type]
        name="Replace other analyses", default=False,
        description="Replace an analysis in the folder made from other bytes or settings (else it is an error)")

    def draw(self, context):
        layout = self.layout
        for name in ("output_dir", "model", "vad", "run_with", "command", "replace"):
            layout.prop(self, name)


class MEDIATAGGER_PG_placed(bpy.types.PropertyGroup):
    """A marker the add-on placed: removed on the next run for its strip if it is still as placed."""

    strip: StringProperty()  # type: ignore[valid-type]
    label: StringProperty()  # type: ignore[valid-type]
    frame: IntProperty()  # type: ignore[valid-type]


class MEDIATAGGER_PG_settings(bpy.types.PropertyGroup):
    """Which spans become markers (per scene, saved with the .blend)."""

    events: BoolProperty(  # type: ignore[valid-type]
        name="Events", default=True, description="Laughter, applause, music (BGM), crying, coughs...")
    emotions: BoolProperty(  # type: ignore[valid-type]
        name="Emotions", default=True, description="HAPPY, SAD, ANGRY, NEUTRAL... of speech")
    labels: StringProperty(  # type: ignore[valid-type]
        name="Labels", default="", description="Only these labels, comma separated (LAUGHTER, APPLAUSE). Empty: all")
    min_score: FloatProperty(  # type: ignore[valid-type]
        name="Min score", default=0.0, min=0.0, max=1.0, description="Leave out spans scoring below this")
    running: BoolProperty(  # type: ignore[valid-type]
        name="Events under way at the cut", default=True,
        description="A span that started before the strip's first visible frame and is still going there "
                    "gets a marker on that frame")
    placed: CollectionProperty(type=MEDIATAGGER_PG_placed)  # type: ignore[valid-type]

    def kinds(self) -> list[str]:
        return [kind for kind in ("events", "emotions") if getattr(self, kind)]


def preferences(context):
    """The add-on's preferences (None when it was registered without being enabled as an add-on)."""
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None


def scene_of(context):
    """The scene the sequencer edits (Blender 5.0's workspace sequencer scene, else the window's)."""
    return getattr(context, "sequencer_scene", None) or context.scene


def run_settings(context, media: Path) -> running.Settings:
    prefs = preferences(context)
    if prefs is None:
        return running.Settings(running.output_dir("", bpy.data.filepath, media))
    folder = running.output_dir(prefs.output_dir, bpy.data.filepath, media)
    return running.Settings(folder, prefs.model.strip(), prefs.vad.strip(), prefs.run_with,
                            prefs.command.strip(), prefs.replace)


# --- strips -------------------------------------------------------------------------------------

def media_path(strip) -> Path:
    """The file a movie or sound strip plays, absolute."""
    if strip.type == "MOVIE":
        return Path(bpy.path.abspath(strip.filepath))
    if strip.sound is None:
        raise MediaError(strip.name, "the sound strip has no sound")
    return Path(bpy.path.abspath(strip.sound.filepath, library=strip.sound.library))


def timing(strip) -> placing.StripTiming:
    if len(strip.retiming_keys):
        raise placing.timing_error(strip.name, "is retimed, so its frames do not follow its source's time",
                                   "Strip > Retiming > Reset, or tag an un-retimed copy")
    if getattr(strip, "use_reverse_frames", False):
        raise placing.timing_error(strip.name, "plays in reverse")
    return placing.StripTiming(strip.name, round(strip.frame_start), strip.frame_final_start, strip.frame_final_end,
                               strip.frame_duration, strip.animation_offset_start, strip.animation_offset_end)


def strip_rate(strip):
    """A movie strip's own frame rate, exact (None when Blender does not know it)."""
    return parse_rate(f"{strip.fps:.6f}") if strip.type == "MOVIE" and strip.fps > 0 else None


def placement(strip, numbers: placing.StripTiming, scene, tagged: Tagged) -> placing.Placement:
    rate = placing.scene_rate(scene.render.fps, scene.render.fps_base)
    if strip.type == "SOUND":
        return placing.sound(numbers, rate, round(strip.sound_offset * 1000))
    source, frames = tagged.fps or strip_rate(strip), tagged.video_frames()
    if source is None or not frames:
        raise placing.timing_error(strip.name, "its analysis knows no video frame rate")
    return placing.movie(numbers, rate, source, frames)


def rate_warning(strip, scene, tagged: Tagged, chosen: placing.Placement) -> str | None:
    """A movie strip whose rate is not the scene's: what that does to it, in one line."""
    rate = placing.scene_rate(scene.render.fps, scene.render.fps_base)
    source = tagged.fps or strip_rate(strip)
    if strip.type != "MOVIE" or source is None or source == rate:
        return None
    how = "it plays at its own speed" if chosen.rate == rate else \
        "each of its frames takes a scene frame, so it plays slower than its sound; markers follow the picture"
    return (f"{strip.name}: the movie runs at {float(source):.3f} fps, the scene at {float(rate):.3f}: {how} "
            f"(Match scene rate sets the scene's)")


# --- markers ------------------------------------------------------------------------------------

def forget(scene, strip_name: str) -> None:
    """Remove the markers placed for ``strip_name`` that are still where and as they were placed."""
    placed = scene.mediatagger.placed
    for i in reversed(range(len(placed))):
        record = placed[i]
        if record.strip != strip_name:
            continue
        marker = next((m for m in scene.timeline_markers if m.name == record.label and m.frame == record.frame), None)
        if marker is not None:
            scene.timeline_markers.remove(marker)
        placed.remove(i)


def taken(scene) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for marker in scene.timeline_markers:
        out.setdefault(marker.frame, set()).add(marker.name)
    return out


def mark(scene, strip, tagged: Tagged, where: placing.Placement) -> int:
    """Replace the strip's markers with those of ``tagged``; how many were added."""
    settings = scene.mediatagger
    spans = tagged.chosen(settings.kinds(), settings.labels.split(","), settings.min_score)
    forget(scene, strip.name)
    planned = placing.spread(placing.cues(spans, where, settings.running), taken(scene), where.first, where.end)
    for c in planned:
        scene.timeline_markers.new(c.name, frame=c.frame)
        record = settings.placed.add()
        record.strip, record.label, record.frame = strip.name, c.name, c.frame
    return len(planned)


def tag(context, scene, strip, analyses: dict[Path, Tagged]) -> tuple[int, str | None]:
    """Tag one strip (its file analysed unless ``analyses`` has it): the markers added, and a warning."""
    media, numbers = media_path(strip), timing(strip)   # a strip that cannot be placed fails before analysing
    if media not in analyses:
        wm = context.window_manager
        wm.progress_begin(0, 1)
        try:
            analyses[media] = running.analyse(media, run_settings(context, media), wm.progress_update)
        finally:
            wm.progress_end()
    tagged = analyses[media]
    where = placement(strip, numbers, scene, tagged)
    return mark(scene, strip, tagged, where), rate_warning(strip, scene, tagged, where)


def one_line(exc: Exception) -> str:
    """An error as one line; an unexpected one (a bug) also prints its traceback to the system console."""
    if isinstance(exc, MediaTaggerError):
        message = str(exc)
    else:
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc} (a bug in the mediatagger add-on: details in the system console)"
    return " ".join(message.split())


def failed(operator, exc: Exception) -> set[str]:
    """Report ``exc`` in one line and cancel."""
    operator.report({"ERROR"}, one_line(exc))
    return {"CANCELLED"}


def top_strips(editor):
    """The sequencer's top-level strips (``strips`` since Blender 4.4, ``sequences`` before)."""
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def active_strip(context):
    editor = scene_of(context).sequence_editor
    strip = editor.active_strip if editor is not None else None
    return strip if strip is not None and strip.type in TAGGABLE else None


# --- operators ----------------------------------------------------------------------------------

class MEDIATAGGER_OT_tag_strip(bpy.types.Operator):
    """Run mediatagger on the active movie or sound strip and mark its events on the timeline"""

    bl_idname = "mediatagger.tag_strip"
    bl_label = "Tag strip"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return active_strip(context) is not None

    def execute(self, context):
        strip = active_strip(context)
        try:
            added, warning = tag(context, scene_of(context), strip, {})
        except Exception as exc:  # every failure becomes one line, never a traceback
            return failed(self, exc)
        if warning:
            self.report({"WARNING"}, warning)
        self.report({"INFO"}, f"{added} markers for {strip.name}")
        return {"FINISHED"}


class MEDIATAGGER_OT_tag_all(bpy.types.Operator):
    """Run mediatagger on every movie and sound strip of the scene (not muted ones) and mark their events"""

    bl_idname = "mediatagger.tag_all"
    bl_label = "Tag all strips"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return scene_of(context).sequence_editor is not None

    def execute(self, context):
        scene = scene_of(context)
        strips = sorted((s for s in top_strips(scene.sequence_editor) if s.type in TAGGABLE and not s.mute),
                        key=lambda s: (s.frame_final_start, s.channel))
        if not strips:
            self.report({"ERROR"}, "no movie or sound strips to tag")
            return {"CANCELLED"}
        analyses: dict[Path, Tagged] = {}
        added, problems = 0, []
        for strip in strips:
            try:
                count, warning = tag(context, scene, strip, analyses)
            except Exception as exc:  # one strip's failure is reported, and the others are tagged
                problems.append(f"{strip.name}: {one_line(exc)}")
                continue
            added += count
            if warning:
                self.report({"WARNING"}, warning)
        if len(problems) == len(strips):
            self.report({"ERROR"}, f"no strip tagged; {problems[0]}")
            return {"CANCELLED"}
        for problem in problems:
            self.report({"WARNING"}, problem)
        self.report({"INFO"}, f"{added} markers for {len(strips) - len(problems)} of {len(strips)} strips")
        return {"FINISHED"}


class MEDIATAGGER_OT_match_rate(bpy.types.Operator):
    """Set the scene's frame rate to the active movie strip's (strips added at their own speed change length)"""

    bl_idname = "mediatagger.match_rate"
    bl_label = "Match scene rate"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        strip = active_strip(context)
        return strip is not None and strip.type == "MOVIE"

    def execute(self, context):
        rate = strip_rate(active_strip(context))
        if rate is None:
            self.report({"ERROR"}, "the strip's frame rate is unknown")
            return {"CANCELLED"}
        render = scene_of(context).render
        render.fps, render.fps_base = placing.fps_settings(rate)
        self.report({"INFO"}, f"scene rate set to {float(rate):.3f} fps")
        return {"FINISHED"}


class MEDIATAGGER_OT_clear(bpy.types.Operator):
    """Remove the markers mediatagger placed in this scene (those moved or renamed since stay)"""

    bl_idname = "mediatagger.clear_markers"
    bl_label = "Remove mediatagger markers"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        scene = scene_of(context)
        for name in {record.strip for record in scene.mediatagger.placed}:
            forget(scene, name)
        return {"FINISHED"}


# --- panel --------------------------------------------------------------------------------------

class MEDIATAGGER_PT_panel(bpy.types.Panel):
    bl_space_type = "SEQUENCE_EDITOR"
    bl_region_type = "UI"
    bl_category = "mediatagger"
    bl_label = "mediatagger"

    def draw(self, context):
        layout, scene = self.layout, scene_of(context)
        column = layout.column(align=True)
        column.operator(MEDIATAGGER_OT_tag_strip.bl_idname, icon="MARKER_HLT")
        column.operator(MEDIATAGGER_OT_tag_all.bl_idname, icon="SEQ_STRIP_DUPLICATE")
        self.draw_rate(layout, context, scene)
        box = layout.box()
        box.label(text="Markers")
        settings = scene.mediatagger
        row = box.row(align=True)
        row.prop(settings, "events", toggle=True)
        row.prop(settings, "emotions", toggle=True)
        for name in ("labels", "min_score", "running"):
            box.prop(settings, name)
        layout.operator(MEDIATAGGER_OT_clear.bl_idname, icon="X")
        prefs = preferences(context)
        if prefs is not None:
            box = layout.box()
            box.label(text=f"Model: {prefs.model or 'default'}  VAD: {prefs.vad or 'default'}")
            box.label(text=f"Analyses: {prefs.output_dir or 'mediatagger/ beside the .blend'}")

    @staticmethod
    def draw_rate(layout, context, scene) -> None:
        strip = active_strip(context)
        rate = strip_rate(strip) if strip is not None else None
        if rate is None or rate == placing.scene_rate(scene.render.fps, scene.render.fps_base):
            return
        layout.label(text=f"Movie {float(rate):.3f} fps, scene {scene.render.fps / scene.render.fps_base:.3f}",
                     icon="ERROR")
        layout.operator(MEDIATAGGER_OT_match_rate.bl_idname)


CLASSES = (MEDIATAGGER_AP_preferences, MEDIATAGGER_PG_placed, MEDIATAGGER_PG_settings, MEDIATAGGER_OT_tag_strip,
           MEDIATAGGER_OT_tag_all, MEDIATAGGER_OT_match_rate, MEDIATAGGER_OT_clear, MEDIATAGGER_PT_panel)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.mediatagger = PointerProperty(type=MEDIATAGGER_PG_settings)


def unregister() -> None:
    del bpy.types.Scene.mediatagger
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    running.forget_taggers()
