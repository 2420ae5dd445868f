"""What every command shares: how errors become one line and an exit code, the flags and their checks."""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from mediatagger import api, files, presets, tags
from mediatagger.cut import FORMATS as TIMELINE_FORMATS
from mediatagger.errors import MediaTaggerError, Terminated, UsageError
from mediatagger.tags import EVENTS, RICH_FORMS
from mediatagger.timecode import TIMECODE_MODES, parse_int

# how the command line spells the options that error hints name


FLAGS = {"force": "--force", "model_dir": "--model DIR", "device_cpu": "--device cpu", "vad_dir": "--vad DIR",
         "vad_silero": "--vad silero", "cut_accurate": "--cut accurate on reel, clips.cut: accurate in a preset",
         "fontsdir": "--fontsdir DIR", "media_root": "--media-root DIR",
         "detector_audioset": "--detector audioset", "detector_sensevoice": "--detector sensevoice",
         "retry_failed": "--retry-failed", "recursive": "--recursive"}


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


TIMELINE_SUFFIXES = tuple(TIMELINE_FORMATS)
TIMELINE_OPTIONS = [
    click.option("--media-root", type=click.Path(path_type=Path, file_okay=False),
                 help="Timeline input: folder to find media its paths miss (moved media), searched by file name."),
    click.option("--fps", help="Timeline input: frame rate of an EDL (EDLs name none) [default: its first media's].")]


def check_timeline_outputs(value: str) -> list[str]:
    return api.timeline_formats(value, "")
