"""The pure parts of mediatagger the add-on needs: frame arithmetic, ``Span``, the errors and the labels' names.

Inside a checkout or wherever Blender's Python can import mediatagger they come from mediatagger
itself. Blender's own Python usually cannot (torch and funasr are not in it), so ``pack`` copies
these stdlib-only modules into the add-on's zip as ``_vendor``: the frames are then computed by the
very same code the marker exporters use.
"""

try:
    from mediatagger.errors import AnalysisError, MediaError, MediaTaggerError, UnknownChoiceError, UsageError
    from mediatagger.tags import label_name
    from mediatagger.timecode import frame_to_ms, ms_to_frame, parse_rate
    from mediatagger.timeline import Span
except ImportError:  # the zip in a Blender without mediatagger: the copies made by pack.py
    from ._vendor.errors import (  # type: ignore[no-redef]
        AnalysisError,
        MediaError,
        MediaTaggerError,
        UnknownChoiceError,
        UsageError,
    )
    from ._vendor.tags import label_name  # type: ignore[no-redef]
    from ._vendor.timecode import frame_to_ms, ms_to_frame, parse_rate  # type: ignore[no-redef]
    from ._vendor.timeline import Span  # type: ignore[no-redef]

__all__ = ["AnalysisError", "MediaError", "MediaTaggerError", "Span", "UnknownChoiceError", "UsageError",
           "frame_to_ms", "label_name", "ms_to_frame", "parse_rate"]
