"""mediatagger markers: DaVinci Resolve script (Workspace > Scripts > Edit > mediatagger markers).

Copy this file into Resolve's Fusion/Scripts/Edit folder. It tags every media file on the current
timeline with mediatagger (installed in the Python that Resolve uses: ``pip install mediatagger``)
and adds a coloured marker per laugh, applause, music and emotion where it is on screen. Analyses
go to ``~/mediatagger-resolve`` (reused on the next run); set MEDIATAGGER_MODEL to a local model folder.
"""

import os
import sys
from pathlib import Path


def main() -> None:
    from mediatagger.editors.resolve import add_markers

    app = globals().get("resolve") or __import__("DaVinciResolveScript").scriptapp("Resolve")
    added = add_markers(app, Path.home() / "mediatagger-resolve", model=os.environ.get("MEDIATAGGER_MODEL"))
    print(f"mediatagger: {added} markers added")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - Resolve's console shows one line, not a traceback
        print(f"mediatagger: error: {exc}", file=sys.stderr)
