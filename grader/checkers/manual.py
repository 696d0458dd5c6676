"""Free-text answers kept for a person to grade."""

from __future__ import annotations

from typing import Any, Literal

from grader.checkers.base import GradingContext, QuestionBase, Verdict, is_blank
from grader.core.report import Status

MAX_TEXT = 20_000


class ManualQuestion(QuestionBase):
    kind: Literal["manual"] = "manual"

    answer_hint = "free text, graded by a person"

    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        if is_blank(raw):
            return Verdict(Status.MISSING, feedback="no answer was given")
        text = raw if isinstance(raw, str) else str(raw)
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT] + "…"
        return Verdict(Status.MANUAL, feedback="kept for a person to grade", answer=text)
