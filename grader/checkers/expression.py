"""Scalar formula answers (kind `expression`): `4σ(2x)(1 − σ(2x))`, `y(1-y)`, LaTeX or plain.

The answer is read by the safe parser (`grader.mathparse`) and compared, in the math worker,
with the computed reference, the accepted forms and the known mistakes, all at once. Form rules
("written with σ", "in terms of y alone") turn an equal but wrongly written answer into partial
credit with the rule's feedback. An answer that cannot be decided is never called wrong.
"""

from __future__ import annotations

from abc import abstractmethod
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
from grader.core.report import Status
from grader.parsing.errors import AnswerParseError

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

    def queries(self, tree: Node) -> list[str]:
        """What the math worker must decide about the answer for this rule (see `broken_by`)."""
        from grader.mathparse.ast import free_variables, functions_used

        present = functions_used(tree)
        wanted = [present & _FAMILIES.get(f, {f})
                  for f in self.require_functions + self.forbid_functions]
        out = [function_query(names) for names in wanted if names]
        if self.only_variables is not None:
            extra = free_variables(tree) - set(self.only_variables)
            out += [f"variable:{name}" for name in sorted(extra)]
        return out

    def broken_by(self, tree: Node, depends: dict[str, bool | None] | None = None) -> bool:
        """Judged on what the answer depends on (`depends`: the worker's answers to `queries`):
        a term that vanishes identically (`+ 0*sigmoid(x)`) neither satisfies nor breaks a rule.
        An undecided dependence counts against the rule. With no answers, on names alone."""
        from grader.mathparse.ast import free_variables, functions_used

        present = functions_used(tree)

        def uses(names: set[str], *, default: bool) -> bool:
            if not names:
                return False
            if depends is None:
                return True
            answer = depends.get(function_query(names))
            return default if answer is None else answer

        if self.require_functions and not any(
            uses(present & _FAMILIES.get(f, {f}), default=False) for f in self.require_functions
        ):
            return True
        if any(uses(present & _FAMILIES.get(f, {f}), default=True) for f in self.forbid_functions):
            return True
        if self.only_variables is None:
            return False
        extra = free_variables(tree) - set(self.only_variables)
        if depends is None:
            return bool(extra)
        return any(depends.get(f"variable:{name}") is not False for name in sorted(extra))


def function_query(names: set[str]) -> str:
    return "functions:" + ",".join(sorted(names))


_HOW = ""  # the neutral hint (grader/checkers/hints.py) says how to write a formula


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
        return f"{err}. {self.how_to_write}" if self.how_to_write else str(err)

    def to_value(self, reference_output: Any) -> Formula:
        return self.parse(str(reference_output))

    def equivalent(self, got: Formula, expected: Formula) -> bool:
        response = self._check(got, [expected], None)
        return response.status == "ok" and response.results[0].outcome == "equal"

    def reference_answer(self, ctx: GradingContext) -> Any:
        return self.expected_value(ctx).plain()

    def _judge(self, got: Formula, expected: Formula, ctx: GradingContext) -> Verdict:
        alternatives = self.alternatives(ctx)
        response = self._check(got, [expected, *(v for _, v in alternatives)], ctx)
        return self._decide(got, expected, alternatives, response, ctx)

    @abstractmethod
    def _check(self, got: Formula, candidates: list[Formula], ctx: GradingContext | None) -> MathResponse:
        """The math worker compares `got` with every candidate at once (`ctx`: the student's
        variant; None: the rubric's own reference)."""

    @abstractmethod
    def _decide(self, got: Formula, expected: Formula, alternatives: list[tuple[Alternative, Formula]],
                response: MathResponse, ctx: GradingContext) -> Verdict:
        """The verdict the worker's response gives: equal, an alternative, undecided or different."""


class ExpressionQuestion(FormulaKind):
    kind: Literal["expression"] = "expression"
    how_to_write: ClassVar[str] = _HOW
    variables: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"x": (-3.0, 3.0)},
        description="each variable's typical range: most random probe points fall here; the "
        "answer is judged on the whole domain",
    )
    domain: dict[str, tuple[float | None, float | None]] = Field(
        default_factory=dict,
        description="a variable's mathematical domain as (low, high), null for unbounded; "
        "default: the real line",
    )
    definitions: dict[str, str] = Field(
        default_factory=dict, description="variables computed from the others, e.g. {y: sigmoid(z)}"
    )
    aliases: dict[str, list[str]] = Field(default_factory=dict, description="variable -> spellings")
    form: list[FormRule] = Field(default_factory=list, description="how the answer must be written")
    symbolic: bool = Field(
        True, description="kept for old rubrics: verdicts no longer wait on sympy (no effect)"
    )
    timeout: float = Field(
        10.0, gt=0, le=60,
        description="seconds per check: only a guard against a hung worker; hitting it gives "
        "status error, never another verdict",
    )

    answer_hint = "a formula"

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

    def show(self, value: Formula) -> str:
        return value.show()

    # -- grading ----------------------------------------------------------------------------------

    def _check(self, got: Formula, candidates: list[Formula], ctx: GradingContext | None) -> MathResponse:
        from grader.mathworker import MathRequest, check

        space = self.scalar_space()
        request = MathRequest(
            kind="scalar",
            answer=got.text,
            candidates=[c.plain() for c in candidates],
            space=space,
            symbolic=self.symbolic,
        )
        return check(request, self.timeout)

    def _decide(self, got: Formula, expected: Formula, alternatives: list[tuple[Alternative, Formula]],
                response: MathResponse, ctx: GradingContext) -> Verdict:
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
                f"{UNDECIDED_TEXT} ({main.reason})",
                details={**details, "undecided": True, NEEDS_PERSON: main.reason},
            )
        return Verdict(Status.INCORRECT, 0.0, self._difference(got, main, ctx), details=details)

    def scalar_space(self) -> Any:
        from grader.mathworker import ScalarSpace

        return ScalarSpace(
            variables=self.variables, definitions=self.definitions, aliases=self.alias_map(),
            domain=self.domain,
        )

    def _dependencies(self, got: Formula) -> dict[str, bool | None] | MathResponse:
        """The worker's answers to every form rule's questions about the answer."""
        from grader.mathworker import MathRequest, check

        queries = sorted({q for rule in self.form for q in rule.queries(got.tree)})
        if not queries:
            return {}
        request = MathRequest(kind="depends", answer=got.text, candidates=queries,
                              space=self.scalar_space())
        response = check(request, self.timeout)
        if response.status != "ok":
            return response
        return {q: None if r.outcome == "undecided" else r.outcome == "depends"
                for q, r in zip(queries, response.results, strict=True)}

    def _form_verdict(self, got: Formula, details: dict[str, Any]) -> Verdict:
        depends = self._dependencies(got) if self.form else {}
        if not isinstance(depends, dict):
            return _undecided(depends)
        for rule in self.form:
            if rule.broken_by(got.tree, depends):
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
            return text + f": it has no real value{where}, where the correct formula has one"
        if result.method == "high-precision" or (result.relative_gap or 1) < 1e-6:
            return text + (
                f": it is off by a tiny amount (relative {result.relative_gap:.1g}){where}: an "
                "extra small term, or a constant rounded?"
            )
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


UNDECIDED_TEXT = "your answer could not be checked automatically; a person will look"
OUT_OF_TIME_TEXT = "the grader ran out of time; a person will look"
NEEDS_PERSON = "needs_person"  # a details key: the TA's list of answers to look at


def _undecided(response: MathResponse) -> Verdict:
    """The worker did not answer normally: never a verdict on the answer itself."""
    if response.status == "invalid":
        return Verdict(Status.INVALID, 0.0, f"{response.message}. {_HOW}")
    if response.status == "timeout":
        text = OUT_OF_TIME_TEXT
    else:
        text = "the grader stopped while checking your answer (memory limit?); a person will look"
    return Verdict(
        Status.ERROR, 0.0, text,
        details={"undecided": response.status, "why": response.message, NEEDS_PERSON: text},
    )
