"""Names and media at the edges, each driven through the real command line (a subprocess, real ffmpeg,
the tiny model): what a camera card, a Windows share or an unusual encoder hands an editor."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from mediatagger import analysis, files
from tests.conftest import TALK, ffmpeg, run_cli
from tests.reliability import case

pytestmark = pytest.mark.slow
MODEL = ["--model", str(Path(__file__).resolve().parent.parent / "samples" / "model"), "--vad", "silero"]
LATIN1 = os.fsdecode(b"caf\xe9")        # a Latin-1 name from an old camera card: not UTF-8
LONG = "a" * 251                           # 255 bytes with ".mp4"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def no_traceback(done) -> None:
    assert "Traceback" not in done.stderr, done.stderr


def leftovers(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if ".part" in n or n.endswith(".lock")] if folder.exists() else []


# --- names -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def names(tmp_path_factory):
    """One recursive batch over a folder of awkward names: a Latin-1 name, a 255-byte name and a second
    one sharing its first 200 bytes, a name starting with '-', a link to a file already in the batch,
    and a folder link looping back up."""
    root = tmp_path_factory.mktemp("names")
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    short = src / "sub" / "short.mp4"
    ffmpeg("-i", TALK, "-t", "3", "-c", "copy", short)
    for name in (f"{LATIN1}.mp4", "-dash.mp4", f"{LONG}.mp4", f"{'a' * 200}{'b' * 51}.mp4"):
        shutil.copy(short, src / name)        # copies: a hard link is the same file, tagged once
    (src / "again.mp4").symlink_to("-dash.mp4")
    (src / "sub" / "up").symlink_to("..")      # in/sub/up -> in: a loop
    before = {p: digest(p) for p in src.rglob("*.mp4") if p.is_file() and not p.is_symlink()}
    out = root / "out"
    done = run_cli("tag", src, "-r", "-o", out, "--export", "json,ass,edl,fcpxml,otio,csv", *MODEL)
    return done, src, out, before


@case("Names", "A Latin-1 (not UTF-8) file name in a batch",
      "tagged like any other; outputs named from the same bytes, valid UTF-8 inside, exit 0")
def test_a_name_that_is_not_utf8_is_tagged_and_its_outputs_keep_its_bytes(names):
    done, src, out, before = names
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    made = set(os.listdir(os.fsencode(out)))
    for suffix in (b".analysis.json", b".ass", b".edl", b".fcpxml", b".otio", b".markers.csv"):
        assert b"caf\xe9" + suffix in made
    doc_path = out / f"{LATIN1}.analysis.json"
    doc_path.read_bytes().decode("utf-8")        # every output is valid UTF-8 ...
    (out / f"{LATIN1}.ass").read_bytes().decode("utf-8")
    doc = analysis.load(doc_path)
    assert os.fsencode(doc.source.path) == os.fsencode(src / f"{LATIN1}.mp4")  # ... and the JSON keeps the bytes
    fcpxml = etree.fromstring((out / f"{LATIN1}.fcpxml").read_bytes())
    assert fcpxml.xpath("//media-rep/@src")[0].endswith("/caf%E9.mp4")
    again = run_cli("export", doc_path, "-o", out, "--export", "edl,srt")      # and it reads back
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert {p: digest(p) for p in before} == before


@case("Names", "A 255-byte file name", "outputs named from its first bytes and a short hash (every name fits "
      "in 255 bytes; two long names stay apart), exit 0")
def test_a_255_byte_name_gets_outputs_that_fit(names):
    done, _, out, _ = names
    assert done.returncode == 0, done.stderr
    stems = {files.output_stem(f"{LONG}.mp4"), files.output_stem(f"{'a' * 200}{'b' * 51}.mp4")}
    assert len(stems) == 2
    for stem in stems:
        assert (out / f"{stem}.analysis.json").is_file() and (out / f"{stem}.fcpxml").is_file()
    assert max(len(n) for n in os.listdir(os.fsencode(out))) <= 255


@case("Names", "A name that starts with '-' (in a folder and as an argument)",
      "read as a file, never as an option, by mediatagger and by ffmpeg; exit 0")
def test_a_name_starting_with_a_dash_is_a_file(names, tmp_path):
    done, src, out, _ = names
    assert done.returncode == 0 and (out / "-dash.edl").is_file()
    single = run_cli("tag", "--export", "edl", *MODEL, "-o", tmp_path, "--", "-dash.mp4", cwd=src)
    no_traceback(single)
    assert single.returncode == 0, single.stderr
    assert (tmp_path / "-dash.edl").is_file()


@case("Names", "A folder link that loops back up, inside a recursive batch",
      "each real folder walked once; the batch finishes, exit 0")
def test_a_symlink_loop_is_walked_once(names):
    done, _, out, _ = names
    assert done.returncode == 0, done.stderr
    journal = [json.loads(line) for line in (out / "mediatagger.journal.jsonl").read_text().splitlines()]
    inputs = [e["input"] for e in journal if e["status"] == "done"]
    assert len(inputs) == len(set(inputs)) == 5                  # short, Latin-1, dash, two long names
    assert not any("/up/" in i for i in inputs)
    assert not (out / "sub" / "up").exists()


@case("Names", "The same file reached twice through a link",
      "tagged once; one warning line names both paths; exit 0")
def test_the_same_file_twice_through_a_link_is_tagged_once(names):
    done, src, out, _ = names
    warnings = [line for line in done.stderr.splitlines() if "a link to the same file" in line]
    assert warnings == [f"mediatagger: warning: {src / 'again.mp4'} is {src / '-dash.mp4'} again "
                        "(a link to the same file): tagged once"]
    assert not (out / "again.analysis.json").exists()
    assert not leftovers(out)


# --- media at the edges ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    """Short files at the edges of what ffmpeg hands over, tagged in one batch with every track."""
    src = tmp_path_factory.mktemp("edges")
    ffmpeg("-i", TALK, "-t", "5", "-c:v", "copy", "-c:a", "pcm_s16le", src / "pcm16.mov")
    ffmpeg("-i", TALK, "-t", "5", "-c:v", "copy", "-c:a", "pcm_s24le", src / "pcm24.mov")
    ffmpeg("-i", TALK, "-t", "5", "-vn", "-c:a", "pcm_f32le", src / "float32.wav")
    ffmpeg("-i", TALK, "-t", "5", "-vn", "-ar", "96000", "-c:a", "pcm_s24le", src / "hi96k.wav")
    ffmpeg("-i", TALK, "-t", "2", *[a for _ in range(16) for a in ("-map", "0:a:0")], "-map", "0:v",
           "-c:v", "copy", "-c:a", "aac", "-b:a", "32k", src / "tracks16.mp4")
    ffmpeg("-i", TALK, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono,atrim=end_sample=1", "-map", "0:v",
           "-map", "1:a", "-c:v", "copy", "-c:a", "pcm_s16le", "-t", "2", src / "no_audio_samples.mov")
    ffmpeg("-i", TALK, "-itsoffset", "10", "-i", TALK, "-map", "0:v", "-map", "1:a", "-c", "copy",
           src / "late_audio.mp4")
    out = tmp_path_factory.mktemp("edges_out")
    done = run_cli("tag", src, "-o", out, "--track", "all", "--export", "json,edl", *MODEL)
    return done, src, out


def segments(doc: analysis.Analysis, track: int = 0) -> list[tuple[int, int, str]]:
    return [(s.start_ms, s.end_ms, s.text) for s in doc.tracks[track].segments]


@case("Media at the edges", "24-bit and 32-bit float PCM, 96 kHz audio",
      "tagged as the 16-bit 48 kHz copy is: the same speech at the same times, exit 0")
def test_deep_and_fast_pcm_say_what_16_bit_says(edges):
    done, _, out = edges
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    base = segments(analysis.load(out / "pcm16.analysis.json"))
    assert base
    for name in ("pcm24", "float32", "hi96k"):
        other = segments(analysis.load(out / f"{name}.analysis.json"))
        assert len(other) == len(base), name
        for (s0, e0, _), (s1, e1, _) in zip(base, other):
            assert abs(s0 - s1) <= 64 and abs(e0 - e1) <= 64, (name, base, other)


@case("Media at the edges", "16 audio tracks", "every track tagged and exported (--track all), exit 0")
def test_sixteen_audio_tracks(edges):
    _, _, out = edges
    doc = analysis.load(out / "tracks16.analysis.json")
    assert [t.index for t in doc.tracks] == list(range(16))
    assert all(segments(doc, n) == segments(doc, 0) for n in range(16))
    assert len(doc.source.audio_tracks) == 16


@case("Media at the edges", "An audio stream with no samples",
      "an honest empty result: no speech, no events, exports written, exit 0")
def test_an_audio_stream_with_no_samples_is_an_empty_result(edges):
    _, _, out = edges
    doc = analysis.load(out / "no_audio_samples.analysis.json")
    assert [(t.segments, t.events, t.emotions) for t in doc.tracks] == [((), (), ())]
    assert (out / "no_audio_samples.edl").is_file()


@case("Media at the edges", "A video whose audio starts 10 s after its picture",
      "spans on the picture's clock: every marker 10 s later than in the file's audio; the analysis "
      "records the offset applied")
def test_late_audio_is_timed_on_the_picture(edges, tagged):
    _, _, out = edges
    late = analysis.load(out / "late_audio.analysis.json")
    talk = analysis.load(tagged["talk"])
    offset = late.source.audio_tracks[0].offset_ms
    assert 9970 <= offset <= 9990 and late.source.start_ms == 0     # ffprobe: audio start_time 9.978667
    # AAC priming moves the first sound 21 ms further: what was heard at t is now at t + 10 s
    assert len(segments(late)) == len(segments(talk))
    # the 10 s chunks fall elsewhere in the sound (after 10 s of silence), so the VAD hears each segment with
    # other context: starts stay within 100 ms, ends within one scan hop (a 0.4 s blip ends 0.8 s later)
    for (s0, e0, _), (s1, e1, _) in zip(segments(talk), segments(late)):
        assert abs(s1 - (s0 + 10000)) <= 100 and abs(e1 - (e0 + 10000)) <= 1000
    first_talk, first_late = talk.spans("events")[0], late.spans("events")[0]
    assert first_late.label == first_talk.label
    assert abs(first_late.start_ms - (first_talk.start_ms + 10000)) <= 300


@case("Media at the edges", "An MP4 cut short whose index (moov) was at the end",
      "exit 1, one line: <file>: is cut short: its index ... is missing; nothing written")
def test_a_truncated_file_with_its_index_at_the_end(tmp_path):
    whole = tmp_path / "whole.mp4"
    ffmpeg("-i", TALK, "-c", "copy", whole)                  # ffmpeg writes the index last
    cut_short = tmp_path / "cut_short.mp4"
    cut_short.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    before = digest(cut_short)
    done = run_cli("tag", cut_short, "-o", tmp_path / "out", *MODEL)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"mediatagger: error: {cut_short}: is cut short: its index (the MP4/MOV moov atom) is missing, so the "
        "recording or copy did not finish"]
    assert digest(cut_short) == before
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


def tag_silence(folder: Path, hours: int) -> tuple[float, int, subprocess.CompletedProcess]:
    """(seconds, peak RSS in bytes, the run) of tagging ``hours`` of digital silence in its own process."""
    source = folder / f"silent_{hours}h.flac"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", str(hours * 3600), "-c:a", "flac", source)
    script = ("import resource, subprocess, sys, time; t = time.monotonic(); "
              "done = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors='backslashreplace'); "
              "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, "
              "done.returncode); sys.stderr.write(done.stderr)")
    measured = subprocess.run([sys.executable, "-c", script, sys.executable, "-m", "mediatagger", "tag", source,
                               "-o", folder / f"out_{hours}h", "--export", "json,edl", *MODEL],
                              capture_output=True, text=True, timeout=900)
    seconds, rss, code = measured.stdout.split()
    return float(seconds), int(rss), subprocess.CompletedProcess([], int(code), "", measured.stderr)


@case("Media at the edges", "A 10-hour silent file",
      "an empty result in time linear in length (10 h under 10x one hour); memory holds the audio once: "
      "0.23 GB per hour, not a constant")
def test_ten_hours_of_silence(tmp_path):
    one_s, one_rss, one = tag_silence(tmp_path, 1)
    ten_s, ten_rss, ten = tag_silence(tmp_path, 10)
    for done in (one, ten):
        no_traceback(done)
        assert done.returncode == 0, done.stderr
    doc = analysis.load(tmp_path / "out_10h" / "silent_10h.analysis.json")
    assert doc.source.duration_ms == 36_000_000
    assert [(t.segments, t.events, t.emotions) for t in doc.tracks] == [((), (), ())]
    print(f"1 h: {one_s:.1f} s, {one_rss / 2**30:.2f} GiB; 10 h: {ten_s:.1f} s, {ten_rss / 2**30:.2f} GiB")
    assert ten_s < 10 * one_s
    gib_per_hour = 4 * 16000 * 3600 / 2**30          # one float32 copy of an hour at 16 kHz: 0.21 GiB
    assert (ten_rss - one_rss) / 2**30 < 9 * gib_per_hour * 1.5  # the audio is held once, not copied
