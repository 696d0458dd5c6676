"""What one batch worker does: load the rubric once, then grade submission after submission with a
shared reference cache and a memo of verdicts already reached for the same answer.
"""

from __future__ import annotations

import copy
import json
import pickle
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from grader.checkers.base import MISSING, ComparedQuestion, GradingContext, QuestionBase, Verdict
from grader.core.grading import grade_submission
from grader.core.report import Report, question_seeds
from grader.core.rubric import LoadedRubric, load_rubric
from grader.core.submission import open_submission, submission_id

MEMO_LIMIT = 50_000
MEMO_KEY_CHARS = 4_000


@dataclass(frozen=True)
class GradeTask:
    """What the parent sends: a path graded as is, or files to gather into a folder first."""

    default_id: str
    path: str | None = None
    files: tuple[tuple[str, str], ...] = ()  # (source file, name in the submission)


@dataclass
class WorkerState:
    loaded: LoadedRubric
    cache: dict[str, Any] = field(default_factory=dict)
    memo: dict[tuple[str, ...], Verdict] = field(default_factory=dict)
    memo_hits: int = 0


def init_worker(rubric_path: str, cache: dict[str, Any] | None = None,
                reuse_evaluators: bool = False) -> WorkerState:
    """`reuse_evaluators`: this process keeps one model evaluator for all its submissions (a
    batch's worker process; not a caller's own process, which would keep it until exit)."""
    if reuse_evaluators:
        from grader.models.pool import enable_reuse

        enable_reuse()
    from grader.core.builtins import uses_math_worker

    if uses_math_worker(Path(rubric_path)):
        from grader.mathworker import warm_up

        warm_up()  # its imports overlap with loading the rubric
    loaded = load_rubric(Path(rubric_path))
    state = WorkerState(loaded, cache=dict(cache or {}))
    memo_rubric = loaded.rubric.model_copy(
        update={"questions": [_memoised(q, state) for q in loaded.rubric.questions]})
    state.loaded = LoadedRubric(memo_rubric, loaded.path, loaded.sha256)
    return state


def warm_cache(loaded: LoadedRubric) -> dict[str, Any]:
    """The references every submission needs, computed once (in the parent) for all workers:
    a worker would otherwise compute each of them again. Questions drawn per student are left
    to the workers, and so is anything that fails here (it fails there as a located verdict)."""
    ctx = loaded.rubric.context()
    for question in loaded.rubric.questions:
        if not isinstance(question, ComparedQuestion) or question.randomise is not None:
            continue
        try:
            question.expected_value(ctx)
            for alt in [*question.accepted, *question.known_mistakes]:
                if alt.params is not None:
                    question.alternative_value(alt, ctx)
        except Exception:  # the worker meets the same failure and reports it
            continue
    return {key: value for key, value in ctx.cache.items() if _picklable(value)}


def _picklable(value: Any) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def grade_task(state: WorkerState, task: GradeTask) -> str:
    """Grade one submission; the report comes back as JSON."""
    if task.path is not None:
        return _grade_path(state, Path(task.path), task.default_id)
    with tempfile.TemporaryDirectory(prefix="grader-batch-") as temp:
        return _grade_path(state, _gather(task.files, Path(temp) / "submission"), task.default_id)


def _grade_path(state: WorkerState, path: Path, default_id: str) -> str:
    with open_submission(path) as sub:
        if sub.id == submission_id(path):  # the answers file did not set student_id
            sub.id = default_id
        report: Report = grade_submission(state.loaded, sub, cache=state.cache)
    report.seeds = {**question_seeds(state.loaded.rubric.questions), **report.seeds}
    return report.model_dump_json()


def _gather(files: tuple[tuple[str, str], ...], folder: Path) -> Path:
    folder.mkdir()
    for source, name in files:
        shutil.copyfile(source, folder / Path(name).name)
    return folder


# --- the verdict memo -----------------------------------------------------------------------------


def _memoised(question: Any, state: WorkerState) -> Any:
    """The question itself, or a copy whose `grade` remembers verdicts.

    Only kinds that declare `memoisable` qualify: their verdict depends on the answer, the
    reference params and the reveal flag alone. Kinds that read files or people (models, code,
    manual) are never memoised.
    """
    cls = type(question)
    if not cls.memoisable:
        return question
    memo_cls = _MEMO_CLASSES.get(cls)
    if memo_cls is None:
        memo_cls = type(f"Memo{cls.__name__}", (cls,), {"grade": _memo_grade, "__module__": __name__})
        _MEMO_CLASSES[cls] = memo_cls
    copy_ = memo_cls.model_construct(**dict(question))
    _STATES[id(copy_)] = (state, copy_)
    return copy_


_MEMO_CLASSES: dict[type, type[QuestionBase]] = {}
_STATES: dict[int, tuple[WorkerState, Any]] = {}


def _memo_grade(self: QuestionBase, raw: Any, ctx: GradingContext) -> Verdict:
    state = _STATES[id(self)][0]
    key = _memo_key(self, raw, ctx)
    kind: type[QuestionBase] = type(self).__mro__[1]  # the kind itself, below this memo layer
    grade = kind.grade
    if key is None:
        return grade(self, raw, ctx)
    if key in state.memo:
        state.memo_hits += 1
    else:
        if len(state.memo) >= MEMO_LIMIT:
            state.memo.clear()
        state.memo[key] = grade(self, raw, ctx)
    return copy.deepcopy(state.memo[key])


def _memo_key(question: QuestionBase, raw: Any, ctx: GradingContext) -> tuple[str, ...] | None:
    try:
        answer = "MISSING" if raw is MISSING else json.dumps(raw, sort_keys=True, default=_exact)
        params = json.dumps(question.reference_params_for(ctx), sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None
    if len(answer) > MEMO_KEY_CHARS:
        return None
    return (question.id, answer, params, str(ctx.reveal_answers))


def _exact(value: Any) -> Any:
    """Keep what the student wrote: 0.10 and 0.1 are the same number but not the same answer text."""
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    raise TypeError(type(value).__name__)
