"""Editor integrations, thin glue over the API: the Blender add-on (``blender``), the OpenTimelineIO
plugin (``otio_plugin``: an analysis as a timeline, markers linked onto clips) and DaVinci Resolve's
script (``resolve``, and ``resolve_script`` to copy into Resolve's Scripts folder)."""
