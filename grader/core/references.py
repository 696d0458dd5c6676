"""`grader reference`: every question's parameters and its computed answer."""

from __future__ import annotations

from typing import Any

from grader.core.rubric import Rubric


def reference_answers(rubric: Rubric, student: str | None) -> dict[str, Any]:
    ctx = rubric.context(student)
    questions = {
        q.id: {"kind": q.kind, "params": q.reference_params_for(ctx), "answer": q.reference_answer(ctx)}
        for q in rubric.questions
    }
    return {"assignment": rubric.assignment, "student": student, "questions": questions}
