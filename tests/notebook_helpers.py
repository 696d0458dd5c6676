"""Notebooks for the tests, written with nbformat: templates filled cell by cell, and hand-made ones."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import nbformat

from grader.core.builtins import resolve_assignment
from grader.core.rubric import load_rubric
from grader.notebooks.template import render_notebook


def template(assignment: str, student: str | None = None) -> Any:
    rubric = load_rubric(resolve_assignment(assignment)).rubric
    return nbformat.reads(render_notebook(rubric, student, assignment), as_version=4)


def answer_cell(nb: Any, question: str) -> Any:
    return next(c for c in nb.cells if f"answer:{question}" in c.metadata.get("tags", []))


def fill(nb: Any, question: str, body: str) -> None:
    """Replace what follows the marker line of the question's answer cell."""
    cell = answer_cell(nb, question)
    cell.source = cell.source.splitlines()[0] + "\n" + body


def cell_text(value: Any, markdown: bool) -> str:
    """An answer as a student would type it: text in a Markdown cell, a literal in a code cell."""
    if markdown:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return literal(value)


def literal(value: Any) -> str:
    """Python source for a value; a Decimal keeps the digits an answers file wrote."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def fill_answers(nb: Any, answers: dict[str, Any], root: Path | None = None) -> None:
    """Answers as an answers file gives them; code files named by an answer go into the cell."""
    for question, value in answers.items():
        cell = answer_cell(nb, question)
        if isinstance(value, str) and value.endswith(".py") and root is not None:
            fill(nb, question, (root / value).read_text())
        else:
            fill(nb, question, cell_text(value, cell.cell_type == "markdown"))


def notebook(*cells: tuple[str, str] | tuple[str, str, list[str]]) -> Any:
    """A notebook of (kind, source[, tags]) cells."""
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        kind, source = cell[0], cell[1]
        made = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        if len(cell) > 2:
            made.metadata["tags"] = cell[2]  # type: ignore[misc]
        nb.cells.append(made)
    return nb


def save(nb: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
