"""The student's notebook for an assignment: each question's text (with the student's own
numbers when the assignment is randomised), its marked answer cell, a check cell, and a last
cell that checks everything. Cell ids are fixed, so the same command writes the same file."""

from __future__ import annotations

import re
from typing import Any, Literal

from grader.checkers.base import GradingContext, QuestionBase
from grader.core.rubric import Rubric
from grader.notebooks.reader import PLACEHOLDER

# kinds whose answers read naturally as text: a Markdown cell; the rest get a code cell
MARKDOWN_KINDS = frozenset({"manual", "expression", "matrix_expression", "interval", "choice"})


def is_randomised(rubric: Rubric) -> bool:
    return any(getattr(q, "randomise", None) is not None for q in rubric.questions)


def template_command(rubric: Rubric, student: str | None, assignment: str) -> str:
    """`grader template ASSIGNMENT --format ipynb`: a randomised assignment needs the student."""
    if student is None and is_randomised(rubric):
        from grader.cli.common import fail_usage

        fail_usage(f"{assignment} gives every student their own numbers: add --student YOUR_ID")
    return render_notebook(rubric, student, assignment)


def render_notebook(rubric: Rubric, student: str | None, assignment: str) -> str:
    """The notebook as JSON text; `assignment` is how its check cell names the assignment."""
    import nbformat

    ctx = rubric.context(student)
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["grader"] = {"assignment": rubric.assignment, "student": student}
    nb.cells = [*_preamble(rubric, student, assignment)]
    for q in rubric.questions:
        nb.cells += _question_cells(q, ctx)
    nb.cells += [
        _markdown("check-all-title", "## Check everything\n\nSave the notebook first: the check reads the "
                  "saved file, which is what you hand in. Hidden questions are counted, not shown."),
        _code("check-all", "check.all()"),
    ]
    return str(nbformat.writes(nb))  # type: ignore[no-untyped-call]


def _preamble(rubric: Rubric, student: str | None, assignment: str) -> list[Any]:
    title = f"# {rubric.assignment}: {rubric.title}".rstrip(": ")
    how = (
        "Answer each question in the cell marked `answer: <question id>` below it: a Markdown cell "
        "for text and formulas (`$...$` is fine), a code cell for a number, a list or a mapping "
        "(one value, e.g. `[3, 4]`), and the function itself for a code question. Keep the first "
        "line of each answer cell. Nothing in this notebook is run by the grader: it reads the "
        "answer cells, and takes from your code only the function a code question asks for, with "
        "the imports, helpers and constants it uses. Save model files next to this notebook.\n\n"
        "`check(...)` reads this notebook **as saved**: save it (Ctrl+S) before checking."
    )
    cells = [_markdown("title", f"{title}\n\n{how}"),
             _code("setup", f"from grader.notebook import Checker\n\ncheck = Checker({assignment!r})")]
    if student:
        cells.append(_code("student-id", f"# answer: student_id\n{student!r}"))
    return cells


def _question_cells(q: QuestionBase, ctx: GradingContext) -> list[Any]:
    from grader.student.template import question_text

    head = f"## {q.title or q.id} ({q.points:g} points)"
    text = question_text(q, ctx)
    cells = [_markdown(f"{q.id}-text", f"{head}\n\n{text}" if text else head), _answer_cell(q, ctx)]
    if q.kind != "manual":
        cells.append(_code(f"{q.id}-check", f"check({q.id!r})"))
    return cells


def _answer_cell(q: QuestionBase, ctx: GradingContext) -> Any:
    """The marked answer cell, with the neutral format hint the answers template shows (never an
    answer: grader/checkers/hints.py)."""
    from grader.checkers.hints import hint_for

    hint = hint_for(q, ctx).text
    cell_id = f"{q.id}-answer"
    if q.kind == "code":
        return _code(cell_id, f"# answer: {q.id}\n{_stub(q)}")
    if q.kind in MARKDOWN_KINDS:
        return _markdown(cell_id, f"<!-- answer: {q.id} -->\n<!-- your answer: {hint} -->\n{PLACEHOLDER}")
    return _code(cell_id, f"# answer: {q.id}\n# your answer: {hint}\n")


def _stub(q: QuestionBase) -> str:
    function = getattr(q, "function", "solution")
    args = ", ".join(i.name for i in getattr(q, "inputs", []))
    doc = (q.text or q.title or "").replace('"""', "'''").replace("\\", "\\\\")
    return f'import numpy as np\n\n\ndef {function}({args}):\n    """{doc}"""\n    raise NotImplementedError\n'


def _markdown(cell_id: str, source: str) -> Any:
    return _cell("markdown", cell_id, source)


def _code(cell_id: str, source: str) -> Any:
    return _cell("code", cell_id, source)


def _cell(kind: Literal["markdown", "code"], cell_id: str, source: str) -> Any:
    """A cell with a fixed id, tagged `answer:<id>` when its first line marks an answer."""
    import nbformat

    new_cell = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = new_cell(source)  # type: ignore[no-untyped-call]
    cell.id = _cell_id(cell_id)
    if (marker := _answer_of(source)) is not None:
        cell.metadata["tags"] = [f"answer:{marker}"]
    return cell


def _answer_of(source: str) -> str | None:
    match = re.match(r"^(?:# |<!-- )answer: ([A-Za-z0-9_.-]+)", source)
    return match.group(1) if match else None


def _cell_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:64]
