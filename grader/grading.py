"""Grading one submission against one rubric: every question becomes a result, never a crash."""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path
from typing import Any

from grader import __version__
from grader.checkers.base import MISSING, GradingContext, QuestionBase, Verdict, shorten
from grader.report import QuestionResult, Report, Status
from grader.rubric import LoadedRubric
from grader.submission import Submission, open_submission

log = logging.getLogger(__name__)


def grade_submission(
    loaded: LoadedRubric, sub: Submission, *, cache: dict[str, Any] | None = None
) -> Report:
    rubric = loaded.rubric
    ctx = rubric.context(sub.student, submission_root=sub.root, cache={} if cache is None else cache)
    if sub.error is None:
        _prepare_kinds(rubric.questions, sub.answers, ctx)
    results = [_grade_question(q, sub, ctx) for q in rubric.questions]
    warnings = [] if sub.error is None else [sub.error]
    known = {q.id for q in rubric.questions}
    unknown = sorted(set(sub.answers) - known)
    if unknown:
        warnings.append("answers for questions this assignment does not have: " + _listing(unknown))
    return Report.from_results(
        results,
        assignment=rubric.assignment,
        submission=sub.id,
        student=sub.student,
        grader_version=__version__,
        rubric_sha256=loaded.sha256,
        submission_sha256=sub.sha256,
        sandbox=ctx.sandbox_layer,
        randomised=any(getattr(q, "randomise", None) is not None for q in rubric.questions),
        warnings=warnings,
    )


def _listing(names: list[str], limit: int = 20) -> str:
    """Names a student chose, bounded for the report (an answers file may hold thousands)."""
    shown = ", ".join(shorten(name, 60) for name in names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def _prepare_kinds(questions: list[Any], answers: dict[str, Any], ctx: GradingContext) -> None:
    for kind in dict.fromkeys(type(q) for q in questions):
        try:
            kind.prepare_submission([q for q in questions if type(q) is kind], answers, ctx)
        except Exception:  # each question then reports its own failure when graded
            log.error("preparing %s questions failed:\n%s", kind.__name__, traceback.format_exc())


def _grade_question(q: QuestionBase, sub: Submission, ctx: GradingContext) -> QuestionResult:
    started = time.perf_counter()
    if sub.error is not None:
        verdict = Verdict(Status.INVALID, feedback=f"could not read your submission: {sub.error}")
    else:
        verdict = _safe_verdict(q, sub.answers.get(q.id, MISSING), ctx)
        _keep_typed(verdict, sub.answers.get(q.id, MISSING))
    score = round(q.points * verdict.credit, 6) if verdict.status is not Status.MANUAL else 0.0
    if getattr(q, "randomise", None) is not None and sub.error is None:
        verdict.details.setdefault("params", _student_params(q, ctx))
    return QuestionResult(
        id=q.id,
        score=score,
        max_score=q.points,
        status=verdict.status,
        feedback=verdict.feedback,
        hidden=q.hidden,
        answer=verdict.answer,
        expected=verdict.expected,
        mistake=verdict.mistake,
        details=verdict.details,
        costs={"check_seconds": round(time.perf_counter() - started, 4), **verdict.costs},
    )


def _keep_typed(verdict: Verdict, raw: Any) -> None:
    """The answer as the student typed it, when the shown (normalised) answer differs: the TA reads
    `sigma(z)*(1-sigma(z))`, not only `σ(z)(1 − σ(z))`."""
    if isinstance(raw, str) and verdict.answer is not None and "".join(raw.split()) != "".join(verdict.answer.split()):
        verdict.details.setdefault("typed", shorten(raw.strip(), 2000))


def _student_params(q: QuestionBase, ctx: GradingContext) -> dict[str, Any] | str:
    try:
        return q.reference_params_for(ctx)
    except ValueError as err:
        return f"no variant: {err}"


def _safe_verdict(q: QuestionBase, raw: Any, ctx: GradingContext) -> Verdict:
    try:
        return q.grade(raw, ctx)
    except Exception as err:  # a failure inside one check is a result (Otter's lesson)
        log.error("checking %s failed:\n%s", q.id, traceback.format_exc())
        return Verdict(
            Status.ERROR,
            feedback=f"the grader could not check this answer ({type(err).__name__}); "
            "please tell your instructor",
            details={"internal_error": f"{type(err).__name__}: {err}"},
        )


def grade_path(loaded: LoadedRubric, path: Path, *, cache: dict[str, Any] | None = None) -> Report:
    """Open a submission (folder, zip or answers file) and grade it."""
    with open_submission(path) as sub:
        return grade_submission(loaded, sub, cache=cache)
