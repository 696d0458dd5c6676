"""A question of a student bundle whose self-check reveals its form only (`self_check: format`)
or nothing (`none`). It carries what reading an answer needs (the original kind and its reading
settings) and never a reference, its params, accepted conventions or known mistakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError

from grader.checkers.base import GradingContext, QuestionBase, Verdict, is_blank, shorten
from grader.core.report import Status
from grader.parsing.errors import AnswerParseError

WITHHELD = "withheld"
"""The reference function name a reader is built with: never computed."""

FILE_KINDS = ("code", "model")


class FormatOnlyQuestion(QuestionBase):
    kind: Literal["self_check_format"] = "self_check_format"
    answer_kind: str = Field(description="the kind of the instructor's question")
    reader: dict[str, Any] = Field(
        default_factory=dict, description="the settings reading an answer needs (no reference)")
    hint: str = Field("", description="the neutral format hint, chosen when the bundle was made")

    answer_hint: ClassVar[str] = "an answer"

    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        policy = self.self_check_policy
        if policy == "none":
            return Verdict(Status.MANUAL, feedback="this question is not checked before the deadline",
                           details={"self_check": "none"})
        if is_blank(raw):
            return Verdict(Status.MISSING, feedback="no answer was given")
        problem = self._unreadable(raw, ctx)
        if problem is not None:
            tail = f"; write {self.hint}" if self.hint else ""
            return Verdict(Status.INVALID, feedback=problem.rstrip(". ") + tail, answer=shorten(raw),
                           details={"self_check": "format"})
        return Verdict(Status.MANUAL, feedback="your answer can be read; whether it is right is "
                       "decided after the deadline", answer=shorten(raw), details={"self_check": "format"})

    def _unreadable(self, raw: Any, ctx: GradingContext) -> str | None:
        if self.answer_kind in FILE_KINDS:
            return _file_problem(raw, ctx, ".py" if self.answer_kind == "code" else None)
        if self.answer_kind == "threshold_network":
            return _network_problem(raw, self.reader)
        if self.answer_kind == "manual":
            return None
        try:
            _reading_question(self).parse(raw)  # type: ignore[attr-defined]
        except AnswerParseError as err:
            return str(err)
        return None


def _reading_question(q: FormatOnlyQuestion) -> QuestionBase:
    """The instructor's kind, rebuilt from the reading settings with a reference never computed."""
    from pydantic import TypeAdapter

    from grader.checkers import Question

    reference = {"function": WITHHELD, "params": q.reader.get("reference_params", {})}
    fields = {k: v for k, v in q.reader.items() if k != "reference_params"}
    data = {**fields, "id": q.id, "kind": q.answer_kind, "points": 0, "reference": reference}
    try:
        question: QuestionBase = TypeAdapter(Question).validate_python(data)
    except ValidationError as err:
        raise ValueError(f"the bundle's reading settings of {q.id} are broken: {err}") from None
    return question


def _file_problem(raw: Any, ctx: GradingContext, suffix: str | None) -> str | None:
    if not isinstance(raw, str):
        return "your answer is not a file path"
    if suffix and not raw.endswith(suffix):
        return f"your answer {shorten(raw, 80)!r} is not a {suffix} file"
    root = ctx.submission_root
    if root is None:
        return None
    path = (root / raw).resolve()
    if not path.is_relative_to(root.resolve()):
        return "your answer names a file outside your submission"
    return None if Path(path).is_file() else f"your answer names {shorten(raw, 80)!r}, which is not in your submission"


def _network_problem(raw: Any, reader: dict[str, Any]) -> str | None:
    from grader.checkers.network import NetworkArrays, read_network

    params = reader.get("reference_params", {})
    try:
        read_network(raw, NetworkArrays.model_validate(reader.get("arrays", {})), params["inputs"],
                     params["hidden_units"], params.get("threshold", "ge"))
    except AnswerParseError as err:
        return str(err)
    return None
