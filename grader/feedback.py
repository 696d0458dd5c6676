"""Text for people: the student's self-check and the answers template."""

from __future__ import annotations

import string
import textwrap
from typing import Any

from grader.checkers.base import GradingContext, QuestionBase
from grader.report import Report, Status, points_text
from grader.rubric import Rubric

_MARKS = {
    Status.CORRECT: ("✓", "green"), Status.PARTIAL: ("~", "yellow"), Status.INCORRECT: ("✗", "red"),
    Status.MISSING: ("·", "red"), Status.INVALID: ("!", "magenta"), Status.ERROR: ("!", "magenta"),
    Status.MANUAL: ("?", "blue"),
}


def points(value: float) -> str:
    """Points as people write them: 7.5, 16.83, 100."""
    return points_text(value)


UNREADABLE = "could not read your submission: "


def render_check(report: Report, *, color: bool = False) -> str:
    import click

    visible = [q for q in report.questions if not q.hidden]
    hidden = len(report.questions) - len(visible)
    width = max((len(q.id) for q in visible), default=10)
    lines = [f"Self-check of {report.submission} for {report.assignment}", ""]
    unreadable = _unreadable_message(visible)
    if unreadable is not None:  # said once, not once per question
        lines += [*textwrap.wrap(unreadable.capitalize()[:1] + unreadable[1:], 92), "",
                  "Questions, none of them graded:"]
    for q in visible:
        mark, hue = _MARKS[q.status]
        score = "-" if q.status is Status.MANUAL else points(q.score)
        head = f"{mark} {q.id:<{width}}  {score:>5} / {points(q.max_score):<5} {q.status.value:<9}"
        lines.append(click.style(head, fg=hue) if color else head)
        if unreadable is None:
            lines += [" " * 4 + chunk for chunk in textwrap.wrap(q.feedback, 88)]
    lines += ["", *_totals(visible)]
    if hidden:
        lines.append(f"{hidden} hidden question(s) are graded after the deadline and not shown here.")
    said = unreadable[len(UNREADABLE):] if unreadable else None  # the submission's own error
    lines += [f"warning: {w}" for w in report.warnings if w != said]
    return "\n".join(lines)


def _unreadable_message(visible: list[Any]) -> str | None:
    """The one message of a submission that could not be read at all (its every question says it)."""
    messages = {q.feedback for q in visible}
    if len(messages) != 1 or not all(q.status is Status.INVALID for q in visible):
        return None
    message = messages.pop()
    return message if message.startswith(UNREADABLE) else None


def _totals(visible: list[Any]) -> list[str]:
    """Out of every visible point, whatever was answered: the total does not move when a question
    graded by a person is left blank."""
    got = sum(q.score for q in visible)
    lines = [f"Visible questions: {points(got)} / {points(sum(q.max_score for q in visible))} points"]
    manual = [q for q in visible if q.status is Status.MANUAL]
    if manual:
        lines.append(f"{len(manual)} question(s) worth {points(sum(q.max_score for q in manual))} points "
                     "are graded by a person later.")
    return lines


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
