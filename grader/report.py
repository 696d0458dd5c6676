"""The report: one per submission, serialised only through these pydantic models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

REPORT_SCHEMA_VERSION = 1


class Status(StrEnum):
    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    MISSING = "missing"
    INVALID = "invalid"
    ERROR = "error"
    MANUAL = "manual"


class QuestionResult(BaseModel):
    id: str
    score: float
    max_score: float
    status: Status
    feedback: str = ""
    hidden: bool = False
    answer: str | None = Field(default=None, description="what the student gave, as read")
    expected: str | None = Field(default=None, description="the reference answer, for the TA")
    mistake: str | None = Field(default=None, description="name of the known mistake recognised")
    details: dict[str, Any] = Field(default_factory=dict)


class Report(BaseModel):
    schema_version: int = REPORT_SCHEMA_VERSION
    assignment: str
    submission: str
    student: str | None = None
    score: float
    max_score: float
    questions: list[QuestionResult]
    grader_version: str = ""
    rubric_sha256: str = ""
    submission_sha256: str = ""
    sandbox: str | None = None
    randomised: bool = Field(False, description="graded with this student's own parameters")
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def from_results(cls, results: list[QuestionResult], **fields: Any) -> Report:
        score = round(sum(r.score for r in results), 6)
        max_score = round(sum(r.max_score for r in results), 6)
        return cls(score=score, max_score=max_score, questions=results, **fields)
