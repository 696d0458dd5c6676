"""Text for people: the student's self-check (the answers template is in grader/student/template.py)."""

from __future__ import annotations

import textwrap
from typing import Any

from grader.core.names import for_terminal
from grader.core.report import QuestionResult, Report, Status, points_text

_MARKS = {
    Status.CORRECT: ("✓", "green"), Status.PARTIAL: ("~", "yellow"), Status.INCORRECT: ("✗", "red"),
    Status.MISSING: ("·", "red"), Status.INVALID: ("!", "magenta"), Status.ERROR: ("!", "magenta"),
    Status.MANUAL: ("?", "blue"),
}


def points(value: float) -> str:
    """Points as people write them: 7.5, 16.83, 100."""
    return points_text(value)


UNREADABLE = "could not read your submission: "


def _self_check(q: QuestionResult) -> str | None:
    """`format` or `none` for a student bundle's question that reveals no verdict."""
    policy = q.details.get("self_check")
    return policy if policy in ("format", "none") else None


def shown_questions(report: Report) -> list[QuestionResult]:
    """What a self-check shows: visible questions, and hidden ones a bundle checks for form."""
    return [q for q in report.questions if not q.hidden or _self_check(q) == "format"]


def judged_questions(shown: list[QuestionResult]) -> list[QuestionResult]:
    """The shown questions whose verdict counts in the self-check's total."""
    return [q for q in shown if not q.hidden and _self_check(q) is None]


def status_label(q: QuestionResult) -> str:
    return _LABELS.get((_self_check(q), q.status), q.status.value)


def shown_score(q: QuestionResult) -> str:
    return "-" if q.status is Status.MANUAL or _self_check(q) is not None else points(q.score)


def render_check(report: Report, *, color: bool = False) -> str:
    import click

    shown = shown_questions(report)
    hidden = sum(1 for q in report.questions if q.hidden and q not in shown)
    width = max((len(q.id) for q in shown), default=10)
    lines = [for_terminal(f"Self-check of {report.submission} for {report.assignment}"), ""]
    unreadable = _unreadable_message(shown)
    if unreadable is not None:  # said once, not once per question
        lines += [*(for_terminal(c) for c in textwrap.wrap(unreadable[:1].upper() + unreadable[1:], 92)), "",
                  "Questions, none of them graded:"]
    for q in shown:
        mark, hue = _MARKS[q.status]
        head = f"{mark} {q.id:<{width}}  {shown_score(q):>5} / {points(q.max_score):<5} {status_label(q):<9}"
        lines.append(click.style(head, fg=hue) if color else head)
        if unreadable is None:  # feedback quotes the student's answer
            lines += [" " * 4 + for_terminal(chunk) for chunk in textwrap.wrap(q.feedback, 88)]
    lines += ["", *totals(judged_questions(shown))]
    formal = sum(1 for q in shown if _self_check(q) is not None)
    if formal:
        lines.append(f"{formal} question(s) are only checked for form here; they are graded after the deadline.")
    if hidden:
        lines.append(f"{hidden} hidden question(s) are graded after the deadline and not shown here.")
    said = unreadable[len(UNREADABLE):] if unreadable else None  # the submission's own error
    lines += [for_terminal(f"warning: {w}") for w in report.warnings if w != said]
    return "\n".join(lines)


_LABELS: dict[tuple[str | None, Status], str] = {
    ("format", Status.MANUAL): "readable", ("none", Status.MANUAL): "unchecked",
}


def _unreadable_message(visible: list[Any]) -> str | None:
    """The one message of a submission that could not be read at all (its every question says it)."""
    messages = {q.feedback for q in visible}
    if len(messages) != 1 or not all(q.status is Status.INVALID for q in visible):
        return None
    message = messages.pop()
    return message if message.startswith(UNREADABLE) else None


def totals(judged: list[Any]) -> list[str]:
    """Out of every judged visible point, whatever was answered: the total does not move when a
    question graded by a person is left blank."""
    got = sum(q.score for q in judged)
    lines = [f"Visible questions: {points(got)} / {points(sum(q.max_score for q in judged))} points"]
    manual = [q for q in judged if q.status is Status.MANUAL]
    if manual:
        lines.append(f"{len(manual)} question(s) worth {points(sum(q.max_score for q in manual))} points "
                     "are graded by a person later.")
    return lines
