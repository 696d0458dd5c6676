"""The package's shape: documented entry points import, modules form no import cycle, and the
README's layout table names exactly the folders and top-level modules that exist."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (module, attribute): the Python names README.md and docs/ tell people to use
DOCUMENTED_ENTRY_POINTS = [
    ("grader.cli", "main"),  # pyproject's `grader` script
    ("grader.cli", "cli"),
    ("grader.cli.common", "ExitCode"),  # README: exit codes
    ("grader.notebook", "Checker"),  # students' notebooks: `from grader.notebook import Checker`
    ("reference.registry", "reference"),  # the `@reference` decorator of course folders
    ("reference", "get_reference"),
    ("grader.sandbox", "Limits"),  # docs/sandbox.md
    ("grader.sandbox", "run_python"),
    ("grader.sandbox.session", "SandboxSession"),  # docs/performance.md
    ("grader.mathparse", "prepare_sides"),  # docs/expressions.md
    ("grader.mathparse", "evaluate_constant"),
    ("grader.models.worker_eval", "main"),
]

# modules started as `python -m MODULE` (the CLI, the math worker, the sandbox's entry points)
RUNNABLE_MODULES = ["grader", "grader.mathworker", "grader.sandbox.boot", "grader.sandbox.session_worker",
                    "grader.sandbox.worker_call", "grader.models.worker_eval",
                    "grader.batch.worker"]


@pytest.mark.parametrize(("module", "name"), DOCUMENTED_ENTRY_POINTS,
                         ids=[f"{m}:{n}" for m, n in DOCUMENTED_ENTRY_POINTS])
def test_documented_entry_point_imports(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


@pytest.mark.parametrize("module", RUNNABLE_MODULES)
def test_runnable_module_exists(module: str) -> None:
    spec = importlib.util.find_spec(module)
    assert spec is not None
    if spec.submodule_search_locations is not None:  # a package runs its __main__
        assert importlib.util.find_spec(f"{module}.__main__") is not None


def test_console_script_resolves() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for target in scripts.values():
        module, _, attribute = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attribute)), target


# --- import cycles ------------------------------------------------------------------------------


def _module_files() -> dict[str, Path]:
    found = {}
    for package in ("grader", "reference"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(tree: ast.Module) -> set[str]:
    """Every module named by an import, at any depth, except under `if TYPE_CHECKING:`."""
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(block.test) for stmt in block.body for n in ast.walk(stmt)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports; a module importing its own package is not an
    edge (Python runs a package's __init__ before its modules anyway)."""
    files = _module_files()
    return {module: {name for name in _imported(ast.parse(path.read_text())) if name in files
                     and name != module and not module.startswith(name + ".")}
            for module, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


CYCLE_CASES = [
    ("none", {"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ("two", {"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ("three", {"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
]


@pytest.mark.parametrize(("graph", "expected"), [c[1:] for c in CYCLE_CASES], ids=[c[0] for c in CYCLE_CASES])
def test_cycle_finder(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_the_import_graph_sees_lazy_imports() -> None:
    graph = import_graph()
    assert "grader.mathworker.checks" in graph["grader.mathworker.process"]  # imported inside `check`
    assert "grader.checkers.base" not in graph["grader.checkers.hints"]  # only under TYPE_CHECKING


def test_no_import_cycles() -> None:
    """Not even through imports inside functions: a lazy import may save start-up time, it may
    not hide two modules that need each other."""
    assert cycles(import_graph()) == []


# --- the README's layout table ------------------------------------------------------------------


def _layout_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("### Layout"):].split("\n## ", 1)[0]


def _named_paths(section: str) -> set[str]:
    """The paths of the table's first column, and the files and folders named inside each row
    under their folder (`grader/core/` row naming `rubric.py` gives `grader/core/rubric.py`)."""
    paths = set()
    for row in section.splitlines():
        cells = row.split(" | ")
        if not row.startswith("| `") or len(cells) < 2:
            continue
        folders = re.findall(r"`([^`]+)`", cells[0])
        paths |= set(folders)
        for name in re.findall(r"`([A-Za-z_]\w*(?:\.py|/))`", cells[1]):
            paths |= {f"{folders[0]}{name}"} if folders[0].endswith("/") else set()
    return paths


def test_every_path_the_layout_names_exists() -> None:
    missing = sorted(p for p in _named_paths(_layout_section()) if not (ROOT / p).exists())
    assert missing == []


@pytest.mark.parametrize("package", ["grader", "reference"])
def test_the_layout_names_every_folder_and_top_level_module(package: str) -> None:
    named = _named_paths(_layout_section())
    entries = [p for p in (ROOT / package).iterdir() if p.name not in ("__init__.py", "__main__.py", "__pycache__")
               and (p.suffix == ".py" or p.is_dir())]
    unnamed = sorted(f"{package}/{p.name}" + ("/" if p.is_dir() else "") for p in entries)
    assert [p for p in unnamed if p not in named] == []
