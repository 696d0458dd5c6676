"""Gradescope's autograder `results.json`, produced from a report through pydantic.

The autograder's own spec: a top-level `score` (which Gradescope takes over the tests' sum),
`execution_time` in seconds, `output`, `visibility`, `stdout_visibility`, `extra_data`, and
`tests`, each with `name`, `number`, `score`, `max_score`, `status` (`passed`/`failed`),
`output`, `tags` and `visibility` (`hidden`, `after_due_date`, `after_published`, `visible`).

Every output is `output_format: "text"` (and names `name_format: "text"`): student text (an
answer, an unknown answer key echoed in a warning) reaches these fields, and Gradescope renders
the default formats as HTML or Markdown.

Hidden questions are `after_published`: students see them once the TA publishes grades. A
question graded by a person (a `manual` question, answered or blank) is pending until an override
scores it, and always shown the same way: a test named "... (graded by a person)" with no `score`,
`max_score` or `status` (Gradescope infers passed/failed from the scores, so none is given) and an
output saying how many points are pending. Its points belong to the Gradescope questions the TA
grades by hand, not to the autograder's; the top-level score is the automatic points.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from grader.core.report import QuestionResult, Report, Status, points_text

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
MAX_OUTPUT = 8_000


TextFormat = Literal["text"]
PENDING_TAG = "graded by a person"


class GradescopeTest(BaseModel):
    name: str
    name_format: TextFormat = "text"
    number: str
    score: float | None = None
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = None
    output: str
    output_format: TextFormat = "text"
    visibility: Visibility
    tags: list[str] = Field(default_factory=list)
    extra_data: dict[str, Any] | None = None


class GradescopeResults(BaseModel):
    score: float
    execution_time: float | None = None
    output: str
    output_format: TextFormat = "text"
    test_output_format: TextFormat = "text"
    test_name_format: TextFormat = "text"
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    extra_data: dict[str, Any] | None = None
    tests: list[GradescopeTest]


def to_gradescope(
    report: Report, execution_time: float | None = None, *, titles: dict[str, str] | None = None,
    by_person: set[str] | None = None,
) -> GradescopeResults:
    """`by_person`: the ids of the questions a person grades (the rubric's manual questions)."""
    titles = titles or {}
    pending = {q.id for q in report.questions if _is_pending(q, by_person or set())}
    tests = [_test(q, i, titles.get(q.id), q.id in pending) for i, q in enumerate(report.questions)]
    return GradescopeResults(
        score=report.score,
        execution_time=None if execution_time is None else round(execution_time, 3),
        output=_summary(report, pending),
        extra_data={
            "assignment": report.assignment, "submission": report.submission,
            "grader_version": report.grader_version, "rubric_sha256": report.rubric_sha256,
            "submission_sha256": report.submission_sha256, "sandbox": report.sandbox,
        },
        tests=tests,
    )


def _is_pending(q: QuestionResult, by_person: set[str]) -> bool:
    return q.override is None and (q.status is Status.MANUAL or q.id in by_person)


def _test(q: QuestionResult, index: int, title: str | None, pending: bool) -> GradescopeTest:
    if pending:
        answered = "answered" if q.status is Status.MANUAL else "no answer given"
        return GradescopeTest(
            name=f"{q.id} ({PENDING_TAG})", number=str(index + 1),
            output=_cap(f"{title + chr(10) if title else ''}{PENDING_TAG} after the deadline: "
                        f"{q.max_score:g} points pending ({answered})"),
            visibility="after_published" if q.hidden else "visible", tags=[PENDING_TAG],
        )
    output = f"[{q.status.value}] {q.feedback}"
    if q.override is not None and q.automatic is not None:
        output += f"\n(the grader's own verdict: {q.automatic.status.value}, {q.automatic.score:g} points)"
    if title:
        output = f"{title}\n{output}"
    return GradescopeTest(
        name=q.id,
        number=str(index + 1),
        score=q.score,
        max_score=q.max_score,
        status="passed" if q.status is Status.CORRECT else "failed",
        output=_cap(output),
        visibility="after_published" if q.hidden else "visible",
        tags=[q.status.value] + ([q.mistake] if q.mistake else []),
    )


def _summary(report: Report, pending: set[str]) -> str:
    manual = [q for q in report.questions if q.id in pending]
    automatic = report.max_score - sum(q.max_score for q in manual)
    lines = [f"{report.assignment}: {points_text(report.score)} / {points_text(automatic)} points graded automatically"]
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
