"""Highlight clips and the reel: the media jobs behind ``--export clips`` and ``reel``.

``highlights.plan`` chooses the clips, ``cutting`` runs ffmpeg; this module names the files and
keeps a job whole across runs. It writes ``OUT/clips/<stem>_<NN>_<labels>.mp4`` in reel order,
``OUT/<stem>.reel.mp4`` for a reel, and ``OUT/<stem>.clips.json``: for each clip the source in/out
in ms and frames (as cut: fast cuts move to keyframes), the spans it covers and its file.

The plan is written first, marked ``incomplete``, with a fingerprint of everything that shapes the
files; a run that finds a plan with the same fingerprint finishes it (cuts only the clips that are
missing, removes the temp files a killed run left) and one with another fingerprint is refused
unless forced. Forcing deletes only the files that plan lists.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from mediatagger import cutting, files, framing, highlights, media, tags
from mediatagger.analysis import Analysis, dumps
from mediatagger.errors import OutputExistsError, UsageError
from mediatagger.exporters import ass
from mediatagger.files import Written
from mediatagger.highlights import Clip
from mediatagger.presets import Preset
from mediatagger.progress import Callback, Stage, ignore
from mediatagger.timecode import format_rate

PLAN_SCHEMA = "mediatagger.clips/1"
CLIP_TAIL = r"_\d{2,}_[a-z_]+"  # what follows the stem in a clip's name (clip_path): _01_laughter_applause
JOBS = {"clips": "highlight clips (preset clips:) and their plan <stem>.clips.json",
        "reel": "highlight clips joined into <stem>.reel.mp4 (with the clips and their plan)"}


def slug(name: str) -> str:
    """A label's name as part of a file name: ``Music`` -> ``music``, ``Gunshot, gunfire`` -> ``gunshot_gunfire``."""
    return re.sub(r"[^a-z]+", "_", name.lower()).strip("_") or "sound"


def clip_path(out_dir: Path, stem: str, number: int, clip: Clip) -> Path:
    """``clips/<stem>_NN_<labels>.mp4``: the names of the labels it holds, in time order, as every output
    names them (``talk_01_laughter_music``, not ``_bgm``)."""
    labels = "_".join(dict.fromkeys(slug(tags.label_name(s.label)) for s in clip.spans))
    return out_dir / "clips" / f"{stem}_{number:02d}_{labels}.mp4"


def plan_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}.clips.json"


def reel_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}.reel.mp4"


def fingerprint(analysis: Analysis, planned: list[tuple[Clip, Path]], out_dir: Path, preset: Preset) -> str:
    """Everything the files are made from: the source, the clips as planned (bounds, spans, scores,
    files), the options they are cut with, and with burn-in the subtitles burned. A reel joins these
    same clips, so it is left out: a reel run finishes a clips run."""
    plan = plan_dict(analysis, planned, out_dir, preset, "")
    parts: dict[str, Any] = {"source": analysis.source.path, "analysis": analysis.cache_key,
                             "clips": plan["clips"], "options": asdict(preset.clips)}
    if preset.reel.aspect != "source":
        parts["frame"] = asdict(preset.reel)
    if preset.clips.burn != "none":
        parts["subtitles"] = ass.to_string(burned(analysis, preset), preset)
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def plan_dict(analysis: Analysis, clips: list[tuple[Clip, Path]], out_dir: Path, preset: Preset,
              job: str, reel: Path | None = None, stale: list[Path] | None = None) -> dict[str, Any]:
    """The plan document; ``stale`` (files of an earlier job still to delete) marks it incomplete."""
    fps = analysis.source.fps
    return {
        "schema": PLAN_SCHEMA, "source": analysis.source.path, "fps": format_rate(fps) if fps else None,
        "cut": preset.clips.cut, "reel": reel.relative_to(out_dir).as_posix() if reel else None,
        "status": "incomplete" if stale is not None else "complete", "job": job,
        "stale": [p.relative_to(out_dir).as_posix() for p in stale or []],
        "clips": [{"file": path.relative_to(out_dir).as_posix(), "in_ms": c.start_ms, "out_ms": c.end_ms,
                   "in_frame": c.first_frame, "frames": c.frames,
                   "out_frame": None if c.first_frame is None else c.first_frame + (c.frames or 0),
                   "rank": round(c.rank, 3), "score": round(c.score, 3), "rule": preset.clips.rank,
                   "why": asdict(c.why) if c.why else None,
                   "spans": [asdict(s) for s in c.spans]} for c, path in clips],
    }


def previous_plan(out_dir: Path, stem: str) -> dict[str, Any] | None:
    """The plan a run before this one left, if it is one of ours."""
    text = files.read_text(plan_path(out_dir, stem))
    try:
        doc = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") == PLAN_SCHEMA else None


def listed_files(plan: dict[str, Any], out_dir: Path, stem: str) -> list[Path]:
    """The clips, reel and stale files a plan lists, as long as they are this stem's and inside ``out_dir``."""
    names = [c.get("file") for c in plan.get("clips", []) if isinstance(c, dict)] + [plan.get("reel")]
    names += plan.get("stale", []) if isinstance(plan.get("stale"), list) else []
    ours = re.compile(r"(clips/)?" + re.escape(stem) + rf"({CLIP_TAIL}|\.reel)\.mp4")
    return [out_dir / n for n in names if isinstance(n, str) and ours.fullmatch(n)]


def existing_clips(out_dir: Path, stem: str) -> list[Path]:
    """Clips of this stem in ``OUT/clips`` (no globbing: stems may hold ``[``)."""
    folder = out_dir / "clips"
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(stem) + rf"{CLIP_TAIL}\.mp4")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


class Job:
    """The clips (or reel) job for one analysis into one folder: what it will write, whether an
    earlier run of the very same job left files to keep, and what of another job's it replaces."""

    def __init__(self, analysis: Analysis, out_dir: Path, preset: Preset, reel: bool = False,
                 render: Callable[..., Clip] | None = None):
        """``render(clip, opts, out, subs, progress, name) -> Clip`` makes a clip instead of cutting it
        from the analysis's source (an editor's cut renders its record time: ``cut.cutter``)."""
        self.analysis, self.out_dir, self.preset, self.render = analysis, out_dir, preset, render
        self.stem = analysis.stem
        self.planned = highlights.plan(analysis, preset.clips)
        self.crops: dict[Path, framing.Framing] = {}   # each clip's crop, for a vertical or square reel
        self.paths = [clip_path(out_dir, self.stem, n, c) for n, c in enumerate(self.planned, 1)]
        self.key = fingerprint(analysis, list(zip(self.planned, self.paths)), out_dir, preset)
        self.previous = previous_plan(out_dir, self.stem)
        self.same = self.previous is not None and self.previous.get("job") == self.key
        earlier_reel = self.same and self.previous is not None and bool(self.previous.get("reel"))
        self.reel = bool(self.planned) and (reel or earlier_reel)  # a clips run keeps the reel of its clips

    @property
    def reel_file(self) -> Path | None:
        return reel_path(self.out_dir, self.stem) if self.reel else None

    def outputs(self) -> list[Path]:
        return [*self.paths, *([self.reel_file] if self.reel_file else []), plan_path(self.out_dir, self.stem)]

    def done(self) -> bool:
        return self.same and self.previous is not None and self.previous.get("status") == "complete" \
            and all(p.exists() for p in self.outputs())

    def replaced(self) -> list[Path]:
        """Files of earlier jobs for this stem that this job's files do not take the place of."""
        if self.previous is None:
            found = existing_clips(self.out_dir, self.stem) + [reel_path(self.out_dir, self.stem)]
        else:
            found = listed_files(self.previous, self.out_dir, self.stem)
        return [p for p in dict.fromkeys(found) if p not in self.outputs() and p.exists()]

    def check(self, force: bool = False) -> None:
        """Raise before anything is written: a source that is gone, a cut that cannot work, or (unless
        ``force``) files of another job in the way."""
        if self.planned and self.render is None:
            media.check_input(Path(self.analysis.source.path))
        aspect = self.preset.reel.aspect
        if self.render is not None and aspect != "source":
            raise UsageError(f"a {aspect} crop is not supported yet for an editor's cut")
        cutting.check(self.analysis.source, self.preset.clips, aspect)
        if force or self.same:
            return
        if self.previous is not None:
            raise OutputExistsError(plan_path(self.out_dir, self.stem),
                                    "was made by another clips run (other clips or settings)")
        stray = [p for p in self.replaced() + self.paths if p.exists()]
        if stray:
            raise OutputExistsError(stray[0], "already exists, from a clips run this folder has no plan of")

    def run(self, progress: Callback = ignore) -> list[Written]:
        """Cut what is missing (after ``check``): keep what the same job cut before, replace the rest,
        join the reel, write the plan, and only then delete the earlier job's leftovers."""
        if self.done():
            return [Written(p, kept=True) for p in self.outputs()]
        stale = self.replaced()
        over = set() if self.same else {p for p in self.outputs() if p.exists()}  # another job's files
        for target in [*self.outputs(), *stale]:
            for part in files.stale_parts(target):
                part.unlink(missing_ok=True)
        self.write_plan(list(zip(self.planned, self.paths)), stale)
        cut = self.cut_missing(progress)
        written = [Written(p, kept=kept, replaced=p in over, note=self.crop_note(p)) for (_, p), kept in cut]
        made = [clip for clip, _ in cut]
        reel = self.reel_file
        if reel is not None:
            joined = self.same and reel.exists() and all(kept for _, kept in cut)
            if not joined:
                self.join(made, reel, progress)
            written.append(Written(reel, kept=joined, replaced=reel in over))
        plan = self.write_plan(made)
        for path in stale:
            path.unlink(missing_ok=True)
        return [*written, Written(plan, replaced=plan in over), *(Written(p, removed=True) for p in stale)]

    def cut_missing(self, progress: Callback) -> list[tuple[tuple[Clip, Path], bool]]:
        """Every planned clip as cut, with whether its file was kept from an earlier run of this job."""
        opts, info = self.preset.clips, self.analysis.source
        keys = media.keyframes(info.path) if opts.cut == "fast" and info.fps else None
        stage, before, out = Stage(progress, "cut clips", float(sum(c.length for c in self.planned)), "s"), 0.0, []
        with tempfile.TemporaryDirectory(prefix="mediatagger-") as tmp:
            subs = burned_subtitles(self.analysis, Path(tmp), self.preset, self.frame()) if opts.burn != "none" \
                else None
            for clip, path in zip(self.planned, self.paths):
                loud = laughter_db(info, clip) if self.render is None else None
                if self.preset.reel.aspect != "source" and self.render is None:
                    self.crops[path] = framing.frame(info, clip.seek, clip.length, self.preset.reel.aspect)
                kept = self.same and path.exists()
                if kept:
                    made = cutting.as_cut(info, clip, opts, path, keys)
                else:
                    with files.atomic_path(path) as part:
                        if self.render is not None:
                            made = self.render(clip, opts, part, subs, stage.after(before), path.name)
                        else:
                            made = cutting.cut(info, clip, opts, part, subs, keys, stage.after(before), path.name,
                                               self.crops.get(path))
                out.append(((with_loudness(made, loud), path), kept))
                before += float(clip.length)
                stage.update(before)
        stage.finish()
        return out

    def join(self, made: list[tuple[Clip, Path]], reel: Path, progress: Callback) -> None:
        stage = Stage(progress, "join reel", float(sum(c.length for c, _ in made)), "s")
        with files.atomic_path(reel) as part:
            join(self.analysis, made, self.preset, part, stage.update)
        stage.finish()

    def frame(self) -> tuple[int, int] | None:
        """The size of a vertical or square reel's frame (None: the source's)."""
        source, aspect = self.analysis.source, self.preset.reel.aspect
        if aspect == "source" or not source.width or not source.height:
            return None
        return framing.crop_size(source.width, source.height, aspect)

    def crop_note(self, path: Path) -> str:
        crop = self.crops.get(path)
        return "" if crop is None or crop.faces else "no face found in a shot: that shot is cropped at the centre"

    def write_plan(self, clips: list[tuple[Clip, Path]], stale: list[Path] | None = None) -> Path:
        doc = plan_dict(self.analysis, clips, self.out_dir, self.preset, self.key, self.reel_file, stale)
        for entry, (_, path) in zip(doc["clips"], clips):
            crop = self.crops.get(path)
            entry["crop"] = None if crop is None else {"aspect": self.preset.reel.aspect, "width": crop.width,
                                                       "height": crop.height, "faces": crop.faces,
                                                       "x": [list(k) for k in crop.keys]}
        return files.write_text(plan_path(self.out_dir, self.stem), dumps(doc))


def measured(planned: list[Clip], plan: dict[str, Any] | None) -> list[Clip]:
    """``planned`` with the laughter loudness a clips run measured (its ``plan``, clips.json) for the same
    clips (the same in and out points); the others as they were."""
    heard = {(e.get("in_ms"), e.get("out_ms")): (e.get("why") or {}).get("laughter_db")
             for e in (plan or {}).get("clips", []) if isinstance(e, dict)}
    numbers = {key: float(db) for key, db in heard.items() if isinstance(db, (int, float)) and not isinstance(db, bool)}
    return [with_loudness(clip, numbers.get((clip.start_ms, clip.end_ms))) for clip in planned]


def with_loudness(clip: Clip, db: float | None) -> Clip:
    """``clip`` with its laughter's loudness (dBFS) in its why, where there is one to tell."""
    return replace(clip, why=replace(clip.why, laughter_db=db)) if clip.why is not None and db is not None else clip


def laughter_db(info: media.MediaInfo, clip: Clip) -> float | None:
    """How loud the clip's laughter is: the RMS level of its laughter spans' sound, dBFS (None without
    laughter, or sound)."""
    laughs = [s for s in clip.spans if s.label == "LAUGHTER"]
    if not laughs or not info.audio_tracks:
        return None
    rate = 8000
    sound = media.sound(info, clip.seek, clip.length, 1, rate)[:, 0]
    inside = np.zeros(len(sound), bool)
    for span in laughs:
        first = max(0, (span.start_ms - clip.start_ms) * rate // 1000)
        inside[first:max(first, (span.end_ms - clip.start_ms) * rate // 1000)] = True
    if not inside.any():
        return None
    level = float(np.sqrt(np.mean(sound[inside].astype(np.float64) ** 2)))
    return round(20 * math.log10(level), 1) if level > 1e-6 else None


def burned(analysis: Analysis, preset: Preset) -> Analysis:
    """What is burned into clips: badges only (no dialogue) unless ``clips.burn`` is ``all``."""
    if preset.clips.burn == "badges":
        return replace(analysis, tracks=tuple(replace(t, segments=()) for t in analysis.tracks))
    return analysis


def burned_subtitles(analysis: Analysis, folder: Path, preset: Preset, frame: tuple[int, int] | None = None) -> Path:
    """The styled ASS to burn, as a file in ``folder`` (laid out for a ``frame`` crop, in its platform's
    safe zone, when there is one)."""
    if frame is not None:
        analysis, preset = framing.safe_subtitles(analysis, preset, frame)
    return files.write_text(folder / "burn.ass", ass.to_string(burned(analysis, preset), preset))


def join(analysis: Analysis, done: list[tuple[Clip, Path]], preset: Preset, out: Path,
         progress: Callable[[float], None] | None = None) -> None:
    """Write the reel: stream copy for fast clips with hard cuts, else one re-encode with transitions."""
    opts, source = preset.clips, analysis.source
    if opts.cut == "fast" and not opts.crossfade_ms and source.fps:
        with tempfile.TemporaryDirectory(prefix="mediatagger-") as tmp:
            listing = Path(tmp) / "clips.ffconcat"
            listing.write_text(cutting.concat_list([path for _, path in done]), encoding="utf-8")
            media.run_ffmpeg(cutting.copy_reel_args(listing, out), source.path, "cannot join the reel", progress)
        return
    media.run_ffmpeg(cutting.reel_args(done, source.fps, opts, out), source.path, "cannot join the reel", progress)


def run(analysis: Analysis, out_dir: Path, preset: Preset, reel: bool = False, force: bool = False,
        progress: Callback = ignore) -> list[Written]:
    """Cut the highlight clips of ``analysis`` (and join them into a reel), finishing an interrupted run."""
    job = Job(analysis, out_dir, preset, reel)
    job.check(force)
    return job.run(progress)
