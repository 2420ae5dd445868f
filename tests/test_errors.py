"""Errors: every class pickles whole (a worker process hands them back), hints name options per front end."""

import pickle

import pytest

from mediatagger import errors
from mediatagger.cli import FLAGS
from mediatagger.errors import MediaTaggerError

# one instance of every error class, with the attributes it carries
SAMPLES = {
    errors.MediaTaggerError: errors.MediaTaggerError("something failed", hint="use {force}"),
    errors.UsageError: errors.UsageError("give exactly one of these"),
    errors.UnknownChoiceError: errors.UnknownChoiceError("export format", "pdf", ["json", "edl"]),
    errors.TrackError: errors.TrackError("talk.mp4", 5, 2),
    errors.PresetError: errors.PresetError("mine.yaml", "clips.crf = 99 is out of range"),
    errors.MediaError: errors.MediaError("talk.mp4", "file is empty"),
    errors.FFmpegError: errors.FFmpegError("talk.mp4", "cannot decode", "line one\nInvalid data found\n"),
    errors.RefusedInputError: errors.RefusedInputError("clip.mp4", "hls"),
    errors.ModelLoadError: errors.ModelLoadError("iic/SenseVoiceSmall", "hub unreachable", hint="pass {model_dir}"),
    errors.OutputExistsError: errors.OutputExistsError("out/talk.edl", "already exists and would change"),
    errors.OutputBusyError: errors.OutputBusyError("out/talk", "1234"),
    errors.OutputError: errors.OutputError("out/talk.analysis.json", "cannot be written: No space left on device"),
    errors.AnalysisError: errors.AnalysisError("talk.analysis.json", "source.fps: 'abc' is not a frame rate"),
}


def all_classes(cls=MediaTaggerError):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_classes(sub)


def test_every_error_class_has_a_sample():
    assert set(all_classes()) | {MediaTaggerError} == set(SAMPLES)


@pytest.mark.parametrize("cls", SAMPLES, ids=lambda c: c.__name__)
def test_errors_pickle_with_message_and_attributes(cls):
    error = SAMPLES[cls]
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls and str(back) == str(error) and back.args == error.args
    assert vars(back) == vars(error) and back.hint == error.hint and back.exit_code == error.exit_code


def test_errors_cross_a_process_pool():
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as pool:
        failed = pool.submit(raise_track_error).exception()
    assert isinstance(failed, errors.TrackError) and (failed.track, failed.count) == (5, 2)
    assert str(failed) == "talk.mp4: there is no audio track 5: the file has 2 audio tracks (0-1)"


def raise_track_error():
    raise errors.TrackError("talk.mp4", 5, 2)


def test_hints_name_options_the_way_each_front_end_does():
    error = errors.OutputExistsError("out/talk.edl", "already exists and would change")
    assert str(error) == "out/talk.edl: already exists and would change (use force=True to overwrite)"
    assert error.describe(FLAGS) == "out/talk.edl: already exists and would change (use --force to overwrite)"
    assert "--" not in str(errors.ModelLoadError("x", "y", hint="pass {model_dir}"))
    assert errors.ModelLoadError("x", "y", hint="pass {model_dir}").describe(FLAGS).endswith("(pass --model DIR)")


def test_library_messages_name_no_flags():
    """Only the CLI spells flags: no library error text or hint holds one."""
    for error in SAMPLES.values():
        assert "--" not in str(error), error


def cli_flags() -> set[str]:
    import click

    from mediatagger.cli import cli

    def walk(command):
        for param in command.params:
            yield from (o for o in param.opts if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    return set(walk(cli)) - {"--help"} | {"--version"} if isinstance(cli, click.Group) else set()


def test_no_library_string_names_a_command_line_flag():
    """Flags are the CLI's: a grep of every string in the package but cli/ (docstrings left out) and
    the Blender add-on's runner, which drives the command line when Blender's Python lacks mediatagger."""
    import ast

    from tests.conftest import REPO

    flags, found = cli_flags(), []
    assert {"--force", "--model", "--cut", "--fontsdir", "--export"} <= flags
    for path in (REPO / "mediatagger").rglob("*.py"):
        if path.parent.name == "cli" or path.relative_to(REPO).as_posix() == "mediatagger/editors/blender/running.py":
            continue
        tree = ast.parse(path.read_text())
        scopes = (ast.Module, ast.FunctionDef, ast.ClassDef)
        docs = {id(n.body[0].value) for n in ast.walk(tree) if isinstance(n, scopes) and n.body
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                found += [(path.name, node.lineno, f) for f in flags if f in node.value]
    assert found == []


def test_every_hint_option_has_a_spelling_in_each_front_end():
    """The options hints name (``hint=...``, ``hint = ...``) are the ones every front end spells."""
    import ast
    import re

    from mediatagger.web.strings import WEB_NAMES
    from tests.conftest import REPO

    assert set(FLAGS) == set(errors.API_NAMES) == set(WEB_NAMES)
    used = set()
    for path in (REPO / "mediatagger").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            named = isinstance(node, ast.keyword) and node.arg == "hint" or \
                isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "hint" for t in node.targets)
            value = node.value if named else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                used |= set(re.findall(r"\{(\w+)\}", value.value))
    assert {"force", "cut_accurate", "fontsdir", "model_dir", "device_cpu"} <= used <= set(FLAGS)
