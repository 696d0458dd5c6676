"""The catalogue of question kinds. `KINDS` is the registry: adding a kind is one module and one
line here. Kinds are imported only when a rubric uses them (`question_union(kinds)`): a check of
an answers-only rubric never imports the code sandbox or the model evaluator. `Question`, the
discriminated union of every kind, stays the schema (`rubric schema`, editors)."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from grader.checkers.base import GradingContext, QuestionBase, Verdict

# kind tag -> "module:class"
KINDS: dict[str, str] = {
    "number": "grader.checkers.number:NumberQuestion",
    "number_array": "grader.checkers.number_array:NumberArrayQuestion",
    "choice": "grader.checkers.choice:ChoiceQuestion",
    "interval": "grader.checkers.interval:IntervalQuestion",
    "edges": "grader.checkers.edges:EdgeListQuestion",
    "manual": "grader.checkers.manual:ManualQuestion",
    "threshold_network": "grader.checkers.network:ThresholdNetworkQuestion",
    "code": "grader.checkers.code:CodeQuestion",
    "expression": "grader.checkers.expression:ExpressionQuestion",
    "matrix_expression": "grader.checkers.matrix_expression:MatrixExpressionQuestion",
    "model": "grader.checkers.model:ModelQuestion",
    "self_check_format": "grader.checkers.format_only:FormatOnlyQuestion",  # student bundles only
}


# kinds whose grading runs student code or a student's model, in the sandbox
STUDENT_CODE_KINDS = frozenset({"code", "model"})


def runs_student_code(questions: Any) -> bool:
    """Whether grading these questions may run student code (so needs a sandbox layer)."""
    return any(getattr(q, "kind", None) in STUDENT_CODE_KINDS for q in questions)


def question_class(kind: str) -> type[QuestionBase]:
    module, name = KINDS[kind].split(":")
    cls: type[QuestionBase] = getattr(import_module(module), name)
    return cls


@cache
def _union(kinds: tuple[str, ...]) -> Any:
    classes = tuple(question_class(k) for k in kinds)
    if len(classes) == 1:  # a union of one: the tag is still checked by the kind's Literal
        return classes[0]
    union: Any = classes[0]
    for cls in classes[1:]:
        union = union | cls
    return Annotated[union, Field(discriminator="kind")]


def question_union(kinds: set[str] | frozenset[str] | None = None) -> Any:
    """The discriminated union of these kinds (in registry order), or of every kind. An unknown
    tag among `kinds` means every kind, so that the error lists the real choices."""
    if kinds is None or not kinds or not set(kinds) <= KINDS.keys():
        return _union(tuple(KINDS))
    return _union(tuple(k for k in KINDS if k in kinds))


if TYPE_CHECKING:
    Question = QuestionBase
else:
    def __getattr__(name: str) -> Any:
        if name == "Question":
            return question_union()
        raise AttributeError(name)


__all__ = ["KINDS", "STUDENT_CODE_KINDS", "GradingContext", "Question", "QuestionBase", "Verdict",
           "question_class", "question_union", "runs_student_code"]
