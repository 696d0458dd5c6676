"""Scalar formula answers (kind `expression`): `4σ(2x)(1 − σ(2x))`, `y(1-y)`, LaTeX or plain.

The answer is read by the safe parser (`grader.mathparse`) and compared, in the math worker,
with the computed reference, the accepted forms and the known mistakes, all at once. Form rules
("written with σ", "in terms of y alone") turn an equal but wrongly written answer into partial
credit with the rule's feedback. An answer that cannot be decided is never called wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, model_validator

from grader.checkers.base import (
    MISSING,
    Alternative,
    ComparedQuestion,
    GradingContext,
    QuestionBase,
    RubricModel,
    Verdict,
    credited_verdict,
    is_blank,
    is_revalidation,
)
from grader.parsing.errors import AnswerParseError
from grader.report import Status

if TYPE_CHECKING:  # grader.mathparse (numpy) is imported when a formula is read, not before
    from grader.mathparse.ast import Node
    from grader.mathworker import CandidateResult, MathResponse

# σ written as σ'(u) or d/dx σ(u) still counts as written with σ
_FAMILIES = {
    "sigmoid": {"sigmoid", "sigmoid_prime"},
    "tanh": {"tanh", "tanh_prime"},
    "relu": {"relu", "relu_prime"},
}


@dataclass(frozen=True)
class Formula:
    text: str  # as written
    tree: Node

    def show(self) -> str:
        from grader.mathparse.ast import to_text

        return to_text(self.tree, pretty=True)

    def plain(self) -> str:
        from grader.mathparse.ast import to_text

        return to_text(self.tree)


class FormRule(RubricModel):
    """How an answer must be written, beyond being equal: a violation earns `credit`."""

    name: str
    feedback: str = Field(description="what the student is told when the rule is broken")
    credit: float = Field(0.5, ge=0, le=1)
    require_functions: list[str] = Field(default_factory=list, description="must use one of these")
    forbid_functions: list[str] = Field(default_factory=list, description="must use none of these")
    only_variables: list[str] | None = Field(None, description="may use these variables alone")

    @model_validator(mode="after")
    def _known_functions(self, info: ValidationInfo) -> FormRule:
        if is_revalidation(info):
            return self
        from grader.mathparse.functions import FUNCTIONS

        unknown = [f for f in self.require_functions + self.forbid_functions if f not in FUNCTIONS]
        if unknown:
            raise ValueError(f"form rule {self.name!r}: unknown function(s) {', '.join(unknown)}")
        return self

    def broken_by(self, tree: Node) -> bool:
        from grader.mathparse.ast import free_variables, functions_used

        used = functions_used(tree)
        if self.require_functions and not any(
            used & _FAMILIES.get(f, {f}) for f in self.require_functions
        ):
            return True
        if any(used & _FAMILIES.get(f, {f}) for f in self.forbid_functions):
            return True
        return self.only_variables is not None and not free_variables(tree) <= set(
            self.only_variables
        )


_HOW = (
    "Write a formula such as 4*sigmoid(2*x)*(1 - sigmoid(2*x)) or, in LaTeX, "
    "4\\sigma(2x)(1-\\sigma(2x))"
)


class FormulaKind(ComparedQuestion[Formula]):
    """What formula kinds share: the math worker, and saying how to write a formula."""

    how_to_write: ClassVar[str] = ""

    @classmethod
    def prepare_submission(cls, questions: list[QuestionBase], answers: dict[str, Any],
                           ctx: GradingContext) -> None:
        if all(is_blank(answers.get(q.id, MISSING)) for q in questions):
            return  # no formula to check: the worker (numpy, sympy) is not started at all
        from grader.mathworker import warm_up

        warm_up()  # the worker imports while the references are computed here

    def unreadable_feedback(self, err: AnswerParseError) -> str:
        return f"{err}. {self.how_to_write}"


class ExpressionQuestion(FormulaKind):
    kind: Literal["expression"] = "expression"
    how_to_write: ClassVar[str] = _HOW
    variables: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"x": (-3.0, 3.0)},
        description="each variable's probing range; keep it where the answer is defined",
    )
    definitions: dict[str, str] = Field(
        default_factory=dict, description="variables computed from the others, e.g. {y: sigmoid(z)}"
    )
    aliases: dict[str, list[str]] = Field(default_factory=dict, description="variable -> spellings")
    form: list[FormRule] = Field(default_factory=list, description="how the answer must be written")
    symbolic: bool = Field(True, description="ask sympy for a proof as well (bounded)")
    timeout: float = Field(
        3.0, gt=0, le=30, description="seconds per check, enforced by the worker"
    )

    answer_hint = "a formula, e.g. 4*sigmoid(2*x)*(1 - sigmoid(2*x)) or 4\\sigma(2x)(1-\\sigma(2x))"

    @model_validator(mode="after")
    def _ranges(self) -> ExpressionQuestion:
        for name, (low, high) in self.variables.items():
            if not low < high:
                raise ValueError(f"variable {name!r}: the range must go from low to high")
        clash = set(self.variables) & set(self.definitions)
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))}: both a variable and a definition")
        return self

    # -- reading ----------------------------------------------------------------------------------

    def config(self) -> Any:
        from grader.mathparse.parser import ParseConfig

        names = frozenset(self.variables) | frozenset(self.definitions)
        return ParseConfig("scalar", names, aliases=self.alias_map())

    def alias_map(self) -> dict[str, str]:
        return {
            spelling: name for name, spellings in self.aliases.items() for spelling in spellings
        }

    def parse(self, raw: Any) -> Formula:
        from grader.mathparse import prepare

        text = _as_text(raw)
        return Formula(text, prepare(text, self.config()))

    def to_value(self, reference_output: Any) -> Formula:
        return self.parse(str(reference_output))

    def equivalent(self, got: Formula, expected: Formula) -> bool:
        response = self._check(got, [expected])
        return response.status == "ok" and response.results[0].outcome == "equal"

    def show(self, value: Formula) -> str:
        return value.show()

    def reference_answer(self, ctx: GradingContext) -> Any:
        return self.expected_value(ctx).plain()

    # -- grading ----------------------------------------------------------------------------------

    def _judge(self, got: Formula, expected: Formula, ctx: GradingContext) -> Verdict:
        alternatives = self.alternatives(ctx)
        response = self._check(got, [expected, *(v for _, v in alternatives)])
        return self._decide(got, expected, alternatives, response, ctx)

    def _check(self, got: Formula, candidates: list[Formula]) -> MathResponse:
        from grader.mathworker import MathRequest, ScalarSpace, check

        space = ScalarSpace(
            variables=self.variables, definitions=self.definitions, aliases=self.alias_map()
        )
        request = MathRequest(
            kind="scalar",
            answer=got.text,
            candidates=[c.plain() for c in candidates],
            space=space,
            symbolic=self.symbolic,
        )
        return check(request, self.timeout)

    def _decide(
        self,
        got: Formula,
        expected: Formula,
        alternatives: list[tuple[Alternative, Formula]],
        response: MathResponse,
        ctx: GradingContext,
    ) -> Verdict:
        if response.status != "ok":
            return _undecided(response)
        main, *others = response.results
        details: dict[str, Any] = {"method": main.method, "reason": main.reason}
        if main.outcome == "equal":
            return self._form_verdict(got, details)
        for (alt, _), result in zip(alternatives, others, strict=True):
            if result.outcome == "equal":
                default = 1.0 if alt in self.accepted else 0.0
                verdict = credited_verdict(alt, default_credit=default)
                verdict.details = details
                return verdict
        if main.outcome == "undecided":
            return Verdict(
                Status.INVALID,
                0.0,
                "your answer could not be checked automatically "
                f"({main.reason}); it is not marked wrong: a person will look at it",
                details={**details, "undecided": True},
            )
        return Verdict(Status.INCORRECT, 0.0, self._difference(got, main, ctx), details=details)

    def _form_verdict(self, got: Formula, details: dict[str, Any]) -> Verdict:
        for rule in self.form:
            if rule.broken_by(got.tree):
                status = (
                    Status.CORRECT
                    if rule.credit >= 1
                    else Status.PARTIAL
                    if rule.credit > 0
                    else Status.INCORRECT
                )
                return Verdict(
                    status, rule.credit, rule.feedback, mistake=rule.name, details=details
                )
        return Verdict(Status.CORRECT, 1.0, "your answer is correct", details=details)

    def _difference(self, got: Formula, result: CandidateResult, ctx: GradingContext) -> str:
        from grader.mathparse.equivalence import describe_point

        text = f"your answer {got.show()} is not correct"
        if result.factor is not None:
            return text + "; " + _factor_words(result.factor)
        where = f" at {describe_point(result.point)}" if result.point else ""
        if result.method == "definedness":
            return text + f": it has no finite value{where}, where the derivative is defined"
        if result.method == "high-precision" or (result.relative_gap or 1) < 1e-6:
            return text + (
                f": it is off by a tiny amount (relative {result.relative_gap:.1g}){where}: an "
                "extra small term, or a constant rounded?"
            )
        if result.method == "symbolic":
            return text + ": it differs from the correct formula by a small term"
        if result.got is not None and where:
            text += f": it gives {result.got:.6g}{where}"
            if self._reveal(ctx):
                text += f"; expected {self.show(self.expected_value(ctx))}"
        return text

    def _reveal(self, ctx: GradingContext) -> bool:
        if self.hidden:
            return False
        return bool(self.reveal_answer or (self.reveal_answer is None and ctx.reveal_answers))




def _as_text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        what = (
            "a list"
            if isinstance(raw, list)
            else "a mapping"
            if isinstance(raw, dict)
            else "not text"
        )
        raise AnswerParseError(
            f"your answer is {what}; this question takes one formula written as text"
        )
    return str(raw)


def _factor_words(factor: float) -> str:
    if abs(factor + 1) < 1e-9:
        return "it has the wrong sign (a sign error)"
    for name, value in (
        ("2", 2.0),
        ("4", 4.0),
        ("1/2", 0.5),
        ("1/4", 0.25),
        ("-2", -2.0),
        ("-4", -4.0),
    ):
        if abs(factor - value) < 1e-9:
            return f"it is {name} times the correct value: a constant factor is wrong"
    return f"it is {factor:.4g} times the correct value: a constant factor is wrong"


def _undecided(response: MathResponse) -> Verdict:
    if response.status == "invalid":
        return Verdict(Status.INVALID, 0.0, f"{response.message}. {_HOW}")
    if response.status == "timeout":
        text = (
            "your answer could not be checked within the time limit; it is not marked wrong: "
            "simplify it, or a person will look at it"
        )
    else:
        text = (
            "your answer could not be checked (the checker ran out of memory or stopped); "
            "it is not marked wrong: a person will look at it"
        )
    return Verdict(
        Status.INVALID, 0.0, text, details={"undecided": response.status, "why": response.message}
    )
