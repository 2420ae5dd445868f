"""OpenTimelineIO media linker ``mediatagger``: each clip's media found, and its analysis's markers added.

Arguments (``-M key=value`` in otioconvert): ``analyses`` (folder of ``<stem>.analysis.json``;
default: beside the media), ``media_root`` (folder to find moved media in, by file name),
``preset`` (whose marker kinds and colours are used; default ``default``). A clip whose media or
analysis is not found keeps its reference as it was and gets no markers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def link_media_reference(in_clip: Any, media_linker_argument_map: dict[str, Any] | None) -> Any:
    import opentimelineio as otio

    from mediatagger import api, cut, files
    from mediatagger.errors import MediaTaggerError
    from mediatagger.timecode import frames_at, rate_of

    args = media_linker_argument_map or {}
    reference = in_clip.media_reference
    root = Path(args["media_root"]) if args.get("media_root") else None
    path = cut.find_media(cut.media_name(in_clip), Path.cwd(), root)
    if path is None:
        return reference
    folder = Path(args["analyses"]) if args.get("analyses") else path.parent
    preset = api.preset_of(str(args.get("preset", "default")))
    try:
        doc = api.load(folder / f"{files.output_stem(path)}.analysis.json", preset)
    except MediaTaggerError:
        return reference
    rate = float(in_clip.trimmed_range().start_time.rate)
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    piece = cut.piece(0, track, in_clip, path, doc.source, rate_of(rate))
    first = frames_at(in_clip.trimmed_range().start_time, piece.rate) - piece.source
    for marker in [m for m in in_clip.markers if cut.ours(m)]:   # linked again: one set of markers
        in_clip.markers.remove(marker)
    in_clip.markers.extend(cut.clip_markers(piece, doc, preset, first))
    return otio.schema.ExternalReference(target_url=path.as_uri(), available_range=getattr(
        reference, "available_range", None))
