"""Grading one submission against one rubric: every question becomes a result, never a crash."""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path
from typing import Any

from grader import __version__
from grader.checkers.base import GradingContext, QuestionBase, Verdict, shorten
from grader.core.report import QuestionResult, Report, Status
from grader.core.rubric import LoadedRubric
from grader.core.submission import Submission, open_submission
from grader.notebooks.values import question_answer

log = logging.getLogger(__name__)


def grade_submission(
    loaded: LoadedRubric, sub: Submission, *, cache: dict[str, Any] | None = None,
    require_student_id: bool = False,
) -> Report:
    """`require_student_id` (self-checks): a randomised question is not graded against an id taken
    from the file name, only against the `student_id` the answers file gives."""
    rubric = loaded.rubric
    ctx = rubric.context(sub.student, submission_root=sub.root, cache={} if cache is None else cache)
    no_id = require_student_id and sub.error is None and not sub.student_id_given
    if sub.error is None:
        _prepare_kinds(rubric.questions, sub.answers, ctx)
    results = [_no_student_id(q, rubric.assignment) if no_id and q.randomise is not None
               else _grade_question(q, sub, ctx) for q in rubric.questions]
    warnings = [*sub.warnings, *([] if sub.error is None else [sub.error])]
    if no_id and any(q.randomise is not None for q in rubric.questions):
        warnings.append(f"your answers file has no student_id; {rubric.assignment} gives every student their "
                        "own numbers, so its randomised questions were not checked")
    known = {q.id for q in rubric.questions}
    unknown = sorted(set(sub.answers) - known)
    if unknown:
        warnings.append("answers for questions this assignment does not have: "
                        + _listing([_with_guess(name, known) for name in unknown[:20]] + unknown[20:]))
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
    shown = ", ".join(shorten(name, 100) for name in names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def _with_guess(name: str, known: set[str]) -> str:
    """`q3_flops_no_bas (did you mean q3_flops_no_bias?)` when an id looks like a misspelling."""
    import difflib

    close = difflib.get_close_matches(name[:200], sorted(known), n=1, cutoff=0.75)
    shown = shorten(name, 60)
    return f"{shown} (did you mean {close[0]}?)" if close else shown


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
        raw, decided = question_answer(q, sub)  # a notebook cell may decide (unreadable, a stub)
        verdict = decided if decided is not None else _safe_verdict(q, raw, ctx)
        _say_where(verdict, q.id, sub)
        _keep_typed(verdict, raw)
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


def _no_student_id(q: QuestionBase, assignment: str) -> QuestionResult:
    feedback = (f"your answers file has no student_id, and this question has numbers drawn for each "
                f"student: add `student_id: YOUR_ID` (your template from `grader template {assignment} "
                "--student YOUR_ID` has it) and check again")
    return QuestionResult(id=q.id, score=0.0, max_score=q.points, status=Status.INVALID, feedback=feedback,
                          hidden=q.hidden, details={"student_id": "missing"})


def _say_where(verdict: Verdict, question_id: str, sub: Submission) -> None:
    """Which notebook cell the answer came from, and which of two answers was used."""
    if question_id in sub.answer_cells:
        verdict.details.setdefault("notebook_cell", sub.answer_cells[question_id])
    if question_id in sub.notes:
        verdict.feedback = f"{verdict.feedback} ({sub.notes[question_id]})".lstrip()


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


def grade_path(loaded: LoadedRubric, path: Path, *, cache: dict[str, Any] | None = None,
               require_student_id: bool = False) -> Report:
    """Open a submission (folder, zip or answers file) and grade it."""
    with open_submission(path) as sub:
        return grade_submission(loaded, sub, cache=cache, require_student_id=require_student_id)
