"""The editor's cut: a timeline an NLE exported, its media tagged once each, written back with markers.
``reading`` reads a cut and finds its media; ``record`` maps spans to record time and writes the
markers; ``reel`` renders the cut's highlight reel.

    cut = read("cut.fcpxml", media_root=None)       # -> Cut; a MediaError lists every missing file
    analyses = tag(cut, tagger, "out")               # each media file once; analyses in "out" reused
    text = render(cut, analyses, "fcpxml", preset)   # the same timeline, a marker per span on each clip

A cut is read with OpenTimelineIO's adapters (FCP7 XML, CMX EDL, OTIO, Kdenlive) or, for FCPXML,
with ``fcpxml_timeline``. Each clip becomes a ``Piece``: which media, which frames of it (source
frames, counted from the media's first frame at the clip's rate) and where they sit on the
timeline (record frames). A span shows in a piece where its frames overlap the piece's; it lands
on the record frame where its first visible frame is on screen. Clips with a speed change or
reversed (time warps) are left out with a warning naming them; transitions overlap clips in
OpenTimelineIO without moving them, so they shift nothing. An audio clip linked to a video clip
(same media, same frames, same place) is the video clip's sound and is not counted twice.

Outputs: ``CLIP_FORMATS`` carry the whole timeline with markers on its clips (source time);
``RECORD_FORMATS`` are the single-file marker formats made from an Analysis of the whole cut in
record time (``on_record``), so they look and import exactly as a single file's do.
"""


from __future__ import annotations

from mediatagger.cut.reading import (  # noqa: F401 (the cut's API, one namespace)
    ADAPTERS,
    CLIP_FORMATS,
    EDL_EVENT,
    EDL_PROBE_RATE,
    FORMATS,
    OUTPUTS,
    RECORD_FORMATS,
    TAGGED,
    Cut,
    Piece,
    clips,
    counts_drop,
    edl_start,
    find_media,
    kind_of,
    load_timeline,
    media_name,
    piece,
    place,
    read,
    record_offset,
    resolve_media,
    tail,
    timeline_rate,
    unlinked,
)
from mediatagger.cut.record import (  # noqa: F401 (the cut's API, one namespace)
    analysis_dirs,
    clip_markers,
    fcpxml,
    media_frames,
    on_record,
    ours,
    output_path,
    record_key,
    record_markers,
    record_source,
    render,
    tag,
    visible,
    with_markers,
)
from mediatagger.cut.reel import (  # noqa: F401 (the cut's API, one namespace)
    Part,
    cutter,
    parts,
    render_args,
    shown,
)
