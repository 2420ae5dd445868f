"""``tag`` (files, folders, batches) and ``export`` (a stored analysis's outputs again)."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from mediatagger import api, batch, presets

# how the command line spells the options that error hints name
from mediatagger.cli.common import (
    EXPORT_OPTION,
    FLAGS,
    MODEL_OPTIONS,
    apply,
    output_options,
    preset_option,
    reports_errors,
    run_options,
    with_output_flags,
)
from mediatagger.cli.shown import Bars, BatchShown, FollowShown, report, warn
from mediatagger.errors import UsageError
from mediatagger.files import Written
from mediatagger.tags import LANGUAGES


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Folder for the outputs.")
@preset_option()
@functools.partial(apply, options=MODEL_OPTIONS)
@click.option("--language", type=click.Choice(LANGUAGES), help="Spoken language [default: auto]")
@click.option("--itn/--no-itn", default=None, help="Punctuation and numbers in the transcript.")
@EXPORT_OPTION
@output_options
@click.option("--device", help="cpu, cuda or cuda:N [default: cpu]")
@click.option("--precision", type=click.Choice(presets.choices("model", "precision")),
              help="fp32, int8 (quantised for the CPU), or auto: int8 on the CPU [default: auto]")
@click.option("--threads", type=click.IntRange(0, 1024), help="CPU threads for inference [default: every core]")
@click.option("-r", "--recursive", is_flag=True, help="Search folders given as INPUT in their subfolders too.")
@click.option("--retry-failed", is_flag=True, help="Retry inputs the batch journal says failed before.")
@click.option("--busy-wait", type=click.FloatRange(0, 86400), default=60, show_default=True, metavar="SECONDS",
              help="How long a batch waits, at its end, for inputs whose outputs another run is writing.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for a batch, each loading the model once (memory: one model each).")
@click.option("--ray", "ray_address", metavar="auto|ADDRESS", help="Hand a batch to a Ray cluster: an actor per CPU, "
              "each with one loaded model (inputs and -o on a disk every node sees).")
@click.option("--follow", is_flag=True, help="Tag one recording while it is still being written (a file, - for "
              "standard input, or a named pipe), writing markers as it goes; ends when the recording does.")
@click.option("--refresh", "refresh_s", type=click.FloatRange(0.5, 3600), default=10, show_default=True,
              metavar="SECONDS", help="With --follow: rewrite the chosen outputs this often.")
@click.option("--idle", "idle_s", type=click.FloatRange(1, 86400), default=30, show_default=True, metavar="SECONDS",
              help="With --follow: end when the file has not grown for this long.")
@click.option("--name", "stream_name", metavar="NAME", help="With --follow -: the stem of the stream's copy "
              "and outputs [default: live].")
@run_options
@reports_errors
def tag(inputs: tuple[Path, ...], out_dir: Path, preset: str, model: str | None, vad: str | None,
        track: int | str, language: str | None, itn: bool | None, exports: list[str] | None,
        rich_text: str | None, label_lang: str | None, karaoke: bool | None, start_tc: str | None,
        timecode: str | None, device: str | None, precision: str | None, threads: int | None, recursive: bool,
        detector: str | None, audioset_labels: tuple[str, ...], retry_failed: bool, busy_wait: float, jobs: int,
        ray_address: str | None, follow: bool, refresh_s: float, idle_s: float, stream_name: str | None, force: bool,
        quiet: bool, debug: bool) -> int:
    """Analyse INPUT media files (or the media in INPUT folders) and write the chosen exports for each.

    A folder's outputs mirror its subfolders under -o. With several inputs or a folder, a journal in
    the output folder (mediatagger.journal.jsonl) lets a rerun skip what is done (while its file,
    settings and outputs are as they were) and redo what was cut short or changed; inputs that failed
    are retried only with --retry-failed. Exit 1 while any input is failed, 75 while any is busy
    (another run is writing its outputs)."""
    options = with_output_flags(presets.load(preset), rich_text, label_lang, karaoke, start_tc, timecode)
    tagger = api.Tagger(options, model=model, vad=vad, language=language, itn=itn, device=device,
                        precision=precision, threads=threads, detector=detector,
                        audioset_labels=audioset_labels or None, verbose=debug)
    if follow:
        batch_only = [flag for flag, used in (("--recursive", recursive), ("--retry-failed", retry_failed),
                                              ("--jobs", jobs != 1), ("--ray", ray_address)) if used]
        if batch_only:
            raise UsageError(f"{', '.join(batch_only)}: for batches; --follow tags one recording")
        return following(tagger, inputs, out_dir, exports, track, refresh_s, idle_s, stream_name, force, quiet)
    result = batch.tag_folder(inputs, out_dir, tagger, recursive=recursive, exports=exports, track=track,
                              force=force, retry_failed=retry_failed, jobs=jobs, ray=ray_address,
                              busy_wait=busy_wait, progress=BatchShown(quiet), names=FLAGS, debug=debug)
    if result.journal is not None:
        click.echo(f"mediatagger: {result.line(FLAGS)}", err=True)
    return result.exit_code


@click.command("export")
@click.argument("analysis_path", metavar="ANALYSIS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path),
              help="Folder for the outputs [default: the analysis file's folder].")
@preset_option()
@EXPORT_OPTION
@output_options
@run_options
@reports_errors
def export_command(analysis_path: Path, out_dir: Path | None, preset: str, exports: list[str] | None,
                   rich_text: str | None, label_lang: str | None, karaoke: bool | None, start_tc: str | None,
                   timecode: str | None, force: bool, quiet: bool, debug: bool) -> int:
    """Re-derive spans from an analysis with a preset's thresholds and write exports, without the model."""
    options = with_output_flags(presets.load(preset), rich_text, label_lang, karaoke, start_tc, timecode)
    report(export_analysis(analysis_path, out_dir, exports, options, force, Bars(quiet)), quiet)
    return 0


def export_analysis(analysis_path: Path, out_dir: Path | None, exports: list[str] | None, options: presets.Preset,
                    force: bool, bars: Bars) -> list[Written]:
    try:
        return api.reexport(analysis_path, out_dir, exports, options, force=force, progress=bars)
    finally:
        bars.close()


def following(tagger: api.Tagger, inputs: tuple[Path, ...], out_dir: Path, exports: list[str] | None,
              track: int | str, refresh_s: float, idle_s: float, name: str | None, force: bool, quiet: bool) -> int:
    """``tag --follow``: one recording, its spans shown as they are found."""
    from mediatagger import follow

    if len(inputs) != 1:
        raise UsageError("--follow takes one recording (a file, - for standard input, or a named pipe)")
    shown = FollowShown(quiet, str(inputs[0]))
    try:
        done = follow.follow(tagger, str(inputs[0]), out_dir, exports, track, refresh_s, idle_s, name, force,
                             heard=shown.span, progress=shown.progress)
    finally:
        shown.close()
    if not done.complete:
        warn(f"{done.analysis.source.path}: {done.said}")
    for why in done.left_out:
        warn(why)
    report(done.written, quiet)
    return 0
