"""Reruns and outputs that never lie, through the real command line: kept, refused, resumed after a real
SIGTERM or SIGKILL, one writer per stem, file modes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediatagger.files import OutputLock
from tests.conftest import DATA, REPO, TALK, run_cli
from tests.test_cli import one_line_error

slow = pytest.mark.slow


@slow
def test_rerun_keeps_what_is_the_same_and_refuses_what_would_change(tiny_model, tmp_path):
    args = ["tag", TALK, "--model", tiny_model, "--vad", "none", "--export", "json,edl", "-o", tmp_path]
    assert run_cli(*args).returncode == 0
    edl, analysis = tmp_path / "talk.edl", tmp_path / "talk.analysis.json"
    before, stamps = edl.read_bytes(), (edl.stat().st_mtime_ns, analysis.stat().st_mtime_ns)

    same = run_cli(*args)  # the same input and settings: nothing is rewritten, and it says so
    assert same.returncode == 0 and same.stdout == ""
    assert same.stderr.splitlines() == [f"unchanged: {analysis}", f"unchanged: {edl}"]
    assert (edl.stat().st_mtime_ns, analysis.stat().st_mtime_ns) == stamps
    assert run_cli(*args, "-q").stderr == ""

    changed = run_cli(*args, "--start-tc", "00:00:00:00")  # the EDL would differ: refused, exit 1
    one_line_error(changed, str(edl), "would change", "--force")
    assert changed.returncode == 1 and edl.read_bytes() == before

    other = run_cli(*args[:-4], "--vad", "silero", *args[-4:])  # another analysis: refused before the model runs
    one_line_error(other, "already exists", "--force")
    assert other.returncode == 1 and edl.read_bytes() == before

    edl.write_text("edited by hand")  # an edit is never overwritten without --force
    edited = run_cli(*args)
    one_line_error(edited, str(edl), "would change")
    assert edl.read_text() == "edited by hand"

    forced = run_cli(*args, "--start-tc", "00:00:00:00", "--force")  # force replaces what changed, no more
    assert forced.returncode == 0 and edl.read_text().startswith("TITLE: talk") and "00:00:0" in edl.read_text()
    assert forced.stdout.splitlines() == [str(edl)] and forced.stderr.splitlines() == [f"unchanged: {analysis}"]


def clip_preset(tmp_path: Path) -> Path:
    """Three clips from talk.mp4 (laugh, applause, music), each cut slowly enough to be caught cutting."""
    path = tmp_path / "clips.yaml"
    path.write_text("exports: [json, clips]\nclips: {labels: [LAUGHTER, APPLAUSE, BGM], pad_before_ms: 0, "
                    "pad_after_ms: 0, merge_gap_ms: 0, min_clip_ms: 1000, x264_preset: slower}\n")
    return path


def start_tag(tiny_model: Path, out: Path, preset: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mediatagger", "tag", str(TALK), "--model", str(tiny_model),
                             "--vad", "silero", "--preset", str(preset), "-o", str(out), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def wait_for(found, proc: subprocess.Popen, seconds: float = 120):
    """Poll until ``found()`` gives something (returned), failing if ``proc`` ends first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        hit = found()
        if hit:
            return hit
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("timed out")


def ffmpeg_writing(out: Path) -> list[str]:
    """Command lines of processes still running with ``out`` in their arguments."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if str(out) in args and "ffmpeg" in args:
            found.append(args)
    return found


def parts(out: Path) -> list[Path]:
    return sorted((out / "clips").glob(".*.part.mp4")) if (out / "clips").is_dir() else []


def cutting_clip(out: Path, number: int):
    return lambda: [p for p in parts(out) if p.name.startswith(f".talk_{number:02d}_")]


@slow
def test_interrupted_clip_set_is_finished_by_a_rerun(tiny_model, tmp_path):
    preset, out = clip_preset(tmp_path), tmp_path / "out"
    first = start_tag(tiny_model, out, preset)
    wait_for(cutting_clip(out, 2), first)  # ffmpeg is writing clip 2: stop it like a shell's kill does
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 143 and err.strip() == "mediatagger: error: stopped by signal SIGTERM"
    assert parts(out) == [] and not ffmpeg_writing(out)  # temp files removed, its ffmpeg gone
    plan = json.loads((out / "talk.clips.json").read_text())
    assert plan["status"] == "incomplete" and len(plan["clips"]) == 3
    kept = out / plan["clips"][0]["file"]
    assert kept.is_file() and not (out / plan["clips"][2]["file"]).exists()
    stamp = kept.stat().st_mtime_ns

    second = start_tag(tiny_model, out, preset)
    stale = wait_for(cutting_clip(out, 2), second)
    second.send_signal(signal.SIGKILL)  # no cleanup at all: the part file stays behind
    second.communicate(timeout=60)
    assert stale[0].exists()

    third = run_cli("tag", TALK, "--model", tiny_model, "--vad", "silero", "--preset", preset, "-o", out)
    assert third.returncode == 0, third.stderr
    plan = json.loads((out / "talk.clips.json").read_text())
    assert plan["status"] == "complete" and all((out / c["file"]).is_file() for c in plan["clips"])
    assert parts(out) == [] and kept.stat().st_mtime_ns == stamp  # the finished clip was not cut again
    assert f"unchanged: {kept}" in third.stderr and str(out / plan["clips"][2]["file"]) in third.stdout


@slow
def test_forced_rerun_deletes_only_this_jobs_clips(tmp_path):
    from mediatagger import api, presets
    from tests.conftest import load_fixed

    doc = load_fixed()
    fast = presets.override(presets.Preset(), "clips", x264_preset="ultrafast", labels=("LAUGHTER",))
    api.export(doc, tmp_path, ["clips"], fast)
    (old,) = sorted((tmp_path / "clips").glob("talk_*.mp4"))
    foreign = [tmp_path / "clips" / n for n in ("talkshow_01_laughter.mp4", "talk_99_applause.mp4", "notes.txt")]
    for path in foreign:
        path.write_text("someone else's")
    wider = presets.override(fast, "clips", labels=("APPLAUSE",))
    with pytest.raises(Exception, match="another clips run") as refused:
        api.export(doc, tmp_path, ["clips"], wider)
    assert refused.value.describe({"force": "--force"}).endswith("(use --force to overwrite)") and old.exists()
    api.export(doc, tmp_path, ["clips"], wider, force=True)
    assert not old.exists() and all(p.read_text() == "someone else's" for p in foreign)
    assert (tmp_path / "clips" / "talk_01_applause.mp4").is_file()


def hold_lock_then(out: Path, action: str) -> subprocess.Popen:
    """A process that takes the lock on ``talk`` in ``out``, says so, then waits or dies holding it."""
    code = (f"import os, sys, time\nfrom pathlib import Path\nfrom mediatagger.files import OutputLock\n"
            f"lock = OutputLock(Path({str(out)!r}), 'talk').__enter__()\nprint('held', flush=True)\n"
            + ("os.kill(os.getpid(), 9)\n" if action == "die" else "time.sleep(60)\n"))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_one_writer_per_stem(tmp_path):
    out = tmp_path / "out"
    holder = hold_lock_then(out, "wait")
    try:
        done = run_cli("export", DATA / "talk.analysis.json", "-o", out, "--export", "edl")
        one_line_error(done, str(out / "talk"), "another mediatagger run is writing these outputs",
                       f"pid {holder.pid}")
        assert done.returncode == 1 and not (out / "talk.edl").exists()
        other_stem = run_cli("export", DATA / "talk.analysis.json", "-o", out / "elsewhere", "--export", "edl")
        assert other_stem.returncode == 0  # another folder is another output
    finally:
        holder.kill()
        holder.wait()
    assert run_cli("export", DATA / "talk.analysis.json", "-o", out, "--export", "edl").returncode == 0
    assert not (out / ".talk.lock").exists()


@slow
def test_two_real_runs_on_one_stem(tiny_model, tmp_path):
    """A real tag run holds the stem while it loads the model and tags; a real export into the same
    folder is refused meanwhile, and the first run finishes untouched."""
    out = tmp_path / "out"
    first = start_tag(tiny_model, out, clip_preset(tmp_path))
    wait_for(lambda: (out / ".talk.lock").exists(), first)
    second = run_cli("export", DATA / "talk.analysis.json", "-o", out, "--export", "edl")
    one_line_error(second, "another mediatagger run is writing these outputs", f"pid {first.pid}")
    assert first.wait(timeout=300) == 0 and not (out / "talk.edl").exists()
    assert json.loads((out / "talk.clips.json").read_text())["status"] == "complete"


def test_a_crashed_holder_never_blocks(tmp_path):
    out = tmp_path / "out"
    hold_lock_then(out, "die").wait()
    assert (out / ".talk.lock").exists()  # SIGKILL left the file; the kernel dropped the lock
    done = run_cli("export", DATA / "talk.analysis.json", "-o", out, "--export", "edl")
    assert done.returncode == 0, done.stderr
    with OutputLock(out, "talk"):
        pass


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_outputs_get_the_mode_a_plain_open_gives(tmp_path, mask):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "mediatagger", "export", str(DATA / "talk.analysis.json"),
                           "-o", str(out), "--export", "edl,ass,csv", "-q"], preexec_fn=lambda: os.umask(mask),
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    old = os.umask(mask)
    try:
        with open(tmp_path / "plain.txt", "w"):
            pass
    finally:
        os.umask(old)
    plain = (tmp_path / "plain.txt").stat().st_mode & 0o777
    assert plain == 0o666 & ~mask
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == \
        {n: plain for n in ("talk.analysis.json", "talk.edl", "talk.ass", "talk.markers.csv")}


@slow
def test_sighup_during_a_burn_removes_its_temp_file(tmp_path):
    out = tmp_path / "burned.mp4"
    burn = subprocess.Popen([sys.executable, "-m", "mediatagger", "burn", str(TALK), "--analysis",
                             str(DATA / "talk.analysis.json"), "-o", str(out), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    wait_for(lambda: list(tmp_path.glob(".burned.*.part.mp4")), burn)
    burn.send_signal(signal.SIGHUP)
    _, err = burn.communicate(timeout=60)
    assert burn.returncode == 129 and err.strip() == "mediatagger: error: stopped by signal SIGHUP"
    assert list(tmp_path.iterdir()) == []  # no part file, no output, no lock


@slow
def test_every_command_keeps_identical_output_and_says_what_it_replaces(tiny_model, tmp_path):
    """The README's quick start then its burn and reel: a burn run again with nothing changed keeps its
    output and says so (as ``tag`` and ``reel`` do), one that would differ is refused, ``--force``
    says what it replaced; the reel's new job says which file of the tag's clips it replaced and
    which clip it removed."""
    assert run_cli("tag", TALK, "--model", tiny_model, "--vad", "silero", "-o", tmp_path).returncode == 0
    clip, plan, out = tmp_path / "clips" / "talk_01_laughter_applause.mp4", tmp_path / "talk.clips.json", \
        tmp_path / "talk.subtitled.mp4"
    assert clip.exists() and plan.exists()
    burn = ["burn", TALK, "--analysis", tmp_path / "talk.analysis.json", "-o", out]
    first = run_cli(*burn)
    assert first.returncode == 0 and first.stdout.splitlines() == [str(out)] and first.stderr == ""
    stamp = out.stat().st_mtime_ns

    again = run_cli(*burn)
    assert again.returncode == 0 and again.stdout == "" and again.stderr.splitlines() == [f"unchanged: {out}"]
    assert out.stat().st_mtime_ns == stamp

    other = run_cli(*burn, "--rich-text", "raw")  # other subtitles: refused, the file as it was
    one_line_error(other, str(out), "already exists and would change", "--force")
    assert other.returncode == 1 and out.stat().st_mtime_ns == stamp
    forced = run_cli(*burn, "--rich-text", "raw", "--force")
    assert forced.returncode == 0 and forced.stdout.splitlines() == [str(out)]
    assert forced.stderr.splitlines() == [f"replaced: {out}"]

    reel = run_cli("reel", tmp_path / "talk.analysis.json", "--labels", "LAUGHTER", "--burn", "badges", "--force")
    assert reel.returncode == 0, reel.stderr
    assert f"replaced: {plan}" in reel.stderr.splitlines() and f"removed: {clip}" in reel.stderr.splitlines()
    assert not clip.exists() and str(tmp_path / "talk.reel.mp4") in reel.stdout.splitlines()
    assert all(Path(line).exists() for line in reel.stdout.splitlines())
