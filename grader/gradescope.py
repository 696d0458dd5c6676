"""Gradescope's autograder `results.json`, produced from a report through pydantic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from grader.report import Report, Status

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class GradescopeTest(BaseModel):
    name: str
    number: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    visibility: Visibility
    tags: list[str] = []


class GradescopeResults(BaseModel):
    score: float
    execution_time: float | None = None
    output: str
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    tests: list[GradescopeTest]


def to_gradescope(report: Report, execution_time: float | None = None) -> GradescopeResults:
    tests = [
        GradescopeTest(
            name=q.id,
            number=str(i + 1),
            score=q.score,
            max_score=q.max_score,
            status="passed" if q.status is Status.CORRECT else "failed",
            output=f"[{q.status.value}] {q.feedback}",
            visibility="after_published" if q.hidden else "visible",
            tags=[q.status.value] + ([q.mistake] if q.mistake else []),
        )
        for i, q in enumerate(report.questions)
    ]
    manual = sum(1 for q in report.questions if q.status is Status.MANUAL)
    summary = f"{report.assignment}: {report.score:g} / {report.max_score:g} points"
    if manual:
        summary += f"; {manual} question(s) are graded by a person later"
    return GradescopeResults(score=report.score, execution_time=execution_time, output=summary, tests=tests)
