"""A literal answer: what `answer:` in a rubric becomes when nothing computes it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reference.registry import reference

LITERAL = "literal"


class LiteralParams(BaseModel):
    """The answer as written in the rubric (as a student would write it); any other params are the
    question's declarations (a matrix expression's `symbols`, `dims`, ...)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    answer: Any = Field(description="the answer, written as a student would write it")


@reference(LITERAL, LiteralParams)
def literal(params: LiteralParams) -> Any:
    """The rubric's literal answer itself (parsed by the question like a student's answer)."""
    return params.answer
