"""The answers template a student fills in: question texts, neutral format hints (grader/checkers/hints.py)
and, for a randomised assignment, the student's own numbers and `student_id`.

Kept apart from the command line so that other front ends (a notebook template) reuse it."""

from __future__ import annotations

import string
import textwrap
from dataclasses import dataclass
from typing import Any

from grader.checkers.base import GradingContext, QuestionBase
from grader.checkers.hints import hint_for
from grader.core.rubric import Rubric


class TemplateNeedsStudent(ValueError):
    """A randomised assignment's template is per student."""


def is_randomised(rubric: Rubric) -> bool:
    return any(q.randomise is not None for q in rubric.questions)


def needs_student_message(assignment: str) -> str:
    return (f"{assignment} gives every student their own numbers: run "
            f"`grader template {assignment} --student YOUR_ID` with the id your course uses")


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
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        return q.text


@dataclass(frozen=True)
class TemplateEntry:
    """One question as a template shows it."""

    id: str
    heading: str
    text: str | None
    hint: str


def template_entries(rubric: Rubric, student: str | None,
                     texts: dict[str, str] | None = None) -> list[TemplateEntry]:
    """Each question's heading, text (the student's numbers filled in) and neutral format hint.
    `texts` replaces computed texts (a student bundle ships its texts already filled in)."""
    if student is None and is_randomised(rubric):
        raise TemplateNeedsStudent(needs_student_message(rubric.assignment))
    ctx = rubric.context(student)
    entries = []
    for q in rubric.questions:
        text = texts.get(q.id) if texts is not None else question_text(q, ctx)
        hint = hint_for(q, None if rubric.student_bundle and q.self_check_policy != "verdict" else ctx)
        entries.append(TemplateEntry(q.id, f"{q.title or q.id} ({q.points:g} points)", text, hint.text))
    return entries


def render_template(rubric: Rubric, student: str | None, *, check_with: str | None = None,
                    texts: dict[str, str] | None = None) -> str:
    """The answers file (YAML with comments). `check_with` is what `grader check -a` takes."""
    lines = [
        f"# {rubric.assignment}: {rubric.title}".rstrip(": "),
        "# Fill in each answer after its colon; quote text that contains ':' or '#'.",
        f"# Check it any time with: grader check <this file> -a {check_with or rubric.assignment}",
    ]
    if student:
        lines.append(f"student_id: {student}")
    for entry in template_entries(rubric, student, texts):
        lines += ["", f"# {entry.heading}"]
        if entry.text:
            lines += ["# " + chunk for chunk in textwrap.wrap(entry.text, 96)]
        lines += [f"# Answer: {entry.hint}", f"{entry.id}:"]
    return "\n".join(lines)
