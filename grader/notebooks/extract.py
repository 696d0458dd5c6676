"""A code question's function, extracted from a notebook without running it.

Every code cell is parsed (IPython's `%magic` and `!shell` lines become `pass`); the module
written for the sandbox holds the top-level statements that bind the function's name and,
transitively, the names they use (imports, helper functions, classes, constants), in notebook
order: what "Run All" would have defined for that function, without the cells that train, plot
or delete files. That module then runs in the sandbox exactly like a submitted `.py` file.
"""

from __future__ import annotations

import ast
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.core.report import Status

if TYPE_CHECKING:
    from grader.checkers.base import Verdict
    from grader.notebooks.reader import Cell

MAX_CELL_CHARS = 500_000
MAX_PROGRAM_CHARS = 4_000_000
MAX_SIBLING_FILES = 50
MAX_SIBLING_BYTES = 1024 * 1024
MODULE_NAME = "notebook_answer"
_IPYTHON_LINE = re.compile(r"^(\s*)(?:[%!]|[A-Za-z_][A-Za-z0-9_, ]*=\s*[%!]|[A-Za-z_][\w.]*\?{1,2}\s*$)")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def python_source(source: str) -> str:
    """A cell's text as plain Python: IPython-only lines become `pass` (line numbers kept)."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines[0] = ""  # a cell magic (%%time): the rest of the cell is still Python
    return "\n".join(
        f"{m.group(1)}pass" if (m := _IPYTHON_LINE.match(line)) else line
        for line in lines)


@dataclass(frozen=True)
class Statement:
    where: str  # "cell 7 of a2.ipynb"
    node: ast.stmt
    binds: frozenset[str]
    uses: frozenset[str]


@dataclass
class NotebookProgram:
    """The top-level statements of a notebook's code cells, and the cells that did not parse."""

    notebook: str
    statements: list[Statement] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # "cell 4 of a2.ipynb (line 2: invalid syntax)"

    @classmethod
    def from_cells(cls, notebook: str, cells: list[Cell]) -> NotebookProgram:
        program = cls(notebook)
        budget = MAX_PROGRAM_CHARS
        for cell in cells:
            if cell.kind != "code" or cell.source is None:
                continue
            where = f"cell {cell.number} of {notebook}"
            budget -= len(cell.source)
            if len(cell.source) > MAX_CELL_CHARS or budget < 0:
                program.unreadable.append(f"{where} (too long to read)")
                continue
            try:
                tree = ast.parse(python_source(cell.source))
            except SyntaxError as err:
                program.unreadable.append(f"{where} (line {err.lineno}: {err.msg})")
                continue
            except (RecursionError, MemoryError, ValueError):
                program.unreadable.append(f"{where} (nested too deeply)")
                continue
            program.statements += [_statement(where, node) for node in tree.body]
        return program

    @classmethod
    def merged(cls, programs: list[NotebookProgram]) -> NotebookProgram:
        if len(programs) == 1:
            return programs[0]
        result = cls(", ".join(p.notebook for p in programs))
        for program in programs:
            result.statements += program.statements
            result.unreadable += program.unreadable
        return result

    def definitions(self, name: str) -> list[Statement]:
        return [s for s in self.statements if name in s.binds and isinstance(s.node, ast.FunctionDef)]

    def defines(self, name: str) -> bool:
        return bool(self.definitions(name))

    def module_for(self, function: str) -> tuple[str, list[Statement]]:
        """The module text defining `function`, and the statements it holds."""
        needed = {function}
        chosen: set[int] = set()
        changed = True
        while changed:
            changed = False
            for index, statement in enumerate(self.statements):
                if index not in chosen and (statement.binds & needed or "*" in statement.binds):
                    chosen.add(index)
                    needed |= statement.uses
                    changed = True
        kept = [s for i, s in enumerate(self.statements) if i in chosen]
        return "\n\n".join(f"# {s.where}\n{_text(s.node)}" for s in kept) + "\n", kept


def _statement(where: str, node: ast.stmt) -> Statement:
    return Statement(where, node, frozenset(_binds(node)), frozenset(_uses(node)))


def _binds(node: ast.stmt) -> set[str]:
    """Names a top-level statement defines; bare expressions (calls, plots) define none."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom):
        return {a.asname or a.name for a in node.names}
    if isinstance(node, ast.Expr):
        return set()
    names: set[str] = set()
    for child in _walk_scope(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(child.name)
        elif isinstance(child, ast.Import | ast.ImportFrom):
            names |= _binds(child)
    return names


def _walk_scope(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of one scope: nested functions, classes and comprehensions are not entered."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, _SCOPES):
            stack.extend(ast.iter_child_nodes(child))


def _uses(node: ast.stmt) -> set[str]:
    """Names a statement reads from the notebook's globals (a function's own locals excluded)."""
    loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        local = {a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
        local |= {a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None}
        declared = {n for s in ast.walk(node) if isinstance(s, ast.Global) for n in s.names}
        stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        loaded -= (local | stored) - declared
    return loaded


def _text(node: ast.stmt) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # a tree ast.unparse cannot write: keep the statement out, say so in the module
        return f"# (a statement ast.unparse could not write at line {node.lineno})"


def is_stub(node: ast.stmt) -> bool:
    """The template's body: a docstring, then `raise NotImplementedError`, `pass` or `...`."""
    if not isinstance(node, ast.FunctionDef):
        return False
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1:
        return not body
    only = body[0]
    if isinstance(only, ast.Pass):
        return True
    if isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis:
        return True
    if isinstance(only, ast.Raise) and only.exc is not None:
        exc = only.exc.func if isinstance(only.exc, ast.Call) else only.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


# --- the folder the sandbox runs ------------------------------------------------------------------


@dataclass(frozen=True)
class StagedCode:
    folder: Path  # holds the extracted module and the submission's own top-level .py files
    file: str
    label: str  # how feedback names the code
    note: str | None  # which of several definitions was used


@contextmanager
def staged_code(program: NotebookProgram, function: str, root: Path | None) -> Iterator[StagedCode | Verdict]:
    """A temporary folder holding the module for `function`, or the verdict when there is none."""
    from grader.checkers.base import Verdict

    definitions = program.definitions(function)
    if not definitions:
        status, feedback = _no_definition(program, function)
        yield Verdict(status, feedback=feedback)
        return
    last = definitions[-1]
    if is_stub(last.node):
        yield Verdict(Status.MISSING, feedback=f"your function {function} in {last.where} is still the "
                      "template's stub: write its body", answer=f"{function} in {last.where}")
        return
    source, _ = program.module_for(function)
    note = None
    if len(definitions) > 1:
        note = (f"your notebook defines {function} in {', '.join(d.where for d in definitions[:-1])} and "
                f"{last.where}; the last one is graded, as when the notebook runs from top to bottom")
    folder = Path(tempfile.mkdtemp(prefix="grader-notebook-"))
    try:
        file = _write_module(folder, source, root)
        cell, notebook = last.where.split(" of ", 1)
        yield StagedCode(folder, file, f"{notebook}, {cell}", note)  # "your file a1.ipynb, cell 8 ..."
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _no_definition(program: NotebookProgram, function: str) -> tuple[Status, str]:
    if program.unreadable:
        return Status.INVALID, (f"your notebook defines no function {function} that could be read; "
                                f"these cells are not valid Python: {'; '.join(program.unreadable[:5])}")
    return Status.MISSING, f"your notebook defines no function {function}"


def _write_module(folder: Path, source: str, root: Path | None) -> str:
    """The module, next to copies of the submission's own top-level `.py` files (its helpers)."""
    names = set()
    if root is not None:
        for path in sorted(root.glob("*.py"))[:MAX_SIBLING_FILES]:
            info = path.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_SIBLING_BYTES:
                shutil.copyfile(path, folder / path.name, follow_symlinks=False)
                names.add(path.name)
    file = f"{MODULE_NAME}.py"
    counter = 0
    while file in names:
        counter += 1
        file = f"{MODULE_NAME}_{counter}.py"
    (folder / file).write_text(source, encoding="utf-8")
    return file
