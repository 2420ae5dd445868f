"""mediatagger for Blender's video sequencer: mark laughter, applause, music and emotions of movie and
sound strips as scene timeline markers (``LAUGHTER 0.93``) on the frames where they are seen.

An add-on (``bl_info``, ``register``) and a Blender 4.2+ extension (``blender_manifest.toml``) in one:
``python -m mediatagger.editors.blender.pack OUT.zip`` builds the zip that installs as either. Nothing here
imports bpy until Blender registers the add-on, so ``pack`` and the pure modules (``placing``,
``reading``, ``running``) import without Blender.
"""

bl_info = {
    "name": "mediatagger",
    "author": "mediatagger",
    "version": (0, 1, 0),
    "blender": (4, 2, 0),
    "location": "Sequencer > Sidebar (N) > mediatagger",
    "description": "Mark laughter, applause, music and emotions of movie and sound strips as timeline markers",
    "category": "Sequencer",
}


def register() -> None:
    from . import addon

    addon.register()


def unregister() -> None:
    from . import addon

    addon.unregister()
