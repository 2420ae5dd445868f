"""The public Python API, shared by the command line, the web console, the batch runner and scripts.

    tagger = Tagger(preset="default", model="samples/model", vad="silero")   # models load on first use
    result = tagger.tag("talk.mp4", tracks="all")                              # -> Analysis
    paths = export(result, "out", formats=["edl", "fcpxml", "ass"])           # -> [Written]
    again = load("out/talk.analysis.json")

Outputs never lie: an output that would come out the same is kept as it is; one that would come
out different is refused (``OutputExistsError``) unless ``force``; nothing is written until every
text output has been made in memory; one run at a time writes a stem's outputs (``OutputLock``).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mediatagger import analysis as document
from mediatagger import clips, files, media, pipeline, presets
from mediatagger.analysis import Analysis
from mediatagger.cut import OUTPUTS as TIMELINE_OUTPUTS
from mediatagger.errors import MediaError, MediaTaggerError, OutputExistsError, UnknownChoiceError, UsageError
from mediatagger.exporters import EXPORTERS, get_exporter
from mediatagger.files import OutputLock, Written
from mediatagger.head import AudioTagger, EventDetector, Models, SpeechDetector, load_audioset, load_tagger
from mediatagger.outputs import check_changes, choose, output_names, refuse_existing, with_json, write, write_texts
from mediatagger.presets import Preset
from mediatagger.progress import Callback, Stage, ignore
from mediatagger.timecode import parse_rate

Tracks = int | str | Sequence[int]
formats = output_names   # every output name: the text formats, then clips and reel


def preset_of(preset: str | Preset) -> Preset:
    """A shipped preset's name, a YAML file's path, or a Preset as it is."""
    return presets.load(preset) if isinstance(preset, str) else preset


class Loaded:
    """A Tagger's models once loaded, the lock that loads them once, and the lock that lets one analysis
    at a time use them (the VAD and SenseVoice keep state: two threads in one model crash it, as a web
    job cancelled while its thread still runs would otherwise do); its variants share them."""

    def __init__(self) -> None:
        self.models: dict[str, Models] = {}   # detector -> what it uses
        self.sensevoice: AudioTagger | None = None
        self.vad: SpeechDetector | None = None
        self.audioset: EventDetector | None = None
        self.lock = threading.Lock()
        self.inference = threading.RLock()


class Tagger:
    """Finds events, emotions and speech in media with SenseVoice and a VAD.

    ``preset`` is a shipped preset's name, a YAML file or a ``Preset``; ``model``, ``vad``,
    ``language``, ``itn``, ``device``, ``precision`` (fp32, int8, auto) and ``threads`` override its
    ``model:`` section; ``detector`` (sensevoice, audioset, fused; else env MEDIATAGGER_DETECTOR, else
    the preset's) and ``audioset_labels`` (AudioSet class names) its ``events:`` section. The models load
    on the first ``tag`` (not here), once, and every later call (from any thread) shares them.
    """

    def __init__(self, preset: str | Preset = "default", *, model: str | None = None, vad: str | None = None,
                 language: str | None = None, itn: bool | None = None, device: str | None = None,
                 precision: str | None = None, threads: int | None = None, detector: str | None = None,
                 audioset_labels: Sequence[str] | None = None, verbose: bool = False):
        from mediatagger.vad import check_kind

        chosen = presets.override(preset_of(preset), "model", name=model, vad=vad, language=language,
                                  itn=itn, device=device, precision=precision, threads=threads)
        self.preset = presets.override(chosen, "events", detector=detector or os.environ.get("MEDIATAGGER_DETECTOR"),
                                       audioset_labels=None if audioset_labels is None else tuple(audioset_labels))
        check_kind(self.preset.model.vad)
        self.verbose = verbose
        self._shared = Loaded()

    def variant(self, preset: str | Preset | None = None, *, language: str | None = None,
                itn: bool | None = None, detector: str | None = None,
                audioset_labels: Sequence[str] | None = None) -> Tagger:
        """A Tagger with another preset, language or ITN that shares this one's models (loaded or
        not): one copy of SenseVoice serves every visitor of the web console, whatever they pick.
        The model itself (name, VAD and its loading options, device, precision, threads) stays this one's,
        and so does the detector unless ``detector`` names another."""
        base = preset_of(preset) if preset is not None else self.preset
        options = replace(base, model=replace(self.preset.model, language=base.model.language, itn=base.model.itn),
                          events=replace(base.events, detector=self.preset.events.detector,
                                         audioset_model=self.preset.events.audioset_model))
        other = Tagger.__new__(Tagger)
        other.preset = presets.override(presets.override(options, "model", language=language, itn=itn), "events",
                                        detector=detector, audioset_labels=None if audioset_labels is None
                                        else tuple(audioset_labels))
        other.verbose, other._shared = self.verbose, self._shared
        return other

    @property
    def inference(self) -> threading.RLock:
        """The lock one analysis at a time holds while it uses the models (shared with the variants)."""
        return self._shared.inference

    @property
    def loaded(self) -> bool:
        return self.preset.events.detector in self._shared.models

    def models(self, progress: Callback = ignore) -> Models:
        """What the detector needs -- SenseVoice and the VAD, the AudioSet detector, or all three --
        each loaded on the first call that needs it (reported as the stage ``load models``); variants
        share them."""
        shared, events = self._shared, self.preset.events
        with shared.lock:
            if events.detector not in shared.models:
                opts = self.preset.model
                stage = Stage(progress, "load models", 2)
                if events.uses_sensevoice() and shared.sensevoice is None:  # first: the one that can fail offline
                    from mediatagger import vad

                    sensevoice = load_tagger(opts.name, opts.device, self.verbose, opts.effective_precision(),
                                             opts.threads)
                    shared.vad = vad.load(opts.vad, self.preset.vad, opts.device, self.verbose, opts.threads)
                    shared.sensevoice = sensevoice
                stage.update(1)
                if events.uses_audioset() and shared.audioset is None:
                    shared.audioset = load_audioset(events.audioset_model, self.verbose)
                shared.models[events.detector] = Models(
                    *((shared.sensevoice, shared.vad) if events.uses_sensevoice() else (None, None)),
                    shared.audioset if events.uses_audioset() else None)
                stage.finish()
        return shared.models[events.detector]

    def tag(self, path: Path | str, tracks: Tracks = "all", progress: Callback = ignore) -> Analysis:
        """Analyse audio ``tracks`` of ``path`` (a track number from 0, a list of them, or ``"all"``)."""
        info = media.probe(path)
        chosen = select_tracks(info, tracks)
        key = pipeline.cache_key(path, self.preset, chosen)
        with self.inference:
            return pipeline.analyse(info, chosen, self.preset, lambda: self.models(progress), progress, key)

    def run(self, path: Path | str, out_dir: Path | str = ".", formats: Iterable[str] | str | None = None,
            tracks: Tracks = "all", force: bool = False, progress: Callback = ignore) -> list[Written]:
        """What ``mediatagger tag`` does for one input: reuse the analysis in ``out_dir`` if it was made
        from the same bytes and settings (else analyse), then write the outputs (the JSON always)."""
        return self._run(Path(path), Path(out_dir), formats, tracks, force, progress)

    def run_all(self, paths: Iterable[Path | str], out_dir: Path | str | Sequence[Path | str] = ".",
                formats: Iterable[str] | str | None = None, tracks: Tracks = "all", force: bool = False,
                progress: Callback = ignore) -> Iterator[tuple[Path, list[Written] | MediaTaggerError]]:
        """``run`` for each of ``paths`` in turn, yielding each path with its written files or its
        error. ``out_dir`` is one folder for all, or a list with each path's own."""
        inputs = [Path(p) for p in paths]
        outs = [Path(out_dir)] * len(inputs) if isinstance(out_dir, (str, Path)) else [Path(o) for o in out_dir]
        for path, out in zip(inputs, outs):
            try:
                yield path, self._run(path, out, formats, tracks, force, progress)
            except MediaTaggerError as exc:
                yield path, exc

    def tag_timeline(self, cut_path: Path | str, out_dir: Path | str = ".", formats: Iterable[str] | str | None = None,
                     media_root: Path | str | None = None, fps: str | None = None, force: bool = False,
                     progress: Callback = ignore, tracks: Tracks = "all",
                     warn: Callable[[str], None] | None = None) -> list[Written]:
        """What ``mediatagger timeline`` does: read an editor's cut (FCPXML, FCP7 XML, EDL, OTIO,
        Kdenlive), tag each of its media files once (into ``out_dir``, reusing analyses there), and
        write the cut back with markers as ``OUT/<cut>.tagged.<ext>``: in its own format by default, or
        ``formats`` (``cut.OUTPUTS``). Each clip left out (a speed change) is told to ``warn``."""
        from mediatagger import cut as cuts

        path, out = Path(cut_path), Path(out_dir)
        if formats is not None:
            timeline_formats(formats, "")   # a wrong format is refused before anything is tagged
        timeline, analyses = self._tagged_cut(path, out, media_root, fps, progress, tracks, warn)
        names = timeline_formats(formats, timeline.kind)
        texts = {cuts.output_path(timeline, out, n): files.as_text(cuts.render(timeline, analyses, n, self.preset))
                 for n in names}
        if any(p.resolve() == path.resolve() for p in texts):
            raise UsageError(f"{path}: the output would overwrite the timeline read")
        check_changes(texts, force)
        return write_texts(texts)

    def _tagged_cut(self, path: Path, out: Path, media_root: Path | str | None, fps: str | None, progress: Callback,
                    tracks: Tracks, warn: Callable[[str], None] | None) -> tuple[Any, dict[Path, Analysis]]:
        """An editor's cut read, each of its media files tagged once into ``out``, its warnings told."""
        from mediatagger import cut as cuts

        timeline = cuts.read(path, media_root, parse_rate(fps) if fps else None)
        analyses = cuts.tag(timeline, lambda paths, outs: self.run_all(paths, outs, ["json"], tracks,
                                                                       progress=progress), out)
        if warn is not None:
            for warning in timeline.warnings:
                warn(warning)
        return timeline, analyses

    def reel_timeline(self, cut_path: Path | str, out_dir: Path | str = ".", media_root: Path | str | None = None,
                      fps: str | None = None, force: bool = False, progress: Callback = ignore, tracks: Tracks = "all",
                      warn: Callable[[str], None] | None = None) -> list[Written]:
        """What ``mediatagger reel CUT`` does: the highlight reel of an editor's cut, cut from its record
        time (what the audience of the cut sees: its first video track, conformed to the timeline's
        rate and the first video's size), with the clips and their plan, as ``OUT/<cut>.reel.mp4``."""
        from mediatagger import cut as cuts

        path, out = Path(cut_path), Path(out_dir)
        timeline, analyses = self._tagged_cut(path, out, media_root, fps, progress, tracks, warn)
        record = cuts.on_record(timeline, analyses)
        record = replace(record, source=replace(record.source, path=str(path)))   # outputs named after the cut
        preset = presets.override(self.preset, "clips", cut="accurate")          # a cut is rendered, never copied
        size = (record.source.width or 1920, record.source.height or 1080) if any(p.video for p in timeline.pieces) \
            else None
        if size is None:   # sound only: clips and reel are audio
            record = replace(record, source=replace(record.source, fps=None, video_frames=None))
        with OutputLock(out, record.stem):
            job = clips.Job(record, out, preset, reel=True, render=cuts.cutter(timeline, size))
            job.check(force)
            return job.run(progress)

    def _run(self, path: Path, out_dir: Path, formats: Iterable[str] | str | None, tracks: Tracks, force: bool,
             progress: Callback) -> list[Written]:
        info = media.probe(path)
        chosen = select_tracks(info, tracks)
        names = with_json(choose(formats, self.preset))
        with OutputLock(out_dir, files.output_stem(path)):
            key = input_key(path, self.preset, chosen)
            previous = pipeline.reusable(out_dir / f"{files.output_stem(path)}.analysis.json", key)
            if previous is not None:  # analyse once: with force too, which only lets changed outputs be replaced
                result = document.rederive(previous, self.preset.spans)
            else:
                if not force:
                    refuse_existing(names, out_dir, files.output_stem(path))
                with self.inference:
                    result = pipeline.analyse(info, chosen, self.preset, lambda: self.models(progress), progress,
                                              key)
                check_unchanged(path, key, self.preset, chosen)
            return write(result, out_dir, names, self.preset, force, progress)


def input_key(path: Path, preset: Preset, tracks: list[int]) -> str:
    """``pipeline.cache_key``, an input that cannot be read (gone since it was probed) a ``MediaError``."""
    try:
        return pipeline.cache_key(path, preset, tracks)
    except OSError as exc:
        raise MediaError(path, f"cannot be read: {exc.strerror or exc}") from None


def check_unchanged(path: Path, key: str, preset: Preset, tracks: list[int]) -> None:
    """Before an analysis is written: its input is still the one it was made from (its content key
    again), not changed or gone while it was tagged."""
    try:
        now = pipeline.cache_key(path, preset, tracks)
    except OSError:
        raise MediaError(path, "disappeared while it was being tagged; nothing was written") from None
    if now != key:
        raise MediaError(path, "changed while it was being tagged; nothing was written", hint="tag it again")


def timeline_formats(names: Iterable[str] | str | None, kind: str) -> list[str]:
    """The outputs of a timeline run: ``names`` checked (a list, or ``"fcpxml,edl"``), else the input's own format."""
    chosen = [kind] if names is None else [n.strip() for n in (names.split(",") if isinstance(names, str) else names)
                                           if n.strip()]
    for name in chosen:
        if name not in TIMELINE_OUTPUTS:
            raise UnknownChoiceError("timeline output", name, TIMELINE_OUTPUTS)
    if not chosen:
        raise UsageError("no output format chosen")
    return list(dict.fromkeys(chosen))


def select_tracks(info: media.MediaInfo, tracks: Tracks) -> list[int]:
    if isinstance(tracks, (int, str)):
        return media.select_tracks(info, tracks)
    return sorted({i for track in tracks for i in media.select_tracks(info, track)})


def export(result: Analysis, out_dir: Path | str, formats: Iterable[str] | str | None = None,
           preset: str | Preset = "default", *, force: bool = False, progress: Callback = ignore) -> list[Written]:
    """Write ``formats`` of ``result`` into ``out_dir`` (None: the preset's ``exports``), named after
    its source (``talk.edl``, ``clips/talk_01_laughter.mp4``); ``clips`` and ``reel`` cut media."""
    options = preset_of(preset)
    out_dir = Path(out_dir)
    with OutputLock(out_dir, result.stem):
        return write(result, out_dir, choose(formats, options), options, force, progress)


def reexport(analysis_path: Path | str, out_dir: Path | str | None = None,
             formats: Iterable[str] | str | None = None, preset: str | Preset = "default", *,
             force: bool = False, progress: Callback = ignore) -> list[Written]:
    """What ``mediatagger export`` does: the outputs of a stored analysis, its spans re-derived with
    ``preset``'s thresholds, into ``out_dir`` (default: the analysis's folder), with the JSON unless
    that would overwrite the analysis read."""
    options, analysis_path = preset_of(preset), Path(analysis_path)
    doc = load(analysis_path, options)
    out_dir = Path(out_dir) if out_dir is not None else analysis_path.parent
    names = choose(formats, options)
    if EXPORTERS["json"].path(out_dir, doc.stem).resolve() != analysis_path.resolve():
        names = with_json(names)
    return export(doc, out_dir, names, options, force=force, progress=progress)


def to_string(result: Analysis, format: str, preset: str | Preset = "default") -> str:
    """One text format of ``result`` (``ass``, ``srt``, ``edl``, ``fcpxml``, ...) as a string."""
    return get_exporter(format).to_string(result, preset_of(preset))


def rich_text(result: Analysis, form: str = "labels", lang: str = "en") -> str:
    """The transcript with its tags, a line per speech segment in time order, in the form subtitles
    use (``labels``: ``[Happy] hello [Laughter]``, ``raw``, ``emoji``, ``html``, ``plain``) and the
    label language (``en``, ``zh``)."""
    from mediatagger.exporters.cues import segment_text

    opts = presets.override(presets.load(), "text", source="rich_text", rich=form, label_lang=lang).text
    return "\n".join(segment_text(segment, opts) for _, segment in result.segments())


def load(path: Path | str, preset: str | Preset | None = None) -> Analysis:
    """Read an analysis document; with ``preset``, its spans re-derived from the stored curves with
    that preset's thresholds (no model needed)."""
    doc = document.load(path)
    return doc if preset is None else document.rederive(doc, preset_of(preset).spans)


def burn(source: Path | str, out: Path | str, *, subs: Path | str | None = None, result: Analysis | None = None,
         preset: str | Preset = "default", fontsdir: Path | str | None = None, force: bool = False,
         progress: Callback = ignore) -> Path:
    """Burn subtitles into ``source``: a subtitle file (``subs``), or the styled ASS of ``result``. An
    output burned before from the same source, subtitles and settings is kept as it is."""
    return burned(source, out, subs=subs, result=result, preset=preset, fontsdir=fontsdir, force=force,
                  progress=progress).path


def burned(source: Path | str, out: Path | str, *, subs: Path | str | None = None, result: Analysis | None = None,
           preset: str | Preset = "default", fontsdir: Path | str | None = None, force: bool = False,
           progress: Callback = ignore) -> Written:
    """``burn``, saying whether the output was written or kept."""
    from mediatagger import burnin

    if (subs is None) == (result is None):
        raise UsageError("give exactly one of a subtitle file or an analysis to burn")
    options, out, fonts = preset_of(preset), Path(out), Path(fontsdir) if fontsdir else None
    clip = options.clips
    with OutputLock(out.parent, out.name), tempfile.TemporaryDirectory(prefix="mediatagger-") as tmp:
        if result is not None:
            subs = files.write_text(Path(tmp) / f"{result.stem}.ass", to_string(result, "ass", options))
        assert subs is not None
        burnin.check(Path(source), Path(subs), out)
        stamp = burnin.recipe(Path(source), Path(subs), clip.crf, clip.x264_preset, clip.audio_bitrate, fonts)
        if out.exists() and not force:
            if burnin.stamp_of(out) == stamp:
                return Written(out, kept=True)
            raise OutputExistsError(out, "already exists and would change")
        existed = out.exists()
        burnin.burn(Path(source), Path(subs), out, clip.crf, clip.x264_preset, clip.audio_bitrate, fonts, progress,
                    stamp)
        return Written(out, replaced=existed)

