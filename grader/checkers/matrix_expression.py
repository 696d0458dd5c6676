"""Matrix formula answers in numpy notation (kind `matrix_expression`): `W1.T @ (σ'(z) * …)`.

The symbols, their shapes and the forward pass come from the reference params (one source for
the derivation and for the check). The answer's shapes are checked first (a shape error has its
own message); then its values are compared with the derived reference on random draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from grader.checkers.base import (
    Alternative,
    GradingContext,
    Verdict,
    credited_verdict,
)
from grader.checkers.expression import Formula, FormulaKind, _as_text, _factor_words
from grader.core.report import Status

if TYPE_CHECKING:
    from grader.mathworker import CandidateResult, MathResponse

_WORLDS: dict[str, Any] = {}  # a world is a pure function of its data: built once per process
_WORLD_FIELDS = ("dims", "symbols", "definitions", "functions", "one_hot", "aliases")
_HOW = ""  # the neutral hint (grader/checkers/hints.py) says how to write numpy notation


class MatrixExpressionQuestion(FormulaKind):
    kind: Literal["matrix_expression"] = "matrix_expression"
    how_to_write: ClassVar[str] = _HOW
    timeout: float = Field(
        10.0, gt=0, le=60,
        description="seconds per check: only a guard against a hung worker; hitting it gives "
        "status error, never another verdict",
    )

    answer_hint = "a numpy-notation formula"

    def world_data(self, ctx: GradingContext | None = None) -> dict[str, Any]:
        params = self.reference_params_for(ctx) if ctx is not None else self.reference.params
        return {k: params[k] for k in _WORLD_FIELDS if k in params}

    def world(self, ctx: GradingContext | None = None) -> Any:
        import json

        from grader.mathparse.world import WorldSpec

        data = self.world_data(ctx)
        key = json.dumps(data, sort_keys=True, default=str)
        if key not in _WORLDS:
            if len(_WORLDS) > 32:
                _WORLDS.clear()
            _WORLDS[key] = WorldSpec.model_validate(data).world()
        return _WORLDS[key]

    def parse(self, raw: Any) -> Formula:
        from grader.mathparse.matrix import parse_matrix

        text = _as_text(raw)
        return Formula(text, parse_matrix(text, self.world()))

    def show(self, value: Formula) -> str:
        return value.plain()

    def _check(
        self, got: Formula, candidates: list[Formula], ctx: GradingContext | None
    ) -> MathResponse:
        from grader.mathworker import MathRequest, check

        request = MathRequest(
            kind="matrix",
            answer=got.text,
            candidates=[c.plain() for c in candidates],
            world=self.world_data(ctx),
        )
        return check(request, self.timeout)

    def _decide(self, got: Formula, expected: Formula, alternatives: list[tuple[Alternative, Formula]],
                response: MathResponse, ctx: GradingContext) -> Verdict:
        from grader.checkers.expression import _undecided

        if response.status not in ("ok", "shape_error"):
            return _undecided(response)
        main, *others = response.results
        if response.status == "ok" and main.outcome == "equal":
            return Verdict(Status.CORRECT, 1.0, "your answer is correct")
        for (alt, _), result in zip(alternatives, others, strict=True):
            if result.outcome == "equal":
                verdict = credited_verdict(alt, default_credit=1.0 if alt in self.accepted else 0.0)
                if response.status == "shape_error":
                    verdict.feedback += f" ({response.message.removeprefix('your answer ')})"
                return verdict
        if response.status == "shape_error":
            return Verdict(Status.INCORRECT, 0.0, response.message)
        if main.outcome == "undecided":
            from grader.checkers.expression import NEEDS_PERSON, UNDECIDED_TEXT

            return Verdict(Status.INVALID, 0.0, f"{UNDECIDED_TEXT} ({main.reason})",
                           details={"undecided": True, NEEDS_PERSON: main.reason})
        return Verdict(Status.INCORRECT, 0.0, _difference(got, main))


def _difference(got: Formula, result: CandidateResult) -> str:
    text = f"your answer {got.plain()} is not correct"
    if result.outcome == "transposed":
        return text + ": it is the transpose of the correct result (a missing or extra transpose)"
    if result.outcome in ("shape", "undefined"):
        return text + ": " + result.reason.removeprefix("your answer ")
    if result.factor is not None:
        return text + "; " + _factor_words(result.factor)
    return (
        text
        + ": it gives other values than the correct result on random inputs of the declared shapes"
    )
