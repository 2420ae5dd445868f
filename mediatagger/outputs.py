"""Every output a run can write, in one registry over two kinds: the text formats (``exporters``, each
``to_string``, written whole or not at all) and the media jobs that compose them (``clips``: the
highlight clips and their plan; ``reel``: the clips joined). A preset's ``exports`` name these.

Outputs never lie: an output that would come out the same is kept as it is; one that would come out
different is refused (``OutputExistsError``) unless ``force``; nothing is written until every text
output has been made in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mediatagger import clips, files
from mediatagger.analysis import Analysis
from mediatagger.errors import OutputExistsError, UnknownChoiceError, UsageError
from mediatagger.exporters import EXPORTERS
from mediatagger.files import Written
from mediatagger.presets import OUTPUT_NAMES, Preset
from mediatagger.progress import Callback, ignore

if [*EXPORTERS, *clips.JOBS] != list(OUTPUT_NAMES):   # the names presets accept, kept low (presets import no output)
    raise RuntimeError(f"presets.OUTPUT_NAMES must list {[*EXPORTERS, *clips.JOBS]}, in that order")


def output_names() -> list[str]:
    """Every output name: the text formats (``json``, ``ass``, ``edl``, ...), then ``clips`` and ``reel``."""
    return [*EXPORTERS, *clips.JOBS]


def choose(names: Iterable[str] | str | None, preset: Preset) -> list[str]:
    """Output names, checked (``"ass,edl"`` or a list; None: the preset's ``exports``); ``reel``
    writes the clips too, so it stands in for ``clips``."""
    if names is None:
        names = preset.exports
    if isinstance(names, str):
        names = names.split(",")
    chosen = [n.strip() for n in names if n.strip()]
    known = output_names()
    for name in chosen:
        if name not in known:
            raise UnknownChoiceError("export format", name, known)
    if "reel" in chosen:
        chosen = [n for n in chosen if n != "clips"]
    if not chosen:
        raise UsageError("no output format chosen")
    return list(dict.fromkeys(chosen))


def with_json(names: list[str]) -> list[str]:
    return list(dict.fromkeys(["json", *names]))


def planned(names: list[str], out_dir: Path, stem: str) -> list[Path]:
    """The files the text formats among ``names`` write."""
    return [EXPORTERS[n].path(out_dir, stem) for n in names if n in EXPORTERS]


def refuse_existing(names: list[str], out_dir: Path, stem: str) -> None:
    """Before a new analysis (none here fits): any output already there was made from another one."""
    plan = [clips.plan_path(out_dir, stem)] if set(names) & set(clips.JOBS) else []
    analysis = EXPORTERS["json"].path(out_dir, stem)
    why = "already exists, made from other input or settings" if analysis.exists() else \
        "already exists, and the analysis that made it is not in the folder"
    for path in planned(names, out_dir, stem) + plan:
        if path.exists():
            raise OutputExistsError(path, why)


def write(result: Analysis, out_dir: Path, names: list[str], preset: Preset, force: bool,
          progress: Callback = ignore) -> list[Written]:
    """Every text output made in memory (so any that cannot be made fails before a file is written),
    the media job checked, then the files written; unchanged ones are kept, changed ones need ``force``."""
    texts = {EXPORTERS[n].path(out_dir, result.stem): files.as_text(EXPORTERS[n].to_string(result, preset))
             for n in names if n in EXPORTERS}
    job = clips.Job(result, out_dir, preset, reel="reel" in names) if set(names) & set(clips.JOBS) else None
    if job is not None:
        job.check(force)
    check_changes(texts, force)
    return write_texts(texts) + (job.run(progress) if job is not None else [])


def check_changes(texts: dict[Path, str], force: bool) -> None:
    """Unless ``force``, refuse when any of the files would change."""
    changed = [p for p, text in texts.items() if p.exists() and files.read_text(p) != text]
    if changed and not force:
        more = f", as would {len(changed) - 1} more" if len(changed) > 1 else ""
        raise OutputExistsError(changed[0], f"already exists and would change{more}")


def write_texts(texts: dict[Path, str]) -> list[Written]:
    """Each text to its file (atomically); a file that already holds it is kept as it is."""
    return [Written(path, kept=True) if files.read_text(path) == text else Written(files.write_text(path, text))
            for path, text in texts.items()]
