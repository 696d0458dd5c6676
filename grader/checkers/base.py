"""What every question kind shares: the rubric fields, the verdict, and the grading flow.

A kind is one pydantic model with a `kind: Literal[...]` tag. Kinds that compare a parsed answer
with a computed reference subclass `ComparedQuestion` and implement four small methods; kinds with
their own flow (manual, models, code) subclass `QuestionBase` and implement `grade`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from grader.checkers.hints import hint_for
from grader.core.report import Status
from grader.core.variants import Randomisation, draw, override_params
from grader.parsing.errors import AnswerParseError

T = TypeVar("T")
SelfCheck = Literal["verdict", "format", "none"]
LITERAL = "literal"  # the reference function of a literal `answer:` (reference/library/literal.py)


class Missing:
    """The answers file has no entry for the question."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


class RubricModel(BaseModel):
    # schemas are built when a rubric first uses the kind, not when its module is imported
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# The validation context of a rubric read back from the rubric cache: it passed every check
# when it was written, so checks that import heavy modules (the formula parser) are not repeated.
REVALIDATION = {"revalidation": True}


def is_revalidation(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("revalidation") is True


class ReferenceSpec(RubricModel):
    """Which function of `reference/` computes the answer, and its parameters."""

    function: str = Field(description="a reference function name (see `grader rubric schema`)")
    params: dict[str, Any] = Field(default_factory=dict)


class Alternative(RubricModel):
    """Another answer the rubric recognises: a convention it accepts or a known mistake.

    Give `params` (overrides fed to the same reference, dotted paths reach into lists:
    `layers.4.in_channels`) or `value` (written as a student would write it).
    """

    name: str = Field(description="short identifier, shown in reports and summaries")
    feedback: str = Field(description="what the student is told, in their words")
    credit: float | None = Field(None, ge=0, le=1, description="share of the points")
    params: dict[str, Any] | None = None
    value: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> Alternative:
        if (self.params is None) == (self.value is None):
            raise ValueError("give exactly one of `params` or `value`")
        return self


@dataclass
class Verdict:
    status: Status
    credit: float = 0.0
    feedback: str = ""
    answer: str | None = None
    expected: str | None = None
    mistake: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)  # seconds and megabytes, never compared


@dataclass
class GradingContext:
    """What a checker may know about the submission it grades."""

    submission_root: Path | None
    student: str
    reveal_answers: bool = False
    salt: str = ""
    cache: dict[str, Any] = field(default_factory=dict)
    sandbox_layer: str | None = None

    def reference_params(self, question: QuestionBase, spec: ReferenceSpec) -> dict[str, Any]:
        """The question's params for this student: drawn when the question is randomised."""
        randomise: Randomisation | None = getattr(question, "randomise", None)
        if randomise is None:
            return dict(spec.params)
        key = f"variant\x00{self.salt}\x00{self.student}\x00{question.id}"
        if key not in self.cache:
            self.cache[key] = draw(
                randomise, spec.params, salt=self.salt, student=self.student, question_id=question.id,
                compute=lambda params: self.compute(spec.function, params),
            )
        return dict(self.cache[key])

    def compute(self, function: str, params: dict[str, Any]) -> Any:
        """A reference answer: from this run's cache, the persistent cache, or computed."""
        from grader.core import refcache

        params_json = json.dumps(params, sort_keys=True, default=str)
        key = function + params_json
        if key not in self.cache:
            store = refcache.store()
            stored_key = refcache.ReferenceStore.key(function, params_json) if store else ""
            value = store.get(stored_key) if store else refcache.MISS
            if value is refcache.MISS:
                value = _compute_reference(function, params)
                if store:
                    store.put(stored_key, value)
            self.cache[key] = value
        return self.cache[key]


def _compute_reference(function: str, params: dict[str, Any]) -> Any:
    """Symbolic references go to the math worker when one runs (sympy is loaded there)."""
    import sys

    if "grader.mathworker" in sys.modules:  # only imported when formulas are checked
        from grader.core import refcache
        from grader.mathworker import compute_reference

        value = compute_reference(function, params)
        if value is not refcache.MISS:
            return value
    from reference import get_reference

    return get_reference(function).compute(params)


class QuestionBase(RubricModel, ABC):
    kind: str
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    points: float = Field(ge=0)
    title: str | None = None
    text: str | None = Field(None, description="question text; {name} placeholders take params")
    hidden: bool = Field(False, description="graded, but never shown to the student by `check`")
    reveal_answer: bool | None = Field(None, description="show the reference in feedback")
    randomise: Randomisation | None = Field(None, description="params drawn per student")
    self_check: SelfCheck | None = Field(
        None, description="what a student bundle's self-check reveals: verdict (correct/incorrect and "
        "named mistakes), format (only whether the answer is readable and of the right kind), or none; "
        "default verdict, format for hidden questions (which are format at most)")

    @model_validator(mode="after")
    def _hidden_reveals_no_verdict(self) -> QuestionBase:
        if self.hidden and self.self_check == "verdict":
            raise ValueError("a hidden question is self-checked for format at most: "
                             "set self_check to format or none")
        return self

    @property
    def self_check_policy(self) -> SelfCheck:
        if self.self_check is not None:
            return self.self_check
        return "format" if self.hidden else "verdict"

    answer_hint: ClassVar[str] = "an answer"
    needs_torch: ClassVar[bool] = False
    memoisable: ClassVar[bool] = False  # the verdict depends on the answer and params alone

    @abstractmethod
    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        """Judge one answer. Wrong or unreadable answers are verdicts, never exceptions."""

    def reference_answer(self, ctx: GradingContext) -> Any:
        """The reference answer as plain JSON data (for `grader reference`), or None."""
        return None

    def reference_params_for(self, ctx: GradingContext) -> dict[str, Any]:
        return {}

    @classmethod
    def prepare_submission(cls, questions: list[QuestionBase], answers: dict[str, Any],
                           ctx: GradingContext) -> None:
        """Extension point: work shared by all of a submission's questions of this kind (e.g. one
        worker evaluating every model), done once before they are graded."""

    def gives_credit(self, raw: Any, ctx: GradingContext) -> bool:
        """Whether grading `raw` would give any credit (a format hint must never be an answer)."""
        return False

    def rubric_problems(self, compute: bool) -> list[str]:
        """Extension point for kinds with their own references: problems found in the rubric."""
        return []


def is_blank(raw: Any) -> bool:
    return raw is MISSING or raw is None or (isinstance(raw, str) and not raw.strip())


def shorten(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ComparedQuestion(QuestionBase, Generic[T]):
    """A parsed answer compared with a computed reference, its accepted variants and mistakes."""

    memoisable: ClassVar[bool] = True

    reference: ReferenceSpec
    answer: Any = Field(None, description="a literal answer, written as a student would write it: "
                        "without `reference` it is the answer; with one, `rubric validate` checks "
                        "that both agree")
    accepted: list[Alternative] = Field(
        default_factory=list, description="other conventions that earn credit (default full)"
    )

    @model_validator(mode="before")
    @classmethod
    def _literal_answer(cls, data: Any) -> Any:
        """`answer:` without a reference function: the `literal` reference returns it."""
        if not isinstance(data, dict) or data.get("answer") is None:
            return data
        spec = data.get("reference")
        if spec is None:
            return {**data, "reference": {"function": LITERAL, "params": {"answer": data["answer"]}}}
        if isinstance(spec, dict) and "function" not in spec:  # declarations (symbols) only
            params = {**(spec.get("params") or {}), "answer": data["answer"]}
            return {**data, "reference": {**spec, "function": LITERAL, "params": params}}
        return data
    known_mistakes: list[Alternative] = Field(
        default_factory=list, description="wrong answers students really give (default no credit)"
    )

    @abstractmethod
    def parse(self, raw: Any) -> T:
        """The answer as a value, or raise AnswerParseError."""

    @abstractmethod
    def to_value(self, reference_output: Any) -> T:
        """The reference function's output as a value of the same type."""

    @abstractmethod
    def equivalent(self, got: T, expected: T) -> bool: ...

    @abstractmethod
    def show(self, value: T) -> str:
        """How a value is written in feedback."""

    def diagnose(self, got: T, expected: T) -> Verdict | None:
        """Kind-specific partial credit or hint when the answer is not equivalent."""
        return None

    def near_miss(self, got: T, expected: T) -> str | None:
        """A kind-specific slip (e.g. off by a power of ten) relative to `expected`."""
        return None

    # -- the flow ----------------------------------------------------------------------------

    def reference_params_for(self, ctx: GradingContext) -> dict[str, Any]:
        return ctx.reference_params(self, self.reference)

    def expected_value(self, ctx: GradingContext, overrides: dict[str, Any] | None = None) -> T:
        params = self.reference_params_for(ctx)
        if overrides:
            params = override_params(params, overrides)
        if self.reference.function == LITERAL:  # written as a student would write it
            return self.parse(params.get("answer"))
        return self.to_value(ctx.compute(self.reference.function, params))

    def reference_answer(self, ctx: GradingContext) -> Any:
        return self.expected_value(ctx)

    def alternative_value(self, alt: Alternative, ctx: GradingContext) -> T:
        if alt.params is not None:
            return self.expected_value(ctx, alt.params)
        return self.parse(alt.value)

    def alternatives(self, ctx: GradingContext) -> list[tuple[Alternative, T]]:
        """Accepted conventions, then known mistakes, each with its value for this student."""
        return [(a, self.alternative_value(a, ctx)) for a in [*self.accepted, *self.known_mistakes]]

    def gives_credit(self, raw: Any, ctx: GradingContext) -> bool:
        """The reference, an accepted convention, a known mistake with credit, or the kind's own
        partial credit; an unreadable answer gives none."""
        try:
            got = self.parse(raw)
        except AnswerParseError:
            return False
        expected = self.expected_value(ctx)
        if self.equivalent(got, expected):
            return True
        credited = [*self.accepted, *(m for m in self.known_mistakes if m.credit)]
        if any(self.equivalent(got, self.alternative_value(alt, ctx)) for alt in credited):
            return True
        diagnosis = self.diagnose(got, expected)
        return diagnosis is not None and diagnosis.status in (Status.CORRECT, Status.PARTIAL)

    def unreadable_feedback(self, err: AnswerParseError) -> str:
        """What the student reads when the answer cannot be read (kinds add how to write it)."""
        return str(err)

    def invalid_feedback(self, err: AnswerParseError, ctx: GradingContext) -> str:
        """The unreadable answer's message and a neutral example (grader/checkers/hints.py), never an answer."""
        return self.unreadable_feedback(err).rstrip(". ") + hint_for(self, ctx).write_it_like()

    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        if is_blank(raw):
            return Verdict(Status.MISSING, feedback="no answer was given")
        try:
            got = self.parse(raw)
        except AnswerParseError as err:
            return Verdict(Status.INVALID, feedback=self.invalid_feedback(err, ctx), answer=shorten(raw))
        expected = self.expected_value(ctx)
        verdict = self._judge(got, expected, ctx)
        self._fill_mistake_feedback(verdict, ctx)
        verdict.answer = shorten(self.show(got), 2000)
        verdict.expected = shorten(self.show(expected), 2000)
        return verdict

    def _judge(self, got: T, expected: T, ctx: GradingContext) -> Verdict:
        if self.equivalent(got, expected):
            return Verdict(Status.CORRECT, 1.0, "your answer is correct")
        for alt in self.accepted:
            if self.equivalent(got, self.alternative_value(alt, ctx)):
                return credited_verdict(alt, default_credit=1.0)
        for alt in self.known_mistakes:
            if self.equivalent(got, self.alternative_value(alt, ctx)):
                return credited_verdict(alt, default_credit=0.0)
        diagnosis = self.diagnose(got, expected)
        if diagnosis is not None:
            return diagnosis
        return Verdict(Status.INCORRECT, 0.0, self._wrong_feedback(got, expected, ctx))

    def feedback_names(self, alt: Alternative, ctx: GradingContext) -> dict[str, Any]:
        """What an alternative's feedback placeholders may name: the student's params (with the
        alternative's overrides) and `answer`, the alternative's own value as feedback writes it."""
        params = self.reference_params_for(ctx)
        if alt.params:
            params = override_params(params, alt.params)
        return {**params, "answer": self.show(self.alternative_value(alt, ctx))}

    def alternative_feedback(self, alt: Alternative, ctx: GradingContext) -> str:
        """The feedback with its `{placeholders}` filled for this student."""
        if "{" not in alt.feedback:
            return alt.feedback
        from grader.core.variants import fill_placeholders

        return fill_placeholders(alt.feedback, self.feedback_names(alt, ctx))

    def _fill_mistake_feedback(self, verdict: Verdict, ctx: GradingContext) -> None:
        for alt in [*self.accepted, *self.known_mistakes]:
            if alt.name == verdict.mistake and verdict.feedback.startswith(alt.feedback):
                filled = self.alternative_feedback(alt, ctx)
                verdict.feedback = filled + verdict.feedback[len(alt.feedback):]
                return

    def _wrong_feedback(self, got: T, expected: T, ctx: GradingContext) -> str:
        slip = self.near_miss(got, expected)
        if slip is None:
            for alt in self.known_mistakes:
                if (alt_slip := self.near_miss(got, self.alternative_value(alt, ctx))) is not None:
                    slip = f"{alt_slip}, on top of a known mistake: {self.alternative_feedback(alt, ctx)}"
                    break
        text = f"your answer {shorten(self.show(got))} is not correct"
        if slip:
            text += f"; it looks like {slip}"
        if self.reveal_answer or (self.reveal_answer is None and ctx.reveal_answers):
            text += f"; expected {self.show(expected)}"
        return text


def credited_verdict(alt: Alternative, default_credit: float) -> Verdict:
    credit = default_credit if alt.credit is None else alt.credit
    status = Status.CORRECT if credit >= 1 else Status.PARTIAL if credit > 0 else Status.INCORRECT
    return Verdict(status, credit, alt.feedback, mistake=alt.name)
