"""``timeline`` (an editor's cut tagged in record time), ``burn`` and ``reel``."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from mediatagger import api, presets

# how the command line spells the options that error hints name
from mediatagger.cli.common import (
    MODEL_OPTIONS,
    SUBTITLE_OPTIONS,
    TIMELINE_OPTIONS,
    TIMELINE_SUFFIXES,
    apply,
    bad_parameter,
    check_labels,
    check_timeline_outputs,
    output_options,
    preset_option,
    reports_errors,
    run_options,
    with_output_flags,
)
from mediatagger.cli.shown import Bars, report
from mediatagger.cli.tagging import export_analysis
from mediatagger.errors import UsageError
from mediatagger.timecode import parse_duration


@click.command("timeline")
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


@click.command()
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


@click.command()
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
@click.option("--rank", type=click.Choice(presets.choices("clips", "rank")), help="How clips are scored: length "
              "(every span's score x seconds) [default], laughs (laughter alone), reaction (laughs, applause after, "
              "swing of feeling); clips.json says why.")
@click.option("--aspect", type=click.Choice(presets.choices("reel", "aspect")), help="The clips' frame: the source's "
              "[default], or a 9:16, 1:1 or 4:5 crop that follows the speaker's face (pip install "
              "'mediatagger[vertical]').")
@click.option("--platform", help="With a crop, burned text keeps inside this platform's safe zone: shorts "
              "[default], reels, tiktok, or one the preset's reel.safe_zones adds.")
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
         target: int | None, order: str | None, rank: str | None, aspect: str | None, platform: str | None,
         cut: str | None, crossfade: int | None,
         burn_in: str | None,
         model: str | None, vad: str | None, track: int | str, detector: str | None, audioset_labels: tuple[str, ...],
         media_root: Path | None, fps: str | None, force: bool, quiet: bool, debug: bool) -> int:
    """Cut a highlight reel: clips around the chosen events, joined into OUT/<stem>.reel.mp4.

    INPUT may be an editor's cut (FCPXML, FCP7 XML, EDL, OTIO, Kdenlive): the reel is then cut from
    the cut's record time, what its audience sees (its first video track, rendered)."""
    options = presets.override(presets.load(preset), "clips", labels=labels, min_score=min_score,
                               target_ms=target, order=order, rank=rank, cut=cut, crossfade_ms=crossfade,
                               burn=burn_in)
    options = presets.override(options, "reel", aspect=aspect, platform=platform)
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
