"""mediatagger's OpenTimelineIO plugin, found through the ``opentimelineio.plugins`` entry point.

Its ``plugin_manifest.json`` registers:

- the adapter ``mediatagger`` (suffix ``json``): reads ``<stem>.analysis.json`` as a timeline, the
  source as one clip and a marker per span (colour, note, ``metadata["mediatagger"]``), so
  ``otioconvert -i talk.analysis.json -o talk.xml`` writes markers through any installed adapter;
- the media linker ``mediatagger``: on any timeline read, finds each clip's media (under
  ``media_root`` when it moved) and adds the markers of its analysis (from ``analyses``, default:
  beside the media) where the clip shows them: ``otioconvert -i cut.xml -o cut.otio -m mediatagger
  -M analyses=OUT``.
"""
