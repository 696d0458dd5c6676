"""Shared by the question-kind tests: build a question from rubric data and grade one answer."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from grader.checkers import Question
from grader.checkers.base import GradingContext, Verdict

ADAPTER: TypeAdapter[Any] = TypeAdapter(Question)


def question(data: dict[str, Any]) -> Any:
    return ADAPTER.validate_python({"id": "q", "points": 10, **data})


def grade(data: dict[str, Any], raw: Any, **ctx: Any) -> Verdict:
    verdict: Verdict = question(data).grade(raw, GradingContext(submission_root=None, student="s", **ctx))
    return verdict
