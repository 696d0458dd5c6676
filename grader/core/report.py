"""The report: one per submission, serialised only through these pydantic models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

REPORT_SCHEMA_VERSION = 1


def points_text(value: float) -> str:
    """Points as people read them: 7.5, 36.83, 100 (reports keep the full precision)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class Status(StrEnum):
    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    MISSING = "missing"
    INVALID = "invalid"
    ERROR = "error"
    MANUAL = "manual"


class AutomaticVerdict(BaseModel):
    """What the grader decided, kept next to a TA's override."""

    score: float
    status: Status
    feedback: str = ""


class OverrideRecord(BaseModel):
    """A TA's decision on one question (from an overrides file)."""

    score: float
    comment: str = ""
    source: str = Field("", description="the overrides file and entry it came from")
    answer: str | None = Field(None, description="the answer a group override targeted")


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
    costs: dict[str, float] = Field(
        default_factory=dict, description="where the time went (seconds, megabytes); differs between runs")
    automatic: AutomaticVerdict | None = Field(
        default=None, description="the grader's own verdict, set when an override replaced it")
    override: OverrideRecord | None = None


class SubmissionSource(BaseModel):
    """Where a batch found the submission, and the digest that decides whether to regrade it."""

    path: str = Field(description="relative to the batch root, or the LMS export's key")
    default_id: str | None = Field(
        default=None, description="the id its file, folder or LMS name gives it, before any student_id claim")
    sha256: str = Field(description="digest of the files as found, before unzipping")
    layout: Literal["plain", "canvas", "gradescope"] = "plain"
    lms_user_id: str | None = None
    lms_submission_id: str | None = None
    name: str | None = None
    email: str | None = None
    sid: str | None = None
    late: bool | None = None


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
    seeds: dict[str, int] = Field(
        default_factory=dict, description="question id -> the seed its checker drew inputs with")
    source: SubmissionSource | None = None
    graded_at: str | None = Field(default=None, description="UTC time of grading (batch reports)")
    failure: str | None = Field(
        default=None, description="why grading the whole submission failed (crash, time limit)")
    automatic_score: float | None = Field(
        default=None, description="the score before overrides, set when an override applies")

    def stable_dump(self) -> dict[str, Any]:
        """The report as JSON data without what differs from run to run (the time it was graded
        and measured costs): regrading unchanged input gives the same stable dump."""
        data = self.model_dump(mode="json", exclude={"graded_at"})
        for question in data["questions"]:
            question.pop("costs", None)
        return data

    @classmethod
    def from_results(cls, results: list[QuestionResult], **fields: Any) -> Report:
        score = round(sum(r.score for r in results), 6)
        max_score = round(sum(r.max_score for r in results), 6)
        fields.setdefault("seeds", collect_seeds(results))
        return cls(score=score, max_score=max_score, questions=results, **fields)


def question_seeds(questions: list[Any]) -> dict[str, int]:
    """The seeds rubric questions declare (a `seed` field, as code questions have), by question."""
    return {q.id: q.seed for q in questions
            if isinstance(getattr(q, "seed", None), int) and not isinstance(q.seed, bool)}


def collect_seeds(results: list[QuestionResult]) -> dict[str, int]:
    """The seeds checkers recorded in their details (`details["seed"]`), by question."""
    return {r.id: int(r.details["seed"]) for r in results
            if isinstance(r.details.get("seed"), int) and not isinstance(r.details["seed"], bool)}
