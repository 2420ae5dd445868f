"""The package's shape as a newcomer meets it: levels that import only downwards.

The import graph is built from the source with ``ast`` (every import, at module level or inside a
function, except those under ``if TYPE_CHECKING:``, which never run), so a lazy import inside a
function cannot hide a loop. An import of a module's own copies (the Blender add-on's ``_vendor``) is
not an arrow: those are not mediatagger's modules once packed."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import mediatagger

PACKAGE = Path(mediatagger.__file__).parent
# media jobs (they run ffmpeg and may compose the text formats) and front ends: exporters/ takes none of them
MEDIA_JOBS = ("mediatagger.clips", "mediatagger.cutting", "mediatagger.burnin", "mediatagger.outputs",
              "mediatagger.framing")
FRONT_ENDS = ("mediatagger.cli", "mediatagger.web", "mediatagger.editors", "mediatagger.batch", "mediatagger.api")
# extras a plain install may lack: their modules are imported only where the extra is installed
EXTRAS = {"mediatagger.web": "gradio", "mediatagger.editors.blender.addon": "bpy",
          "mediatagger.editors.otio_plugin": "opentimelineio"}


def module_names() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        if "_vendor" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """The import nodes under ``if TYPE_CHECKING:``."""
    guarded = (n for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))
    return {i for g in guarded for b in g.body for i in ast.walk(b) if isinstance(i, ast.Import | ast.ImportFrom)}


def targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The package's modules ``node`` imports: ``from X import n`` is X.n when that is a module, else X."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in known}
    base = node.module or ""
    if node.level:
        parts = module.split(".")[: len(module.split(".")) - (node.level - (1 if is_package else 0))]
        base = ".".join(parts + ([node.module] if node.module else []))
    found = {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return found & known


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = type_checking_only(tree)
        nodes = (n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) and n not in skip)
        graph[name] = {t for n in nodes for t in targets(name, path.name == "__init__.py", n, set(modules))} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_imports():
    for info in pkgutil.walk_packages([str(PACKAGE)], "mediatagger."):
        extra = next((e for m, e in EXTRAS.items() if info.name == m or info.name.startswith(m + ".")), None)
        skipped = info.name.endswith("__main__") or "_vendor" in info.name   # the CLI's run; the add-on's copies
        if skipped or (extra and importlib.util.find_spec(extra) is None):
            continue
        importlib.import_module(info.name)


def test_there_is_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_graph_sees_a_cycle_hidden_in_a_function():
    """The check itself: a lazy import that closes a loop is one."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("upper", MEDIA_JOBS + FRONT_ENDS)
def test_exporters_import_no_media_job_and_no_front_end(upper):
    graph = import_graph()
    wrong = {(m, t) for m, ts in graph.items() if m.startswith("mediatagger.exporters") for t in ts
             if t == upper or t.startswith(upper + ".")}
    assert wrong == set()


def test_the_document_and_the_pipeline_import_no_output_and_no_front_end():
    graph = import_graph()
    core = ("mediatagger.analysis", "mediatagger.pipeline", "mediatagger.presets", "mediatagger.tags",
            "mediatagger.timeline", "mediatagger.timecode", "mediatagger.media", "mediatagger.scan")
    upper = ("mediatagger.exporters", *MEDIA_JOBS, *FRONT_ENDS, "mediatagger.summary", "mediatagger.cut")
    wrong = {(m, t) for m, ts in graph.items() if m.startswith(core) for t in ts if t.startswith(upper)}
    assert wrong == set()


def test_every_package_is_shipped():
    """Regression risk: pyproject lists the packages the wheel carries; a new subpackage missing there
    passes every editable test and is absent for every user."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(PACKAGE.parent).parts[:-1]) for p in PACKAGE.rglob("__init__.py")
             if "_vendor" not in p.parts}
    assert found == listed


# the README's map of the package ("The package, level by level"): each imports only from its own level
# and those before it
LEVELS = [
    ["errors", "tags", "timecode", "timeline", "files", "progress", "presets"],
    ["media", "vad", "model", "audioset", "head", "scan", "fusion"],
    ["analysis", "stream", "pipeline"],
    ["exporters", "highlights", "framing", "cutting", "burnin", "clips", "outputs", "summary"],
    ["cut", "fcpxml_timeline"],
    ["api", "batch", "follow"],
    ["cli", "web", "__main__"],
    ["editors"],
]


def level_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    return next(i for i, names in enumerate(LEVELS) if top in names) if top else -1


def test_each_level_imports_only_from_its_own_and_those_before_it():
    graph = import_graph()
    assert {m for m in graph if m != "mediatagger" and level_of(m) < 0} == set()   # every module has a level
    upward = sorted((m, t) for m, ts in graph.items() for t in ts if t != "mediatagger" and level_of(t) > level_of(m))
    assert upward == []
