"""What a notebook puts into a submission's answers, besides plain values, and how grading
settles it: a cell that could not be read, and code to extract for a code question.

Kept free of heavy imports: `grader.core.grading` imports it for every submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader.core.report import Status

if TYPE_CHECKING:
    from grader.checkers.base import QuestionBase, Verdict
    from grader.core.submission import Submission
    from grader.notebooks.extract import NotebookProgram


@dataclass(frozen=True)
class CellVerdict:
    """An answer cell that decides its question's verdict by itself (unreadable, a stub)."""

    status: Status
    feedback: str
    cell: int
    answer: str | None = None


@dataclass(frozen=True)
class NotebookCode:
    """A code question answered in a notebook: the function is extracted when it is graded,
    because only the rubric knows its name."""

    program: NotebookProgram
    cell: int | None  # the marked answer cell, if any


def question_answer(q: QuestionBase, sub: Submission) -> tuple[Any, Verdict | None]:
    """The raw answer of `q`, or the verdict a notebook cell already decided."""
    from grader.checkers.base import MISSING, Verdict

    raw = sub.answers.get(q.id, MISSING)
    function = getattr(q, "function", None)
    if raw is MISSING and sub.program is not None and isinstance(function, str):
        raw = NotebookCode(sub.program, None)  # no marked cell: the function may be anywhere
    if isinstance(raw, CellVerdict):
        return raw, Verdict(raw.status, feedback=raw.feedback, answer=raw.answer,
                            details={"notebook_cell": raw.cell})
    if isinstance(raw, NotebookCode) and not isinstance(function, str):
        where = f"cell {raw.cell} of {raw.program.notebook}"
        return raw, Verdict(Status.INVALID, answer=f"code in {where}", details={"notebook_cell": raw.cell},
                            feedback=f"your answer in {where} is code; this question wants a single value: "
                            f"write just the value in that cell ({q.answer_hint})")
    return raw, None
