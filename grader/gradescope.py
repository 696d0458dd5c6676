"""Gradescope's autograder `results.json`, produced from a report through pydantic.

The autograder's own spec: a top-level `score` (which Gradescope takes over the tests' sum),
`execution_time` in seconds, `output`, `visibility`, `stdout_visibility`, `extra_data`, and
`tests`, each with `name`, `number`, `score`, `max_score`, `status` (`passed`/`failed`),
`output`, `tags` and `visibility` (`hidden`, `after_due_date`, `after_published`, `visible`).

Hidden questions are `after_published`: students see them once the TA publishes grades. A
question graded by a person is listed with `max_score` 0 until an override scores it: its points
belong to the Gradescope questions the TA grades by hand, not to the autograder's.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from grader.report import QuestionResult, Report, Status, points_text

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
MAX_OUTPUT = 8_000


class GradescopeTest(BaseModel):
    name: str
    number: str
    score: float
    max_score: float
    status: Literal["passed", "failed"] | None = None
    output: str
    visibility: Visibility
    tags: list[str] = Field(default_factory=list)
    extra_data: dict[str, Any] | None = None


class GradescopeResults(BaseModel):
    score: float
    execution_time: float | None = None
    output: str
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    extra_data: dict[str, Any] | None = None
    tests: list[GradescopeTest]


def to_gradescope(
    report: Report, execution_time: float | None = None, *, titles: dict[str, str] | None = None,
) -> GradescopeResults:
    titles = titles or {}
    tests = [_test(q, i, titles.get(q.id)) for i, q in enumerate(report.questions)]
    return GradescopeResults(
        score=report.score,
        execution_time=None if execution_time is None else round(execution_time, 3),
        output=_summary(report),
        extra_data={
            "assignment": report.assignment, "submission": report.submission,
            "grader_version": report.grader_version, "rubric_sha256": report.rubric_sha256,
            "submission_sha256": report.submission_sha256,
        },
        tests=tests,
    )


def _test(q: QuestionResult, index: int, title: str | None) -> GradescopeTest:
    by_person = q.status is Status.MANUAL and q.override is None
    output = f"[{q.status.value}] {q.feedback}"
    if by_person:
        output = f"[{q.status.value}] graded by a person after the deadline ({q.max_score:g} points)"
    if q.override is not None and q.automatic is not None:
        output += f"\n(the grader's own verdict: {q.automatic.status.value}, {q.automatic.score:g} points)"
    if title:
        output = f"{title}\n{output}"
    return GradescopeTest(
        name=q.id,
        number=str(index + 1),
        score=q.score,
        max_score=0.0 if by_person else q.max_score,
        status=None if by_person else "passed" if q.status is Status.CORRECT else "failed",
        output=_cap(output),
        visibility="after_published" if q.hidden else "visible",
        tags=[q.status.value] + ([q.mistake] if q.mistake else []),
    )


def _summary(report: Report) -> str:
    manual = [q for q in report.questions if q.status is Status.MANUAL and q.override is None]
    automatic = report.max_score - sum(q.max_score for q in manual)
    lines = [f"{report.assignment}: {points_text(report.score)} / {points_text(automatic)} "
             "points graded automatically"]
    if manual:
        lines.append(f"{len(manual)} question(s) worth {sum(q.max_score for q in manual):g} points are graded "
                     "by a person later")
    hidden = sum(1 for q in report.questions if q.hidden)
    if hidden:
        lines.append(f"{hidden} hidden question(s) are shown once grades are published")
    lines += [f"warning: {w}" for w in report.warnings]
    return _cap("\n".join(lines))


def _cap(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else text[: MAX_OUTPUT - 1] + "…"
