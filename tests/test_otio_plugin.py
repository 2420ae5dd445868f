"""mediatagger as an OpenTimelineIO plugin: found through the entry point, used by otioconvert."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest

from mediatagger import api
from mediatagger.exporters import markers
from tests.conftest import TALK
from tests.test_cut import on_screen

pytestmark = pytest.mark.slow


def otioconvert(*args: str | Path) -> subprocess.CompletedProcess:
    exe = shutil.which("otioconvert") or str(Path(sys.executable).with_name("otioconvert"))
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OTIO_PLUGIN_MANIFEST_PATH": ""})


def test_the_plugin_is_in_the_active_manifest():
    manifest = otio.plugins.ActiveManifest(force_reload=True)
    adapter = next(a for a in manifest.adapters if a.name == "mediatagger")
    assert "json" in adapter.suffixes and adapter.has_feature("read_from_file")
    assert "mediatagger" in [linker.name for linker in manifest.media_linkers]


def test_otioconvert_turns_an_analysis_into_any_timeline_format(tagged, tmp_path):
    doc = api.load(tagged["talk"])
    placed = markers.markers(doc)
    out = tmp_path / "talk.xml"
    done = otioconvert("-i", tagged["talk"], "-o", out)
    assert done.returncode == 0, done.stderr
    timeline = otio.adapters.read_from_file(str(out), "fcp_xml")
    (clip,) = [c for c in timeline.find_clips() if c.markers]
    start = clip.source_range.start_time.to_frames()
    assert [(m.name, m.marked_range.start_time.to_frames() - start) for m in clip.markers] == \
        [(m.name, m.frame) for m in placed]
    direct = otio.adapters.read_from_file(str(tagged["talk"]))   # the adapter, by suffix, in process
    assert [m.metadata["mediatagger"]["label"] for m in direct.find_clips()[0].markers] == \
        [m.span.label for m in placed]
    if "fcpx_xml" in [a.name for a in otio.plugins.ActiveManifest().adapters]:
        fcpx = tmp_path / "talk.fcpxml"
        done = otioconvert("-i", tagged["talk"], "-o", fcpx)
        assert done.returncode == 0, done.stderr
        assert all(f'value="{m.name}"' in fcpx.read_text() for m in placed)


def test_the_media_linker_adds_each_clips_markers(tagged, tmp_path):
    rate = 30000 / 1001
    time = lambda frames: otio.opentime.RationalTime(frames, rate)  # noqa: E731
    timeline = otio.schema.Timeline(name="cut")
    track = otio.schema.Track(name="V1")
    timeline.tracks.append(track)
    for name, first, frames in (("late", 300, 200), ("early", 30, 150)):   # reordered and trimmed
        track.append(otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference(
            target_url=TALK.name), source_range=otio.opentime.TimeRange(time(first), time(frames))))
    cut_file = tmp_path / "cut.otio"
    cut_file.write_text(otio.adapters.write_to_string(timeline, "otio_json"))
    out = tmp_path / "linked.otio"
    done = otioconvert("-i", cut_file, "-o", out, "-m", "mediatagger", "-M", f"media_root={TALK.parent}",
                       "-M", f"analyses={tagged['talk'].parent}")
    assert done.returncode == 0, done.stderr
    doc = api.load(tagged["talk"])
    fps = doc.source.fps
    for clip, (first, frames) in zip(otio.adapters.read_from_file(str(out)).find_clips(), ((300, 200), (30, 150))):
        assert clip.media_reference.target_url == TALK.resolve().as_uri()
        want = sorted(max(on_screen(s.start_ms, fps), first) for kind in ("events", "emotions")
                      for s in doc.spans(kind) if on_screen(s.start_ms, fps) < first + frames
                      and max(on_screen(s.end_ms, fps), on_screen(s.start_ms, fps) + 1) > first)
        got = sorted(m.marked_range.start_time.to_frames() for m in clip.markers)
        assert len(got) == len(want) and got
        assert all(g == w or any(g > w and "starts" in m.comment for m in clip.markers) for g, w in zip(got, want))
        assert all(first <= g < first + frames for g in got)
