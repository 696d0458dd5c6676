"""Text for people: the student's self-check and the answers template."""

from __future__ import annotations

import string
import textwrap
from typing import Any

from grader.checkers.base import GradingContext, QuestionBase
from grader.names import for_terminal
from grader.report import Report, Status
from grader.rubric import Rubric

_MARKS = {
    Status.CORRECT: ("✓", "green"), Status.PARTIAL: ("~", "yellow"), Status.INCORRECT: ("✗", "red"),
    Status.MISSING: ("·", "red"), Status.INVALID: ("!", "magenta"), Status.ERROR: ("!", "magenta"),
    Status.MANUAL: ("?", "blue"),
}


def points(value: float) -> str:
    """Points as people write them: 7.5, 16.83, 100."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_check(report: Report, *, color: bool = False) -> str:
    import click

    visible = [q for q in report.questions if not q.hidden]
    hidden = len(report.questions) - len(visible)
    width = max((len(q.id) for q in visible), default=10)
    lines = [for_terminal(f"Self-check of {report.submission} for {report.assignment}"), ""]
    for q in visible:
        mark, hue = _MARKS[q.status]
        score = "-" if q.status is Status.MANUAL else points(q.score)
        head = f"{mark} {q.id:<{width}}  {score:>5} / {points(q.max_score):<5} {q.status.value:<9}"
        lines.append(click.style(head, fg=hue) if color else head)
        for chunk in textwrap.wrap(q.feedback, 88):  # feedback quotes the student's answer
            lines.append(" " * 4 + for_terminal(chunk))
    got = sum(q.score for q in visible)
    out_of = sum(q.max_score for q in visible if q.status is not Status.MANUAL)
    lines += ["", f"Visible questions: {points(got)} / {points(out_of)} points"]
    manual = sum(1 for q in visible if q.status is Status.MANUAL)
    if manual:
        lines.append(f"{manual} question(s) are graded by a person later.")
    if hidden:
        lines.append(f"{hidden} hidden question(s) are graded after the deadline and not shown here.")
    lines += [for_terminal(f"warning: {w}") for w in report.warnings]
    return "\n".join(lines)


class _KeepUnknown(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def question_text(q: QuestionBase, ctx: GradingContext) -> str | None:
    """The question's text with the student's parameters filled in."""
    if q.text is None:
        return None
    params = _KeepUnknown(q.reference_params_for(ctx))
    try:
        return string.Formatter().vformat(q.text, (), params)
    except (ValueError, IndexError):
        return q.text


def render_template(rubric: Rubric, student: str | None) -> str:
    ctx = rubric.context(student)
    lines = [
        f"# {rubric.assignment}: {rubric.title}".rstrip(": "),
        "# Fill in each answer after its colon; quote text that contains ':' or '#'.",
        f"# Check it any time with: grader check <this file> -a {rubric.assignment}",
    ]
    if student:
        lines.append(f"student_id: {student}")
    for q in rubric.questions:
        lines += ["", f"# {q.title or q.id} ({q.points:g} points)"]
        text = question_text(q, ctx)
        if text:
            lines += ["# " + chunk for chunk in textwrap.wrap(text, 96)]
        lines += [f"# Answer: {q.answer_hint}", f"{q.id}:"]
    return "\n".join(lines)
