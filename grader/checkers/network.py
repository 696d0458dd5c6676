"""Hand-designed hard-threshold networks, decided exactly over all real inputs.

The answer is a mapping of named arrays (`{W1: [[...]], b1: [...], w2: [...], b2: 0.5}`) read as
exact rationals: the decimals the student wrote, never binary floats. The rubric states the target
as data (see `reference/threshold/targets.py`); `verify` decides the network against it with exact linear
programs and returns counterexamples, which the feedback names and explains.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, model_validator

from grader.checkers.base import GradingContext, QuestionBase, ReferenceSpec, RubricModel, Verdict, is_blank, shorten
from grader.checkers.number import read_number
from grader.core.report import Status
from grader.parsing.errors import AnswerParseError
from reference.threshold import (
    DEFAULT_MAX_LINEAR_PROGRAMS,
    DESIGN_FUNCTION,
    MISTAKE_DESCRIPTIONS,
    Counterexample,
    DesignError,
    MistakeKind,
    Target,
    ThresholdNetwork,
    ThresholdNetworkParams,
    Verification,
    VerificationTooLarge,
    construct_design,
    format_exact,
    too_large_message,
    verify,
)

MAX_DIGITS = 100  # numerators and denominators above 10**100 are refused, not verified slowly
Role = Literal["hidden_weights", "hidden_bias", "output_weights", "output_bias"]
ROLES: tuple[Role, ...] = ("hidden_weights", "hidden_bias", "output_weights", "output_bias")


def _normal_name(name: str) -> str:
    """`W^(1)`, `W_1` and `w1` are one name; case matters only through the rubric's own names."""
    return re.sub(r"[\s_^(){}\[\]]", "", name).lower()


class NetworkArrays(RubricModel):
    """The names the answer uses for each array."""

    hidden_weights: str = Field("W1", description="hidden_units × inputs weight matrix")
    hidden_bias: str = Field("b1", description="hidden_units biases")
    output_weights: str = Field("w2", description="hidden_units output weights")
    output_bias: str = Field("b2", description="the output unit's bias, a scalar")

    @model_validator(mode="after")
    def _distinct(self) -> NetworkArrays:
        names = [_normal_name(getattr(self, role)) for role in ROLES]
        if len(set(names)) != len(names) or not all(names):
            raise ValueError(
                "the four array names must be non-empty and differ (ignoring case and _^())"
            )
        return self

    def name(self, role: Role) -> str:
        return str(getattr(self, role))


class NetworkMistake(RubricModel):
    """Feedback for one kind of mistake the verifier recognises (see docs/threshold-networks.md)."""

    name: str = Field(description="short identifier, shown in reports and summaries")
    when: MistakeKind = Field(description="the kind of disagreement that triggers it")
    feedback: str = Field(description="what the student is told, in their words")
    credit: float | None = Field(None, ge=0, le=1, description="share of the points (default none)")


Shape = tuple[int, ...]


def _shape_text(shape: Shape) -> str:
    if not shape:
        return "a single number"
    if len(shape) == 1:
        return f"a list of {shape[0]} numbers"
    return f"a {shape[0]}×{shape[1]} array ({shape[0]} rows of {shape[1]} numbers)"


def _brief(shape: Shape) -> str:
    return (
        "a number"
        if not shape
        else f"{shape[0]} numbers"
        if len(shape) == 1
        else f"{shape[0]}×{shape[1]}"
    )


def _shown(value: Any) -> str:
    return repr(shorten(value, 40)) if isinstance(value, str) else shorten(value, 40)


def _entry(value: Any, where: str) -> Fraction:
    try:
        number = read_number(value)
    except AnswerParseError:
        raise AnswerParseError(f"{where} is {_shown(value)}, not a number") from None
    if max(abs(number.numerator), number.denominator) > 10**MAX_DIGITS:
        raise AnswerParseError(f"{where} has more than {MAX_DIGITS} digits")
    return number


def _vector(value: Any, name: str, length: int) -> tuple[Fraction, ...]:
    if length == 1 and not isinstance(value, list | dict):
        return (_entry(value, name),)
    if not isinstance(value, list) or len(value) != length:
        got = f"a list of {len(value)}" if isinstance(value, list) else _shown(value)
        raise AnswerParseError(f"{name} should be {_shape_text((length,))}, not {got}")
    return tuple(_entry(v, f"{name}[{i + 1}]") for i, v in enumerate(value))


def _matrix(value: Any, name: str, rows: int, cols: int) -> tuple[tuple[Fraction, ...], ...]:
    expected = _shape_text((rows, cols))
    if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
        raise AnswerParseError(f"{name} should be {expected}, not {_shown(value)}")
    lengths = [len(r) for r in value]
    if len(value) != rows or any(n != cols for n in lengths):
        extra = (
            " (one row per hidden unit)" if len(value) == cols and set(lengths) == {rows} else ""
        )
        raise AnswerParseError(
            f"{name} should be {expected}{extra}; yours has {len(value)} rows of lengths "
            f"{', '.join(map(str, lengths)) or 'none'}"
        )
    return tuple(
        tuple(_entry(v, f"{name}[{i + 1}][{j + 1}]") for j, v in enumerate(row))
        for i, row in enumerate(value)
    )


def _scalar(value: Any, name: str) -> Fraction:
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list | dict):
        raise AnswerParseError(f"{name} should be a single number, not {_shown(value)}")
    return _entry(value, name)


def read_network(
    raw: Any, arrays: NetworkArrays, inputs: int, hidden: int, threshold: Any
) -> ThresholdNetwork:
    """The student's network; `AnswerParseError` lists every array that cannot be read."""
    layout = ", ".join(f"{arrays.name(r)}: {_brief(s)}" for r, s in _shapes(inputs, hidden).items())
    if not isinstance(raw, dict):
        raise AnswerParseError(
            f"your answer should be a mapping of the arrays ({layout}), like "
            f"{{{arrays.hidden_weights}: [[...], ...], {arrays.hidden_bias}: [...], ...}}"
        )
    found, problems = _match_names(raw, arrays)
    values: dict[Role, Any] = {}
    for role, shape in _shapes(inputs, hidden).items():
        name = arrays.name(role)
        if role not in found:
            problems.append(f"{name} ({_shape_text(shape)}) is missing")
            continue
        try:
            values[role] = _read_role(found[role], name, shape)
        except AnswerParseError as err:
            problems.append(str(err))
    if problems:
        raise AnswerParseError(
            "your answer cannot be read: " + _first_problems(problems) + f" (give {layout})"
        )
    return ThresholdNetwork(
        values["hidden_weights"],
        values["hidden_bias"],
        values["output_weights"],
        values["output_bias"],
        threshold,
    )


def _first_problems(problems: list[str], limit: int = 8) -> str:
    """An answer may hold thousands of unknown names: the feedback lists the first few."""
    more = len(problems) - limit
    return "; ".join(problems[:limit]) + (f"; and {more:,} more problems" if more > 0 else "")


def _shapes(inputs: int, hidden: int) -> dict[Role, Shape]:
    return {
        "hidden_weights": (hidden, inputs),
        "hidden_bias": (hidden,),
        "output_weights": (hidden,),
        "output_bias": (),
    }


def _read_role(value: Any, name: str, shape: Shape) -> Any:
    if len(shape) == 2:
        return _matrix(value, name, shape[0], shape[1])
    if len(shape) == 1:
        return _vector(value, name, shape[0])
    return _scalar(value, name)


def _match_names(raw: dict[Any, Any], arrays: NetworkArrays) -> tuple[dict[Role, Any], list[str]]:
    """Answer keys matched to roles: exactly, else ignoring case, `_`, `^` and brackets."""
    by_normal = {_normal_name(arrays.name(r)): r for r in ROLES}
    exact = {arrays.name(r): r for r in ROLES}
    found: dict[Role, Any] = {}
    problems: list[str] = []
    for key in sorted(raw, key=lambda k: str(k) not in exact):  # exact names claim their role first
        text = str(key).strip()
        role = exact.get(text) or by_normal.get(_normal_name(text))
        if role is None:
            problems.append(
                f"it has {shorten(text, 30)!r}, which is not one of the arrays asked for"
            )
        elif role in found:
            problems.append(f"{arrays.name(role)} is given twice (as {shorten(text, 30)!r} too)")
        else:
            found[role] = raw[key]
    return found, problems


def show_network(net: ThresholdNetwork, arrays: NetworkArrays) -> str:
    def vec(values: tuple[Fraction, ...]) -> str:
        return "[" + ", ".join(format_exact(v) for v in values) + "]"

    return (
        f"{arrays.hidden_weights} = [{', '.join(vec(r) for r in net.W1)}], "
        f"{arrays.hidden_bias} = {vec(net.b1)}, {arrays.output_weights} = {vec(net.w2)}, "
        f"{arrays.output_bias} = {format_exact(net.b2)}"
    )


def _describe(finding: Counterexample, target: Target) -> str:
    x = ", ".join(format_exact(v) for v in finding.x)
    fired = [str(i + 1) for i, h in enumerate(finding.hidden) if h]
    units = f"hidden units fired: {', '.join(fired)}" if fired else "no hidden unit fired"
    holds = "holds" if finding.target_output else "does not hold"
    return (
        f"at x = ({x}) your network outputs {finding.network_output} ({units}), but "
        f"the target {target.text} {holds} there, so the output should be {finding.target_output}"
    )


class ThresholdNetworkQuestion(QuestionBase):
    memoisable: ClassVar[bool] = True
    kind: Literal["threshold_network"] = "threshold_network"
    reference: ReferenceSpec = Field(
        description=f"function {DESIGN_FUNCTION!r}; params: inputs, hidden_units, threshold, target"
    )
    arrays: NetworkArrays = Field(default_factory=NetworkArrays)
    known_mistakes: list[NetworkMistake] = Field(
        default_factory=list, description="feedback (and credit) for kinds of disagreement"
    )
    max_linear_programs: int = Field(
        DEFAULT_MAX_LINEAR_PROGRAMS, ge=1, description="bound on the exact verification's work"
    )

    answer_hint = "a mapping of arrays"

    # -- rubric side ----------------------------------------------------------------------------

    def reference_params_for(self, ctx: GradingContext) -> dict[str, Any]:
        return ctx.reference_params(self, self.reference)

    def params(self, ctx: GradingContext) -> ThresholdNetworkParams:
        return ThresholdNetworkParams.model_validate(self.reference_params_for(ctx))

    def reference_answer(self, ctx: GradingContext) -> Any:
        data = ctx.compute(self.reference.function, self.reference_params_for(ctx))
        return {self.arrays.name(role): data[role] for role in ROLES}

    def rubric_problems(self, compute: bool) -> list[str]:
        if self.reference.function != DESIGN_FUNCTION:
            return [
                f"field reference.function: a threshold_network question uses {DESIGN_FUNCTION!r}"
            ]
        try:
            params = ThresholdNetworkParams.model_validate(self.reference.params)
        except ValidationError as err:
            return [
                f"field reference.params.{'.'.join(map(str, e['loc'])) or '(all)'}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in err.errors()
            ]
        target = params.compiled_target()
        problems = [
            f"field max_linear_programs: {m}"
            for m in [too_large_message(params.hidden_units, target, self.max_linear_programs)]
            if m
        ]
        kinds = [m.when for m in self.known_mistakes]
        problems += [
            f"field known_mistakes: two entries for {k!r}"
            for k in sorted(set(kinds))
            if kinds.count(k) > 1
        ]
        try:
            design = construct_design(params)
        except DesignError as err:
            return [*problems, f"field reference.params.target: {err}"]
        if (
            compute
            and not problems
            and not verify(design, target, self.max_linear_programs).correct
        ):
            problems.append(
                "field reference.params: the constructed design fails its own target (a bug)"
            )
        return problems

    # -- grading --------------------------------------------------------------------------------

    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        if is_blank(raw):
            return Verdict(Status.MISSING, feedback="no answer was given")
        params = self.params(ctx)
        try:
            net = read_network(
                raw, self.arrays, params.inputs, params.hidden_units, params.threshold
            )
        except AnswerParseError as err:
            return Verdict(Status.INVALID, feedback=str(err), answer=shorten(raw))
        target = params.compiled_target()
        try:
            result = verify(net, target, self.max_linear_programs)
        except VerificationTooLarge as err:
            return Verdict(
                Status.ERROR,
                feedback=f"the grader cannot check this answer exactly ({err}); "
                "please tell your instructor",
            )
        verdict = self._judge(result, target)
        verdict.answer = show_network(net, self.arrays)
        verdict.expected = self._expected(ctx)
        return verdict

    def _expected(self, ctx: GradingContext) -> str | None:
        try:
            return show_network(construct_design(self.params(ctx)), self.arrays)
        except DesignError:
            return None

    def _judge(self, result: Verification, target: Target) -> Verdict:
        work = {"activation_patterns": result.patterns, "linear_programs": result.linear_programs}
        if result.correct:
            return Verdict(
                Status.CORRECT,
                1.0,
                f"your answer is correct: the network outputs 1 exactly when {target.text}, "
                f"checked exactly over all real inputs ({result.patterns} activation patterns)",
                details=work,
            )
        sentences: list[str] = []
        credits: list[float] = []
        names: list[str] = []
        for finding in result.findings:
            rubric_mistake = next((m for m in self.known_mistakes if m.when == finding.kind), None)
            explanation = (
                rubric_mistake.feedback if rubric_mistake else MISTAKE_DESCRIPTIONS[finding.kind]
            )
            sentences.append(f"{_describe(finding, target)}: {explanation}")
            credits.append((rubric_mistake.credit or 0.0) if rubric_mistake else 0.0)
            names.append(rubric_mistake.name if rubric_mistake else finding.kind)
        credit = min(credits)
        status = (
            Status.CORRECT if credit >= 1 else Status.PARTIAL if credit > 0 else Status.INCORRECT
        )
        details = {
            **work,
            "mistakes": [f.kind for f in result.findings],
            "counterexamples": [_finding_data(f) for f in result.findings],
        }
        feedback = "your answer is not correct: " + "; also, ".join(sentences)
        return Verdict(status, credit, feedback, mistake=", ".join(names), details=details)


def _finding_data(finding: Counterexample) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "x": [format_exact(v) for v in finding.x],
        "hidden_fired": [i + 1 for i, h in enumerate(finding.hidden) if h],
        "network_output": finding.network_output,
        "target_output": finding.target_output,
    }
