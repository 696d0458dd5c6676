"""The messages between the grader and its math worker: one JSON line each way per request."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ScalarSpace(BaseModel):
    variables: dict[str, tuple[float, float]]
    definitions: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    domain: dict[str, tuple[float | None, float | None]] = Field(default_factory=dict)


class MathRequest(BaseModel):
    kind: Literal["scalar", "matrix", "reference", "depends"]
    answer: str = ""
    candidates: list[str] = Field(default_factory=list)
    space: ScalarSpace | None = None
    world: dict[str, Any] | None = None  # a WorldSpec as data
    symbolic: bool = True  # accepted for old callers; the decision never waits on sympy
    function: str = ""  # kind "reference": a reference function and its params
    params: dict[str, Any] = Field(default_factory=dict)


class CandidateResult(BaseModel):
    outcome: str  # equal | different | undecided | transposed | shape | undefined
    method: str = ""
    reason: str = ""
    point: dict[str, float] | None = None
    got: float | None = None
    relative_gap: float | None = None
    factor: float | None = None
    proved: bool = False


class MathResponse(BaseModel):
    status: Literal["ok", "invalid", "shape_error", "timeout", "crashed"]
    message: str = ""
    results: list[CandidateResult] = Field(default_factory=list)
    value: str | None = None  # kind "reference": the answer as JSON text
    seconds: float = 0.0
