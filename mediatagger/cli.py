"""The command line. The only place errors become one-line messages and exit codes.

Exit codes: 0 ok, 1 processing error, 2 usage error. ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import functools
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mediatagger import __version__, analysis, media, presets
from mediatagger import burn as burning
from mediatagger.errors import MediaTaggerError, OutputExistsError, UsageError
from mediatagger.exporters import EXPORTERS, Exporter, ass, parse_list, write_all
from mediatagger.presets import BURN_CHOICES
from mediatagger.tags import EVENTS, LANGUAGES, RICH_FORMS
from mediatagger.timecode import parse_duration

DEFAULT_EXPORTS = "json,ass,edl,clips"


def fail(message: str, code: int) -> None:
    click.echo(f"mediatagger: error: {message}", err=True)
    sys.exit(code)


def reports_errors(command: Callable[..., int]) -> Callable[..., None]:
    """Run a command body; typed errors become one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> None:
        try:
            code = command(*args, debug=debug, **kwargs)
        except MediaTaggerError as exc:
            if debug:
                raise
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except OSError as exc:
            if debug:
                raise
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), 1)
        sys.exit(code)

    return wrapper


def check_exports(ctx: click.Context, param: click.Parameter, value: str) -> list[Exporter]:
    try:
        return parse_list(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


def check_track(ctx: click.Context, param: click.Parameter, value: str) -> int | str:
    if value == "all" or value.isdigit():
        return "all" if value == "all" else int(value)
    raise click.BadParameter(f"{value!r} is not a track number or 'all'")


def check_device(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None or value == "cpu" or value == "cuda" or \
            (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise click.BadParameter(f"{value!r} is not cpu, cuda or cuda:N")


def check_start_tc(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if value is None else presets.check_start_tc(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


def with_output_flags(options: presets.Preset, rich_text: str | None, label_lang: str | None,
                      karaoke: bool | None, start_tc: str | None) -> presets.Preset:
    """The preset with the export flags that were given laid over it."""
    options = presets.override(options, "text", rich=rich_text, label_lang=label_lang)
    options = presets.override(options, "ass", karaoke=karaoke)
    return presets.override(options, "edl", start_tc=start_tc)


SUBTITLE_OPTIONS = [
    click.option("--rich-text", type=click.Choice(RICH_FORMS), help="How subtitles and the JSON show "
                 "SenseVoice's tags: plain, raw <|HAPPY|>, labels [Happy], emoji, html [default: plain]"),
    click.option("--label-lang", type=click.Choice(["en", "zh"]), help="Language of labels: [Laughter] / [笑声]."),
    click.option("--karaoke/--no-karaoke", default=None, help="ASS: highlight each word as it is spoken.")]
MARKER_OPTIONS = [
    click.option("--start-tc", callback=check_start_tc, help="Record timecode of the first frame in marker "
                 "exports: HH:MM:SS:FF, or 'source' for the file's own [default: 01:00:00:00]")]


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags that shape exports (``tag`` and ``export``); see ``with_output_flags``."""
    for option in reversed(SUBTITLE_OPTIONS + MARKER_OPTIONS):
        command = option(command)
    return command


def subtitle_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags that shape subtitles (``burn``)."""
    for option in reversed(SUBTITLE_OPTIONS):
        command = option(command)
    return command


class Progress:
    """tqdm bars on stderr, one per stage; only on a terminal, and never with --quiet."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet or not sys.stderr.isatty(), None

    def stage(self, name: str, total: float, unit: str) -> Callable[[float], None]:
        self.close()
        if self.quiet:
            return lambda n: None
        from tqdm import tqdm

        bar = tqdm(total=total, desc=name, unit=unit, file=sys.stderr, dynamic_ncols=True,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f}{unit} [{elapsed}]")
        self.bar = bar

        def update(done: float) -> None:
            bar.n = min(done, total)
            bar.refresh()

        return update

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Models:
    """Loads SenseVoice and the VAD on first use, once for all inputs."""

    def __init__(self, preset: presets.Preset, progress: Progress, debug: bool):
        self.preset, self.progress, self.debug = preset, progress, debug
        self.loaded: tuple[Any, Any] | None = None

    def __call__(self) -> tuple[Any, Any]:
        if self.loaded is None:
            from mediatagger import model, vad

            opts = self.preset.model
            self.progress.close()
            if not self.progress.quiet:
                click.echo(f"loading {opts.name} and VAD {opts.vad} ...", err=True)
            sensevoice = model.load_sensevoice(opts.name, opts.device, self.debug)
            self.loaded = (sensevoice, vad.load(opts.vad, self.preset.vad, opts.device, self.debug))
        return self.loaded


def check_free(exporters: list[Exporter], out_dir: Path, stem: str) -> None:
    for exporter in exporters:
        for existing in exporter.existing(out_dir, stem):
            raise OutputExistsError(existing)


def reusable(json_path: Path, key: str) -> analysis.Analysis | None:
    """The analysis already at ``json_path`` if it was made from the same content and settings."""
    if not json_path.is_file():
        return None
    try:
        previous = analysis.load(json_path)
    except MediaTaggerError:
        return None
    return previous if previous.cache_key == key else None


def tag_one(path: Path, out_dir: Path, track: int | str, exporters: list[Exporter],
            preset: presets.Preset, models: Models, force: bool, progress: Progress) -> list[Path]:
    info = media.probe(path)
    tracks = media.select_tracks(info, track)
    key = analysis.cache_key(path, preset, tracks)
    previous = None if force else reusable(out_dir / f"{path.stem}.analysis.json", key)
    if previous is not None:  # analyse once: keep what exists, write only what is missing
        result = analysis.rederive(previous, preset.spans)
        exporters = [e for e in exporters if not e.existing(out_dir, path.stem)]
    else:
        if not force:
            check_free(exporters, out_dir, path.stem)
        result = analysis.analyse(info, tracks, preset, models, progress.stage, key)
    progress.close()
    return write_all(exporters, result, out_dir, preset)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediatagger")
def cli() -> None:
    """Find laughter, applause, music and emotions in media; export subtitles, markers and clips."""


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Folder for the outputs.")
@click.option("--preset", default="default", show_default=True,
              help=f"Shipped preset ({', '.join(presets.shipped())}) or a YAML file.")
@click.option("--model", envvar="MEDIATAGGER_MODEL", help="Hub id (iic/SenseVoiceSmall) or a local "
              "SenseVoiceSmall folder [env MEDIATAGGER_MODEL; default: the preset's]")
@click.option("--vad", help="fsmn, silero, none, or a local fsmn-vad folder [default: the preset's]")
@click.option("--language", type=click.Choice(LANGUAGES), help="Spoken language [default: auto]")
@click.option("--itn/--no-itn", default=None, help="Punctuation and numbers in the transcript.")
@click.option("--track", default="0", show_default=True, callback=check_track,
              help="Audio track to analyse, counted from 0 among audio streams, or 'all'.")
@click.option("--export", "exporters", default=DEFAULT_EXPORTS, show_default=True,
              callback=check_exports, help=f"Comma list of: {', '.join(EXPORTERS)}.")
@output_options
@click.option("--device", callback=check_device, help="cpu, cuda or cuda:N [default: cpu]")
@click.option("--force", is_flag=True, help="Overwrite existing outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars (shown only on a terminal) and no "
              "list of written files.")
@click.option("--debug", is_flag=True, help="Show funasr's logs and full tracebacks.")
@reports_errors
def tag(inputs: tuple[Path, ...], out_dir: Path, preset: str, model: str | None, vad: str | None,
        language: str | None, itn: bool | None, track: int | str, exporters: list[Exporter],
        rich_text: str | None, label_lang: str | None, karaoke: bool | None, start_tc: str | None,
        device: str | None, force: bool, quiet: bool, debug: bool) -> int:
    """Analyse INPUT media files and write the chosen exports for each."""
    from mediatagger import vad as vad_module

    options = presets.load(preset)
    if vad is not None:
        vad_module.check_kind(vad)
    options = presets.override(options, "model", name=model, vad=vad, language=language, itn=itn,
                               device=device)
    options = with_output_flags(options, rich_text, label_lang, karaoke, start_tc)
    progress, code = Progress(quiet), 0
    models = Models(options, progress, debug)
    for path in inputs:
        try:
            for written in tag_one(path, out_dir, track, exporters, options, models, force, progress):
                if not quiet:
                    click.echo(str(written))
        except MediaTaggerError as exc:
            progress.close()
            if debug or len(inputs) == 1:
                raise
            click.echo(f"mediatagger: error: {exc}", err=True)
            code = max(code, exc.exit_code)
    return code


@cli.command("export")
@click.argument("analysis_path", metavar="ANALYSIS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path),
              help="Folder for the outputs [default: the analysis file's folder].")
@click.option("--preset", default="default", show_default=True,
              help=f"Shipped preset ({', '.join(presets.shipped())}) or a YAML file.")
@click.option("--export", "exporters", default=DEFAULT_EXPORTS, show_default=True,
              callback=check_exports, help=f"Comma list of: {', '.join(EXPORTERS)}.")
@output_options
@click.option("--force", is_flag=True, help="Overwrite existing outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No list of written files.")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@reports_errors
def export_command(analysis_path: Path, out_dir: Path | None, preset: str, exporters: list[Exporter],
                   rich_text: str | None, label_lang: str | None, karaoke: bool | None, start_tc: str | None,
                   force: bool, quiet: bool, debug: bool) -> int:
    """Re-derive spans from an analysis with a preset's thresholds and write exports, without the model."""
    options = with_output_flags(presets.load(preset), rich_text, label_lang, karaoke, start_tc)
    for written in export_analysis(analysis_path, out_dir, exporters, options, force):
        if not quiet:
            click.echo(str(written))
    return 0


def export_analysis(analysis_path: Path, out_dir: Path | None, exporters: list[Exporter], options: presets.Preset,
                    force: bool) -> list[Path]:
    """Exports of a stored analysis, re-thresholded by ``options``; the analysis itself is never overwritten."""
    doc = analysis.rederive(analysis.load(analysis_path), options.spans)
    out_dir = out_dir if out_dir is not None else analysis_path.parent
    if (out_dir / f"{doc.stem}.analysis.json").resolve() == analysis_path.resolve():
        exporters = [e for e in exporters if e.name != "json"]
    if not force:
        check_free(exporters, out_dir, doc.stem)
    return write_all(exporters, doc, out_dir, options)


@cli.command()
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--subs", type=click.Path(path_type=Path), help="Subtitles to burn (ASS, SRT, VTT).")
@click.option("--analysis", "analysis_path", metavar="ANALYSIS.json", type=click.Path(path_type=Path),
              help="Burn the styled ASS made from this analysis (with --preset and the flags below).")
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="The video to write (.mp4, .m4v, .mov or .mkv).")
@click.option("--preset", default="default", show_default=True,
              help=f"Shipped preset ({', '.join(presets.shipped())}) or a YAML file.")
@click.option("--fontsdir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of font files for the subtitles [default: the bundled DejaVu Sans].")
@subtitle_options
@click.option("--force", is_flag=True, help="Overwrite the output.")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@reports_errors
def burn(source: Path, subs: Path | None, analysis_path: Path | None, out: Path, preset: str, fontsdir: Path | None,
         rich_text: str | None, label_lang: str | None, karaoke: bool | None, force: bool, debug: bool) -> int:
    """Burn subtitles into INPUT: a subtitle file, or the styled ASS of an analysis. Audio is copied."""
    if (subs is None) == (analysis_path is None):
        raise UsageError("give exactly one of --subs FILE or --analysis ANALYSIS.json")
    if out.exists() and not force:
        raise OutputExistsError(out)
    options = with_output_flags(presets.load(preset), rich_text, label_lang, karaoke, None)
    with tempfile.TemporaryDirectory(prefix="mediatagger-") as tmp:
        if analysis_path is not None:
            doc = analysis.rederive(analysis.load(analysis_path), options.spans)
            subs = ass.EXPORTER.export(doc, Path(tmp), options)[0]
        assert subs is not None
        clips = options.clips
        burning.burn(source, subs, out, clips.crf, clips.x264_preset, clips.audio_bitrate, fontsdir)
    click.echo(str(out))
    return 0


def check_labels(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    labels = tuple(v.strip().upper() for v in value.split(",") if v.strip())
    unknown = [label for label in labels if label not in EVENTS]
    if unknown or not labels:
        raise click.BadParameter(f"{', '.join(unknown) or value!r}: choose event labels from {', '.join(EVENTS)}")
    return labels


def check_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    try:
        return None if value is None else parse_duration(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.argument("source", metavar="INPUT|ANALYSIS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path),
              help="Folder for the reel, its clips and plan [default: . for media, the analysis's folder].")
@click.option("--preset", default="default", show_default=True,
              help=f"Shipped preset ({', '.join(presets.shipped())}) or a YAML file.")
@click.option("--labels", callback=check_labels, help="Event labels to cut for [default: LAUGHTER,APPLAUSE].")
@click.option("--min-score", type=click.FloatRange(0, 1), help="Leave out spans scored below this.")
@click.option("--target", callback=check_duration, help="Keep the best clips up to this much footage (60s, 1m30s).")
@click.option("--order", type=click.Choice(["time", "score"]), help="Reel order [default: time].")
@click.option("--cut", type=click.Choice(["accurate", "fast"]), help="accurate: frame-exact re-encode [default]; "
              "fast: stream copy from keyframe to keyframe.")
@click.option("--crossfade", callback=check_duration, help="Transition length (0 for hard cuts) [default: 0.5s].")
@click.option("--burn", "burn_in", type=click.Choice(BURN_CHOICES), help="Burn event badges, or all the styled "
              "subtitles, into the clips [default: none].")
@click.option("--model", envvar="MEDIATAGGER_MODEL", help="For media input: hub id or local SenseVoiceSmall folder.")
@click.option("--vad", help="For media input: fsmn, silero, none, or a local fsmn-vad folder.")
@click.option("--track", default="0", show_default=True, callback=check_track, help="For media input: audio track.")
@click.option("--force", is_flag=True, help="Overwrite existing outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no list of written files.")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@reports_errors
def reel(source: Path, out_dir: Path | None, preset: str, labels: tuple[str, ...] | None, min_score: float | None,
         target: int | None, order: str | None, cut: str | None, crossfade: int | None, burn_in: str | None,
         model: str | None, vad: str | None, track: int | str, force: bool, quiet: bool, debug: bool) -> int:
    """Cut a highlight reel: clips around the chosen events, joined into OUT/<stem>.reel.mp4."""
    options = presets.override(presets.load(preset), "clips", labels=labels, min_score=min_score,
                               target_ms=target, order=order, cut=cut, crossfade_ms=crossfade,
                               burn=burn_in)
    exporters = parse_list("reel")
    if source.suffix.lower() == ".json":
        written = export_analysis(source, out_dir, exporters, options, force)
    else:
        options = presets.override(options, "model", name=model, vad=vad)
        progress = Progress(quiet)
        written = tag_one(source, out_dir or Path("."), track, exporters, options,
                          Models(options, progress, debug), force, progress)
    for path in written:
        if not quiet:
            click.echo(str(path))
    return 0


def main() -> None:
    cli(prog_name="mediatagger")
