"""The command line: parses flags, calls the API (``mediatagger.api``), and is the only place errors
become one-line messages and exit codes.

Exit codes: 0 ok, 1 processing error, 2 usage error, 70 internal error (a bug), 75 a batch left inputs
busy (another run was writing their outputs; run it again later), 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP
(temp files are removed on all three). ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from mediatagger import __version__, api, batch, files, presets, tags
from mediatagger.cut import FORMATS as TIMELINE_FORMATS
from mediatagger.errors import MediaTaggerError, Terminated, UsageError
from mediatagger.files import Written
from mediatagger.progress import Progress
from mediatagger.tags import EVENTS, LANGUAGES, RICH_FORMS
from mediatagger.timecode import TIMECODE_MODES, parse_duration, parse_int

# how the command line spells the options that error hints name
FLAGS = {"force": "--force", "model_dir": "--model DIR", "device_cpu": "--device cpu", "vad_dir": "--vad DIR",
         "vad_silero": "--vad silero", "cut_accurate": "--cut accurate on reel, clips.cut: accurate in a preset",
         "fontsdir": "--fontsdir DIR", "media_root": "--media-root DIR",
         "detector_audioset": "--detector audioset", "detector_sensevoice": "--detector sensevoice"}


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def fail(message: str, code: int) -> None:
    click.echo(f"mediatagger: error: {message}", err=True)
    sys.exit(code)


def _raise_terminated(signum: int, frame: Any) -> None:
    if not files.deferred(signum):  # held while a temp file or ffmpeg starts: raised once its cleanup is in place
        raise Terminated(signum)


def _raise_interrupt(signum: int, frame: Any) -> None:
    if not files.deferred(signum):
        raise KeyboardInterrupt


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP end a command as Ctrl-C does: cleanup runs, temp files go."""
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def reports_errors(command: Callable[..., int]) -> Callable[..., None]:
    """Run a command body; typed errors become one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> None:
        try:
            with signals_as_interrupts():
                code = command(*args, debug=debug, **kwargs)
        except MediaTaggerError as exc:
            if debug:
                raise
            fail(exc.describe(FLAGS), exc.exit_code)
        except Terminated as exc:
            fail(f"stopped by signal {signal.Signals(exc.signum).name}", 128 + exc.signum)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except OSError as exc:
            if debug:
                raise
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), 1)
        except Exception as exc:  # a bug: still one line and a failing exit code, never a silent 0
            if debug:
                raise
            fail(f"internal error, please report it: {type(exc).__name__}: {one_line(str(exc))} "
                 "(--debug shows where)", 70)
        sys.exit(code)

    return wrapper


def bad_parameter(check: Callable[[str], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback from a checking function: None passes, a UsageError becomes click's message."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        try:
            return None if value is None else check(value)
        except UsageError as exc:
            raise click.BadParameter(exc.describe(FLAGS)) from None

    return callback


def check_exports(value: str) -> list[str]:
    return api.choose(value, presets.Preset())


def check_track(value: str) -> int | str:
    if value == "all" or value.isascii() and value.isdigit():
        return "all" if value == "all" else parse_int(value, "the track", max_abs=1000)  # as an analysis holds
    raise UsageError(f"{value!r} is not a track number or 'all'")


def check_labels(value: str) -> tuple[str, ...]:
    labels = tuple(v.strip().upper() for v in value.split(",") if v.strip())
    labels = tuple(tags.audioset_label(label) or label if label not in EVENTS else label for label in labels)
    unknown = [label for label in labels if label not in EVENTS and label not in tags.audioset_labels()]
    if unknown or not labels:
        raise UsageError(f"{', '.join(unknown) or value!r}: choose event labels from {', '.join(EVENTS)} "
                         "or AudioSet classes (DOG, GUNSHOT_GUNFIRE ...)")
    return labels


def with_output_flags(options: presets.Preset, rich_text: str | None = None, label_lang: str | None = None,
                      karaoke: bool | None = None, start_tc: str | None = None,
                      timecode: str | None = None) -> presets.Preset:
    """The preset with the export flags that were given laid over it."""
    options = presets.override(options, "text", rich=rich_text, label_lang=label_lang)
    options = presets.override(options, "ass", karaoke=karaoke)
    return presets.override(options, "edl", start_tc=start_tc, timecode=timecode)


def apply(command: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        command = option(command)
    return command


def preset_option() -> Callable[..., Any]:
    return click.option("--preset", default="default", show_default=True,
                        help=f"Shipped preset ({', '.join(presets.shipped())}; `mediatagger presets` lists them) "
                             "or a YAML file.")


EXPORT_OPTION = click.option("--export", "exports", callback=bad_parameter(check_exports),
                             help=f"Comma list of: {', '.join(api.formats())} [default: the preset's exports; "
                                  "json is always written].")
SUBTITLE_OPTIONS = [
    click.option("--rich-text", type=click.Choice(RICH_FORMS), help="How subtitles and the JSON show "
                 "SenseVoice's tags: plain, raw <|HAPPY|>, labels [Happy], emoji, html [default: plain]"),
    click.option("--label-lang", type=click.Choice(["en", "zh"]), help="Language of labels: [Laughter] / [笑声]."),
    click.option("--karaoke/--no-karaoke", default=None, help="ASS: highlight each word as it is spoken.")]
MARKER_OPTIONS = [
    click.option("--start-tc", callback=bad_parameter(presets.check_start_tc), help="Record timecode of the first "
                 "frame in marker exports: HH:MM:SS:FF, or 'source' for the file's own [default: 01:00:00:00]"),
    click.option("--timecode", type=click.Choice(TIMECODE_MODES), help="29.97/59.94 marker timecode: df (drop-frame), "
                 "ndf, or auto: the source's own, else ndf like a new Resolve timeline [default: auto]")]
RUN_OPTIONS = [
    click.option("--force", is_flag=True, help="Overwrite outputs that would change."),
    click.option("-q", "--quiet", is_flag=True, help="No progress bars (shown only on a terminal) and no list of "
                 "written files."),
    click.option("--debug", is_flag=True, help="Show funasr's logs and full tracebacks.")]


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags that shape exports (``tag`` and ``export``); see ``with_output_flags``."""
    return apply(command, SUBTITLE_OPTIONS + MARKER_OPTIONS)


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return apply(command, RUN_OPTIONS)


class Bars:
    """The progress callback of the CLI: a tqdm bar with ETA per stage on stderr, only on a terminal and
    never with --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet or not sys.stderr.isatty()
        self.bar: Any = None
        self.stage = ""

    def __call__(self, event: Progress) -> None:
        if self.quiet or event.total <= 0:  # an empty stage (no gaps to scan) shows no bar
            return
        if event.stage != self.stage:
            self.close()
            self.open(event)
        self.bar.n = event.done
        self.bar.refresh()

    def open(self, event: Progress) -> None:
        from tqdm import tqdm

        self.stage = event.stage
        self.bar = tqdm(total=event.total, desc=event.stage, unit=event.unit, file=sys.stderr, dynamic_ncols=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f}{unit} "
                                   "[{elapsed}<{remaining}]")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar, self.stage = None, ""


def report(written: list[Written], quiet: bool) -> None:
    """Paths written on stdout; on stderr, outputs left as they were (they would come out the same),
    files written over that an earlier, different job made, and that job's files deleted."""
    if quiet:
        return
    for item in written:
        if item.kept or item.removed:
            click.echo(f"{'unchanged' if item.kept else 'removed'}: {item.path}", err=True)
            continue
        if item.replaced:
            click.echo(f"replaced: {item.path}", err=True)
        click.echo(str(item.path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediatagger")
def cli() -> None:
    """Find laughter, applause, music and emotions in media; export subtitles, markers and clips."""


MODEL_OPTIONS = [
    click.option("--model", envvar="MEDIATAGGER_MODEL", help="Hub id (iic/SenseVoiceSmall) or a local "
                 "SenseVoiceSmall folder [env MEDIATAGGER_MODEL; default: the preset's]"),
    click.option("--vad", help="fsmn, silero, none, or a local fsmn-vad folder [default: the preset's]"),
    click.option("--track", default="all", show_default=True, callback=bad_parameter(check_track),
                 help="Audio tracks to analyse: all of them, or one, counted from 0 among audio streams."),
    click.option("--detector", type=click.Choice(presets.choices("events", "detector")), envvar="MEDIATAGGER_DETECTOR",
                 help="What finds events: sensevoice, audioset (YAMNet, offline: events only, no SenseVoice "
                 "model) or fused (both) [env MEDIATAGGER_DETECTOR; default: the preset's]"),
    click.option("--audioset-label", "audioset_labels", multiple=True, metavar="CLASS",
                 help="An AudioSet class found as a label of its own, e.g. Dog or 'Gunshot, gunfire' (repeatable).")]


@cli.command()
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
@run_options
@reports_errors
def tag(inputs: tuple[Path, ...], out_dir: Path, preset: str, model: str | None, vad: str | None,
        track: int | str, language: str | None, itn: bool | None, exports: list[str] | None,
        rich_text: str | None, label_lang: str | None, karaoke: bool | None, start_tc: str | None,
        timecode: str | None, device: str | None, precision: str | None, threads: int | None, recursive: bool,
        detector: str | None, audioset_labels: tuple[str, ...], retry_failed: bool, busy_wait: float, jobs: int,
        ray_address: str | None, force: bool, quiet: bool,
        debug: bool) -> int:
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
    result = batch.tag_folder(inputs, out_dir, tagger, recursive=recursive, exports=exports, track=track,
                              force=force, retry_failed=retry_failed, jobs=jobs, ray=ray_address,
                              busy_wait=busy_wait, progress=BatchShown(quiet), flags=FLAGS, debug=debug)
    if result.journal is not None:
        click.echo(f"mediatagger: {result.line()}", err=True)
    return result.exit_code


def warn(text: str) -> None:
    click.echo(f"mediatagger: warning: {text}", err=True)


class BatchShown(batch.Listener):
    """What ``tag`` shows of a batch (``batch.Listener``): one bar over the whole batch by media duration,
    with ETA and the file and stage at work as its text (one file alone: a bar per stage); the files
    passed over, a line each (those that are not media counted in one line); each input's turn; the
    files written, once no bar is drawn."""

    def __init__(self, quiet: bool):
        self.quiet, self.bars = quiet, Bars(quiet)
        self.not_media: dict[str, int] = {}
        self.total_s, self.done_s, self.name, self.batch = 0.0, 0.0, "", False

    def warn(self, text: str) -> None:
        warn(text)

    def passed(self, path: Path, why: str) -> None:
        if why == "not media":
            suffix = path.suffix.lower() or "(no extension)"
            self.not_media[suffix] = self.not_media.get(suffix, 0) + 1
        elif not self.quiet:
            click.echo(f"mediatagger: skipped {path}: {why}", err=True)

    def found(self, items: list[Any]) -> None:
        if self.not_media and not self.quiet:
            counts = ", ".join(f"{n} {suffix}" for suffix, n in sorted(self.not_media.items()))
            click.echo(f"mediatagger: skipped {sum(self.not_media.values())} files that are not media ({counts})",
                       err=True)

    def told(self, line: str, news: bool = False) -> None:
        if not (news and self.quiet):
            click.echo(f"mediatagger: {line}", err=True)

    def start(self, total_s: float) -> None:
        self.batch, self.total_s, self.done_s = True, total_s, 0.0

    def begin(self, name: str) -> None:
        self.name = name
        if not self.bars.quiet and self.bars.bar is None:
            self.bars.open(Progress("batch", 0, self.total_s, "s"))
        self.describe("")

    def stage(self, event: Progress) -> None:
        if self.batch:
            self.describe(event.stage)
        else:
            self.bars(event)

    def describe(self, stage: str) -> None:
        if self.bars.bar is not None:
            self.bars.bar.set_description_str(f"batch ({self.name}{': ' + stage if stage else ''})", refresh=True)

    def end(self, media_s: float) -> None:
        self.done_s += media_s
        if self.bars.bar is not None:
            self.bars.bar.n = self.done_s
            self.bars.bar.refresh()

    def stop(self) -> None:
        self.bars.close()
        self.batch = False

    def wrote(self, written: list[Written]) -> None:
        report(written, self.quiet or self.batch and not self.bars.quiet)


@cli.command("export")
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


TIMELINE_SUFFIXES = tuple(TIMELINE_FORMATS)
TIMELINE_OPTIONS = [
    click.option("--media-root", type=click.Path(path_type=Path, file_okay=False),
                 help="Timeline input: folder to find media its paths miss (moved media), searched by file name."),
    click.option("--fps", help="Timeline input: frame rate of an EDL (EDLs name none) [default: its first media's].")]


def check_timeline_outputs(value: str) -> list[str]:
    return api.timeline_formats(value, "")


@cli.command("timeline")
@click.argument("cut_path", metavar="CUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Folder for the tagged timeline (CUT.tagged.EXT) and each media file's analysis.")
@click.option("--to", "formats", callback=bad_parameter(check_timeline_outputs),
              help=f"Comma list of: {', '.join(api.TIMELINE_OUTPUTS)} [default: CUT's own format].")
@preset_option()
@functools.partial(apply, options=MODEL_OPTIONS + TIMELINE_OPTIONS)
@output_options
@run_options
@reports_errors
def timeline_command(cut_path: Path, out_dir: Path, formats: list[str] | None, preset: str, model: str | None,
                     vad: str | None, track: int | str, detector: str | None, audioset_labels: tuple[str, ...],
                     media_root: Path | None, fps: str | None,
                     rich_text: str | None, label_lang: str | None, karaoke: bool | None, start_tc: str | None,
                     timecode: str | None, force: bool, quiet: bool, debug: bool) -> int:
    """Tag an editor's cut: read CUT (FCPXML, FCP7 XML, EDL, OTIO, Kdenlive), tag each media file it
    uses once, and write the cut back with markers: on each clip where its spans are on screen, or
    for the single-file marker formats (edl, edl-loc, csv, ass, srt, vtt) in the cut's record time."""
    options = with_output_flags(presets.load(preset), rich_text, label_lang, karaoke, start_tc or "source", timecode)
    tagger = api.Tagger(options, model=model, vad=vad, detector=detector, audioset_labels=audioset_labels or None,
                        verbose=debug)
    bars = Bars(quiet)
    try:
        written = tagger.tag_timeline(cut_path, out_dir, formats, media_root, fps, force, bars, tracks=track,
                                      warn=lambda text: click.echo(f"mediatagger: warning: {text}", err=True))
    finally:
        bars.close()
    report(written, quiet)
    return 0


@cli.command()
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--subs", type=click.Path(path_type=Path), help="Subtitles to burn (ASS, SRT, VTT).")
@click.option("--analysis", "analysis_path", metavar="ANALYSIS.json", type=click.Path(path_type=Path),
              help="Burn the styled ASS made from this analysis (with --preset and the flags below).")
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="The video to write (.mp4, .m4v, .mov or .mkv).")
@preset_option()
@click.option("--fontsdir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of font files for the subtitles [default: the bundled DejaVu Sans].")
@functools.partial(apply, options=SUBTITLE_OPTIONS)
@run_options
@reports_errors
def burn(source: Path, subs: Path | None, analysis_path: Path | None, out: Path, preset: str, fontsdir: Path | None,
         rich_text: str | None, label_lang: str | None, karaoke: bool | None, force: bool, quiet: bool,
         debug: bool) -> int:
    """Burn subtitles into INPUT: a subtitle file, or the styled ASS of an analysis. Audio is copied."""
    if (subs is None) == (analysis_path is None):
        raise UsageError("give exactly one of --subs FILE or --analysis ANALYSIS.json")
    options = with_output_flags(presets.load(preset), rich_text, label_lang, karaoke)
    result = api.load(analysis_path, options) if analysis_path is not None else None
    bars = Bars(quiet)
    try:
        written = api.burned(source, out, subs=subs, result=result, preset=options, fontsdir=fontsdir, force=force,
                             progress=bars)
    finally:
        bars.close()
    report([written], quiet)
    return 0


@cli.command()
@click.argument("source", metavar="INPUT|ANALYSIS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path),
              help="Folder for the reel, its clips and plan [default: . for media, the analysis's folder].")
@preset_option()
@click.option("--labels", callback=bad_parameter(check_labels), help="Event labels to cut for [default: "
              "LAUGHTER,APPLAUSE].")
@click.option("--min-score", type=click.FloatRange(0, 1), help="Leave out spans scored below this.")
@click.option("--target", callback=bad_parameter(parse_duration), help="Keep the best clips up to this much "
              "footage (60s, 1m30s).")
@click.option("--order", type=click.Choice(presets.choices("clips", "order")), help="Reel order [default: time].")
@click.option("--cut", type=click.Choice(presets.choices("clips", "cut")), help="accurate: frame-exact re-encode "
              "[default]; fast: stream copy from keyframe to keyframe.")
@click.option("--crossfade", callback=bad_parameter(parse_duration), help="Transition length (0 for hard cuts) "
              "[default: 0.5s].")
@click.option("--burn", "burn_in", type=click.Choice(presets.choices("clips", "burn")), help="Burn event badges, or "
              "all the styled subtitles, into the clips [default: none].")
@functools.partial(apply, options=MODEL_OPTIONS + TIMELINE_OPTIONS)
@run_options
@reports_errors
def reel(source: Path, out_dir: Path | None, preset: str, labels: tuple[str, ...] | None, min_score: float | None,
         target: int | None, order: str | None, cut: str | None, crossfade: int | None, burn_in: str | None,
         model: str | None, vad: str | None, track: int | str, detector: str | None, audioset_labels: tuple[str, ...],
         media_root: Path | None, fps: str | None, force: bool, quiet: bool, debug: bool) -> int:
    """Cut a highlight reel: clips around the chosen events, joined into OUT/<stem>.reel.mp4.

    INPUT may be an editor's cut (FCPXML, FCP7 XML, EDL, OTIO, Kdenlive): the reel is then cut from
    the cut's record time, what its audience sees (its first video track, rendered)."""
    options = presets.override(presets.load(preset), "clips", labels=labels, min_score=min_score,
                               target_ms=target, order=order, cut=cut, crossfade_ms=crossfade, burn=burn_in)
    bars = Bars(quiet)
    if source.suffix.lower() == ".json":
        written = export_analysis(source, out_dir, ["reel"], options, force, bars)
    elif source.suffix.lower() in TIMELINE_SUFFIXES:
        tagger = api.Tagger(options, model=model, vad=vad, detector=detector,
                            audioset_labels=audioset_labels or None, verbose=debug)
        try:
            written = tagger.reel_timeline(source, out_dir or Path("."), media_root, fps, force, bars, track,
                                           warn=lambda text: click.echo(f"mediatagger: warning: {text}", err=True))
        finally:
            bars.close()
    else:
        tagger = api.Tagger(options, model=model, vad=vad, detector=detector,
                            audioset_labels=audioset_labels or None, verbose=debug)
        try:
            written = tagger.run(source, out_dir or Path("."), ["reel"], track, force, bars)
        finally:
            bars.close()
    report(written, quiet)
    return 0


@cli.group("presets", invoke_without_command=True)
@click.pass_context
def presets_command(ctx: click.Context) -> None:
    """List the shipped presets (one line each); `presets show NAME|FILE` prints one in full."""
    if ctx.invoked_subcommand is None:
        shipped = presets.shipped()
        width = max(map(len, shipped))
        for name, description in shipped.items():
            click.echo(f"{name:<{width}}  {description}")


@presets_command.command("show")
@click.argument("name", default="default")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@reports_errors
def presets_show(name: str, debug: bool) -> int:
    """Print a preset with every setting and what it does: a start for a preset of your own."""
    click.echo(presets.to_yaml(presets.load(name)), nl=False)
    return 0


def parse_auth(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    user, colon, password = text.partition(":")
    if not colon or not user or not password:
        raise UsageError(f"--auth {text!r}: give USER:PASS")
    return user, password


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves the network (use --auth then).")
@click.option("--port", type=click.IntRange(1, 65535), default=6006, show_default=True)
@preset_option()
@click.option("--model", envvar="MEDIATAGGER_MODEL", help="Hub id (iic/SenseVoiceSmall) or a local "
              "SenseVoiceSmall folder [env MEDIATAGGER_MODEL; default: the preset's]")
@click.option("--vad", help="fsmn, silero, none, or a local fsmn-vad folder [default: the preset's]")
@click.option("--device", help="cpu, cuda or cuda:N [default: cpu]")
@click.option("--precision", type=click.Choice(presets.choices("model", "precision")),
              help="fp32, int8 or auto [default: auto]")
@click.option("--threads", type=click.IntRange(0, 1024), help="CPU threads for inference [default: every core]")
@click.option("--detector", type=click.Choice(presets.choices("events", "detector")), envvar="MEDIATAGGER_DETECTOR",
              help="The detector visitors start with [env MEDIATAGGER_DETECTOR; default: the preset's]")
@click.option("--auth", metavar="USER:PASS", envvar="MEDIATAGGER_AUTH",
              help="Ask visitors for this user and password [env MEDIATAGGER_AUTH].")
@click.option("--max-upload", default="4GB", show_default=True, help="Largest upload, e.g. 500MB or 4GB.")
@click.option("--ui-lang", type=click.Choice(["en", "zh"]), help="The page's language [default: the browser's].")
@click.option("--debug", is_flag=True, help="Show funasr's logs and full tracebacks.")
@reports_errors
def serve(host: str, port: int, preset: str, model: str | None, vad: str | None, device: str | None,
          precision: str | None, threads: int | None, detector: str | None, auth: str | None, max_upload: str,
          ui_lang: str | None, debug: bool) -> int:
    """The web console: upload footage, see where the laughs are, take the markers and the reel home."""
    from mediatagger import web

    options = web.ServeOptions(host, port, parse_auth(auth), max_upload.lower(), ui_lang, debug_hint="--debug")
    web.gradio()
    tagger = api.Tagger(preset, model=model, vad=vad, device=device, precision=precision, threads=threads,
                        detector=detector, verbose=debug)
    if host not in ("127.0.0.1", "localhost", "::1") and options.auth is None:
        click.echo(f"mediatagger: warning: serving {host} without --auth: anyone who can reach port {port} "
                   "can use this console and this machine's CPU", err=True)
    click.echo(f"mediatagger: console on http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port} "
               "(the model loads in the background; Ctrl-C stops)", err=True)
    web.start(tagger, options)
    return 0


def main() -> None:
    cli(prog_name="mediatagger")
