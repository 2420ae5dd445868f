"""Build the add-on's zip: ``python -m mediatagger.editors.blender.pack OUT.zip``.

The zip holds one folder, ``mediatagger_blender/``, so it installs both ways: as an add-on
(Preferences > Add-ons > Install from Disk, or ``bpy.ops.preferences.addon_install``: ``bl_info`` in
its ``__init__.py``) and as a Blender 4.2+ extension (Get Extensions > Install from Disk: its
``blender_manifest.toml``). Beside the add-on's modules it carries ``_vendor/``, copies of the
stdlib-only mediatagger modules ``shared`` falls back on (timecode, timeline, errors, tags and its
AudioSet class names), so the zip
works in a Blender whose Python cannot import mediatagger. The zip's bytes depend only on the sources.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

ADDON = "mediatagger_blender"                      # the folder in the zip: the add-on's module name
HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent.parent                       # mediatagger/
MODULES = ("__init__.py", "addon.py", "placing.py", "reading.py", "running.py", "shared.py")
VENDORED = {"errors.py": {}, "timeline.py": {}, "tags.py": {},
            "timecode.py": {"from mediatagger.errors import": "from .errors import"}}
VENDORED_DATA = ("audioset_classes.txt",)          # what the vendored tags.py reads: AudioSet's class names
VENDOR_DOC = '"""Copies of mediatagger modules made by mediatagger/editors/blender/pack.py: edit the originals."""\n'
_IMPORTS = re.compile(r"^\s*(from|import)\s+mediatagger\b", re.MULTILINE)
_STAMP = (2020, 1, 1, 0, 0, 0)


def vendored(name: str) -> str:
    """A mediatagger module's source with its imports of mediatagger made relative; it must need nothing else."""
    text = (PACKAGE / name).read_text(encoding="utf-8")
    for old, new in VENDORED[name].items():
        if old not in text:
            raise RuntimeError(f"mediatagger/{name} no longer has {old!r}: update VENDORED in {__file__}")
        text = text.replace(old, new)
    if _IMPORTS.search(text):
        raise RuntimeError(f"mediatagger/{name} imports more of mediatagger than the add-on carries")
    return text


def manifest_id() -> str:
    match = re.search(r'^id\s*=\s*"([^"]+)"', (HERE / "blender_manifest.toml").read_text(encoding="utf-8"), re.M)
    return match.group(1) if match else ""


def contents() -> dict[str, str]:
    """Each file of the zip: its name in the zip -> its text."""
    if manifest_id() != ADDON:
        raise RuntimeError(f"blender_manifest.toml's id must be {ADDON!r} (the add-on's folder in the zip)")
    files = {f"{ADDON}/{name}": (HERE / name).read_text(encoding="utf-8")
             for name in (*MODULES, "blender_manifest.toml")}
    files[f"{ADDON}/_vendor/__init__.py"] = VENDOR_DOC
    files.update({f"{ADDON}/_vendor/{name}": vendored(name) for name in VENDORED})
    files.update({f"{ADDON}/_vendor/{name}": (PACKAGE / name).read_text(encoding="utf-8") for name in VENDORED_DATA})
    return files


def pack(out: Path | str) -> Path:
    """Write the zip to ``out`` (its folder made if need be)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(contents().items()):
            info = zipfile.ZipInfo(name, _STAMP)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mediatagger.editors.blender.pack",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the zip to write, e.g. dist/mediatagger_blender.zip")
    args = parser.parse_args(argv)
    try:
        print(pack(args.out))
    except (OSError, RuntimeError) as exc:
        print(f"pack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
