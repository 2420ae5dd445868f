"""A folder of footage: found by extension, outputs mirroring its folders, a journal that resumes."""

import json
import re
import shutil

import pytest

from mediatagger import batch
from mediatagger.clips import PLAN_SCHEMA
from mediatagger.errors import UsageError
from tests.conftest import TALK, run_cli


def season(root):
    """show/ep1/talk.mp4, show/ep2/talk.mp4 (equal stems), a hidden file, notes, our own outputs."""
    for episode in ("ep1", "ep2"):
        (root / "show" / episode).mkdir(parents=True)
        shutil.copy(TALK, root / "show" / episode / "talk.mp4")
    (root / "show" / ".cache").mkdir()
    shutil.copy(TALK, root / "show" / ".cache" / "hidden.mp4")
    shutil.copy(TALK, root / "show" / ".talk.mp4")
    (root / "show" / "notes.txt").write_text("not media")
    (root / "show" / "ep1" / "clips").mkdir()
    shutil.copy(TALK, root / "show" / "ep1" / "clips" / "talk_01_laughter.mp4")
    shutil.copy(TALK, root / "show" / "ep1" / "talk.reel.mp4")
    (root / "show" / "ep1" / "talk.clips.json").write_text(json.dumps(  # the plan that says they are ours
        {"schema": PLAN_SCHEMA, "reel": "talk.reel.mp4", "clips": [{"file": "clips/talk_01_laughter.mp4"}]}))
    return root / "show"


def test_folders_are_searched_and_outputs_mirror_them(tmp_path):
    show = season(tmp_path)
    found = batch.discover([show], tmp_path / "out", recursive=True)
    assert [(i.name, i.out_dir.relative_to(tmp_path / "out").as_posix()) for i in found] == \
        [("show/ep1/talk.mp4", "ep1"), ("show/ep2/talk.mp4", "ep2")]
    assert batch.discover([show], tmp_path / "out") == []  # not recursive: no media at the top


def test_two_inputs_that_would_write_the_same_outputs_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    shutil.copy(TALK, tmp_path / "a" / "talk.mp4")
    shutil.copy(TALK, tmp_path / "a" / "talk.mov")
    with pytest.raises(UsageError, match="would write the same outputs"):
        batch.discover([tmp_path / "a"], tmp_path / "out")


def test_a_torn_journal_line_is_redone(tmp_path):
    item = batch.Item(TALK, tmp_path, "talk.mp4")
    journal = batch.Journal(tmp_path)
    journal.record(item, "done", 1.5)
    with open(tmp_path / batch.JOURNAL, "a") as fh:
        fh.write('{"input": "talk.mp4", "status": "fai')  # power lost mid-line
    again = batch.Journal(tmp_path)
    assert again.state(item) == "done"
    (tmp_path / "copy.mp4").write_bytes(TALK.read_bytes())
    moved = batch.Item(tmp_path / "copy.mp4", tmp_path, "talk.mp4")  # same name, another file: not done
    assert again.state(moved) is None


def test_the_settings_key_changes_with_what_shapes_the_outputs_only():
    from dataclasses import replace

    from mediatagger import presets

    base = presets.load()
    key = batch.settings_key(base, ["json", "edl"], 0)
    assert batch.settings_key(base, ["edl", "json"], 0) == key
    assert batch.settings_key(replace(base, model=replace(base.model, threads=3)), ["json", "edl"], 0) == key
    assert batch.settings_key(base, ["json", "edl", "srt"], 0) != key
    assert batch.settings_key(base, ["json", "edl"], "all") != key
    assert batch.settings_key(presets.load("subtitles"), ["json", "edl"], 0) != key
    assert batch.settings_key(replace(base, model=replace(base.model, language="en")), ["json", "edl"], 0) != key


def test_a_journal_from_an_older_mediatagger_keeps_its_failures(tmp_path):
    """Lines written before the journal kept settings: a failure stays failed (retried only on request),
    a done input is looked at again once, saying why."""
    shutil.copy(TALK, tmp_path / "a.mp4")
    shutil.copy(TALK, tmp_path / "b.mp4")
    done, failed = batch.Item(tmp_path / "a.mp4", tmp_path / "out", "a.mp4"), \
        batch.Item(tmp_path / "b.mp4", tmp_path / "out", "b.mp4")
    old = batch.Journal(tmp_path / "out")   # no settings: as an older mediatagger wrote it
    old.record(done, "done", 1.0)
    old.record(failed, "failed", 1.0, "b.mp4: broken")
    assert "settings" not in json.loads((tmp_path / "out" / batch.JOURNAL).read_text().splitlines()[0])
    now = batch.Journal(tmp_path / "out", settings="abc")
    assert now.state(failed) == "failed" and now.stale(failed) is None
    assert now.state(done) is None and now.stale(done) == "its journal line is from an older mediatagger"


def test_the_summary_page_says_busy_and_pending_not_failed(tmp_path):
    from mediatagger import summary

    rows = [summary.row("a.mp4", tmp_path, "a", "a: another mediatagger run is writing these outputs", "busy"),
            summary.row("b.mp4", tmp_path, "b"), summary.row("c.mp4", tmp_path, "c", "c.mp4: broken")]
    assert [r.status for r in rows] == ["busy", "pending", "failed"]
    page = summary.to_html(rows, tmp_path)
    assert '<tr class="busy"><td>a.mp4</td><td>busy</td>' in page
    assert '<tr class="pending"><td>b.mp4</td><td>pending</td>' in page
    assert '<tr class="failed"><td>c.mp4</td><td>failed</td>' in page
    assert [line.split(",")[1] for line in summary.to_csv(rows, tmp_path).splitlines()[1:]] == \
        ["busy", "pending", "failed"]


@pytest.mark.slow
def test_a_batch_exits_with_its_worst_failure(tiny_model, tmp_path):
    """Inputs refused as a usage error (a track they do not have) make the batch exit 2, not 1."""
    show = season(tmp_path)
    run = run_cli("tag", show, "-r", "--model", tiny_model, "--vad", "silero", "--track", "5", "--export", "json",
                  "-o", tmp_path / "out", "-q")
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines()[-1] == "mediatagger: 0 done, 2 failed, 0 skipped"


@pytest.mark.slow
def test_a_batch_resumes_skips_what_is_done_and_retries_failures_on_request(tiny_model, tmp_path):
    show = season(tmp_path)
    (show / "ep2" / "broken.mp4").write_text("not a video")
    args = ["tag", show, "-r", "--model", tiny_model, "--vad", "silero", "--export", "json,edl", "-o",
            tmp_path / "out", "-q"]
    first = run_cli(*args)
    assert first.returncode == 1 and first.stderr.splitlines()[-1] == "mediatagger: 2 done, 1 failed, 0 skipped"
    for episode in ("ep1", "ep2"):
        assert (tmp_path / "out" / episode / "talk.edl").is_file()
    lines = [json.loads(x) for x in (tmp_path / "out" / batch.JOURNAL).read_text().splitlines()]
    last = {x["input"]: x for x in lines}
    assert {k: v["status"] for k, v in last.items()} == {"show/ep1/talk.mp4": "done", "show/ep2/broken.mp4": "failed",
                                                         "show/ep2/talk.mp4": "done"}
    assert "broken.mp4" in last["show/ep2/broken.mp4"]["error"] and last["show/ep1/talk.mp4"]["seconds"] > 0
    analysis = json.loads((tmp_path / "out" / "ep1" / "talk.analysis.json").read_text())
    assert last["show/ep1/talk.mp4"]["key"] == analysis["cache_key"] and len(analysis["cache_key"]) == 64

    edl = (tmp_path / "out" / "ep1" / "talk.edl").stat().st_mtime_ns
    again = run_cli(*args)
    assert again.stderr.splitlines()[-1] == ("mediatagger: 0 done, 0 failed, 3 skipped; 1 still failed from before: "
                                             "--retry-failed tries again")
    assert again.returncode == 1  # a failure skipped is still a failure: never exit 0 while the summary lists one
    assert "--retry-failed" in again.stderr and (tmp_path / "out" / "ep1" / "talk.edl").stat().st_mtime_ns == edl
    retried = run_cli(*args, "--retry-failed")
    assert retried.stderr.splitlines()[-1] == "mediatagger: 0 done, 1 failed, 2 skipped"


@pytest.mark.slow
def test_an_input_cut_short_is_redone(tiny_model, tmp_path):
    """A crash leaves "started" as the input's last line: the rerun tags it again."""
    show = season(tmp_path)
    args = ["tag", show, "-r", "--model", tiny_model, "--vad", "silero", "--export", "json", "-o", tmp_path / "out",
            "-q"]
    assert run_cli(*args).returncode == 0
    item = batch.discover([show], tmp_path / "out", recursive=True)[1]
    batch.Journal(tmp_path / "out").record(item, "started")
    again = run_cli(*args)
    assert again.stderr.splitlines()[-1] == "mediatagger: 1 done, 0 failed, 1 skipped"


@pytest.mark.slow
def test_one_bar_over_the_batch_by_media_duration(tiny_model, tmp_path):
    from tests.test_cli import on_terminal

    show = season(tmp_path)
    code, shown = on_terminal("tag", show, "-r", "--model", tiny_model, "--vad", "silero", "--export", "json", "-o",
                              tmp_path / "out")
    assert code == 0
    assert re.search(r"batch \(show/ep2/talk\.mp4[^)]*\): 100%\|.*\| 40/40s \[\d\d:\d\d<\d\d:\d\d\]", shown), shown
    assert "tag track 0: " not in shown  # the stages are the bar's text, not bars of their own


def make_batch(tiny_model, root):
    """A tagged batch: two episodes, a file named like markup, a broken one; returns the output folder."""
    show = season(root)
    shutil.copy(TALK, show / "ep2" / "<b>bold.mp4")  # ("</b>" cannot be in a file name: "/" separates)
    (show / "ep2" / "broken.mp4").write_text("not a video")
    run_cli("tag", show, "-r", "--model", tiny_model, "--vad", "silero", "--export", "json,edl,ass", "-o",
            root / "out", "-q")
    return root / "out"


@pytest.mark.slow
def test_the_summary_has_a_row_per_input_and_escapes_names(tiny_model, tmp_path):
    import csv

    out = make_batch(tiny_model, tmp_path)
    rows = {r["input"]: r for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))}
    assert list(rows) == ["show/ep1/talk.mp4", "show/ep2/<b>bold.mp4", "show/ep2/broken.mp4", "show/ep2/talk.mp4"]
    talk = rows["show/ep1/talk.mp4"]
    assert talk["status"] == "done" and float(talk["duration_s"]) == pytest.approx(20, abs=0.1)
    assert int(talk["laughter_n"]) >= 1 and float(talk["laughter_s"]) > 1 and int(talk["applause_n"]) >= 1
    assert talk["edl"] == "ep1/talk.edl" and talk["ass"] == "ep1/talk.ass" and talk["reel"] == ""
    assert re.search(r"Laughter 0:0\d\.\d", talk["best_moments"]) and talk["emotions"]  # the page's one clock
    assert rows["show/ep2/broken.mp4"]["status"] == "failed" and "broken.mp4" in rows["show/ep2/broken.mp4"]["error"]
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "<b>" not in page and "&lt;b&gt;bold.mp4" in page
    assert 'href="ep2/%3Cb%3Ebold.edl"' in page and "http" not in page and "<script" not in page


@pytest.mark.slow
def test_two_workers_give_what_one_process_gives(tiny_model, tmp_path):
    """--jobs 2: two worker processes, each with its model, the same outputs as the plain run."""
    show = season(tmp_path)
    (show / "ep2" / "broken.mp4").write_text("not a video")
    common = ["tag", show, "-r", "--model", tiny_model, "--vad", "silero", "--export", "json,edl", "-q",
              "--threads", "1"]
    one, two = run_cli(*common, "-o", tmp_path / "one"), run_cli(*common, "-o", tmp_path / "two", "--jobs", "2")
    assert one.returncode == two.returncode == 1
    assert two.stderr.splitlines()[-1] == "mediatagger: 2 done, 1 failed, 0 skipped"
    for name in ("ep1/talk.edl", "ep2/talk.edl", "ep1/talk.analysis.json", "summary.csv"):
        ours = (tmp_path / "two" / name).read_text().replace(str(tmp_path / "two"), "OUT")
        assert ours == (tmp_path / "one" / name).read_text().replace(str(tmp_path / "one"), "OUT"), name


def test_a_batch_from_python_tells_its_listener_each_step(tiny_model, tmp_path):
    """``batch.tag_folder``: the whole batch the CLI runs, its steps told to a ``Listener``."""
    from mediatagger import api

    shutil.copy(TALK, tmp_path / "a.mp4")
    (tmp_path / "notes.txt").write_text("not media")

    class Heard(batch.Listener):
        def __init__(self):
            self.steps = []

        def passed(self, path, why):
            self.steps.append(("passed", path.name, why))

        def begin(self, name):
            self.steps.append(("begin", name))

        def told(self, line, news=False):
            self.steps.append(("told", line))

        def wrote(self, written):
            self.steps.append(("wrote", sorted(w.path.name for w in written)))

    tagger = api.Tagger(model=str(tiny_model), vad="silero", detector="sensevoice")
    heard = Heard()
    result = batch.tag_folder([tmp_path], tmp_path / "out", tagger, exports=["json"], progress=heard)
    assert (result.exit_code, result.line()) == (0, "1 done, 0 failed, 0 skipped")
    assert heard.steps == [("passed", "notes.txt", "not media"), ("begin", f"{tmp_path.name}/a.mp4"),
                           ("wrote", ["a.analysis.json"]), ("wrote", ["summary.csv", "summary.html"])]
    assert result.journal == tmp_path / "out" / batch.JOURNAL and result.outcomes[0].written[0].path.is_file()
