"""Hard-threshold networks (inputs -> one hidden layer -> one output), decided exactly.

A target is data: a union of conjunctions of strict and non-strict linear inequalities over the
inputs x1..xn, written as text ("x1 > x2", "x1 >= x2 >= 0", "2*x1 - x3/2 < 1") or as coefficients.

`verify(network, target)` decides over all of R^n, in exact rational arithmetic, whether the
network outputs 1 exactly on the target. Every hidden activation pattern p is a polyhedron R_p
(a non-strict face per unit that fires, a strict one per unit that stays silent, under σ(z) = 1
if z >= 0; the other way round under z > 0) and the output is constant on it. The verifier walks
the patterns depth-first, pruning infeasible partial patterns, and on each region asks exact linear
programs whether the output disagrees with the target anywhere on it. Strict faces are decided by
maximising a common slack t: {a·x < b} is non-empty iff max t subject to a·x + t <= b is positive.

When the network is wrong it returns counterexamples (small, readable, re-checked in exact
arithmetic) and names the kind of mistake, e.g. `accepts_boundary` (ties counted as descending)
or `misses_near_boundary` (a margin that misses small gaps).

`construct_design` builds a reference network from the target: one hidden unit per inequality
(firing on its violation or on its satisfaction, whichever the threshold convention can express
exactly) and an output unit that counts them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from reference.exact_lp import LPResult, maximize
from reference.params import StrictParams
from reference.registry import reference

Threshold = Literal["ge", "gt"]
Point = tuple[Fraction, ...]
MAX_INPUTS = 1000
MAX_HIDDEN = 64
DEFAULT_MAX_LINEAR_PROGRAMS = 20_000
DESIGN_FUNCTION = "threshold_network_design"

MistakeKind = Literal[
    "always_fires",
    "never_fires",
    "accepts_outside",
    "misses_inside",
    "accepts_near_boundary",
    "accepts_boundary",
    "misses_near_boundary",
]
MISTAKE_KINDS: tuple[MistakeKind, ...] = get_args(MistakeKind)  # also the feedback order
MISTAKE_DESCRIPTIONS: dict[MistakeKind, str] = {
    "always_fires": "the network outputs 1 for every input",
    "never_fires": "the network outputs 0 for every input",
    "accepts_outside": "the network outputs 1 on inputs arbitrarily far outside the target "
    "(e.g. a violated condition still lets it fire)",
    "misses_inside": "the network outputs 0 on inputs arbitrarily deep inside the target",
    "accepts_near_boundary": "the network outputs 1 on inputs just outside the target, within a "
    "margin of its boundary (e.g. small violations let it fire)",
    "accepts_boundary": "the network outputs 1 on the target's boundary only "
    "(e.g. ties counted as satisfying a strict inequality)",
    "misses_near_boundary": "the network outputs 0 on target inputs within a margin of the "
    "boundary (e.g. a margin that misses small gaps) and is right deeper inside",
}


# --- exact numbers and their display -------------------------------------------------------------


def exact_number(value: Any) -> Fraction:
    """A rubric number: an int, a float read as its shortest decimal, or text such as '1/3'."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return Fraction(Decimal(repr(value)) if isinstance(value, float) else value)
    if isinstance(value, str):
        try:
            return Fraction(value.strip().replace("−", "-"))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{value!r} is not a number") from None
    raise ValueError(f"{value!r} is not a number")


def _terminating_digits(value: Fraction, limit: int = 12) -> int | None:
    """The number of decimals that write `value` exactly, if at most `limit`."""
    for digits in range(limit + 1):
        if 10**digits % value.denominator == 0:
            return digits
    return None


def format_exact(value: Fraction) -> str:
    """`3`, `-0.0005` or `4e-9` when a decimal is exact and short, else `1/3`."""
    if value.denominator == 1:
        return str(value.numerator)
    digits = _terminating_digits(value)
    if digits is None:
        return f"{value.numerator}/{value.denominator}"
    scaled = Decimal(value.numerator * 10**digits // value.denominator).scaleb(-digits)
    if abs(value) < Fraction(1, 10**5):
        return f"{scaled.normalize():e}".replace("e-0", "e-").replace("E", "e")
    return f"{scaled:f}"


def plain_number(value: Fraction) -> int | float | str:
    """JSON-friendly and exact when read back: an int, a short decimal, or '1/3'."""
    if value.denominator == 1:
        return value.numerator
    digits = _terminating_digits(value, 9)
    if (
        digits is not None
        and len(str(abs(value.numerator * 10**digits // value.denominator))) <= 15
    ):
        return float(format_exact(value))
    return f"{value.numerator}/{value.denominator}"


# --- half-spaces and targets ---------------------------------------------------------------------


@dataclass(frozen=True)
class Halfspace:
    """a·x < b when strict, a·x <= b otherwise."""

    a: tuple[Fraction, ...]
    b: Fraction
    strict: bool

    def value(self, x: Sequence[Fraction]) -> Fraction:
        return sum((ai * xi for ai, xi in zip(self.a, x, strict=True)), Fraction(0))

    def holds(self, x: Sequence[Fraction]) -> bool:
        v = self.value(x)
        return v < self.b if self.strict else v <= self.b

    def negation(self) -> Halfspace:
        return Halfspace(tuple(-ai for ai in self.a), -self.b, not self.strict)

    def closure(self) -> Halfspace:
        return Halfspace(self.a, self.b, False)

    def homogeneous(self, strict: bool) -> Halfspace:
        """The same normal through the origin: a constraint on recession directions."""
        return Halfspace(self.a, Fraction(0), strict)

    @property
    def constant(self) -> bool:
        return not any(self.a)


@dataclass(frozen=True)
class Target:
    """A union of conjunctions of half-spaces over `inputs` variables, with its text."""

    inputs: int
    conjunctions: tuple[tuple[Halfspace, ...], ...]
    text: str

    def holds(self, x: Sequence[Fraction]) -> bool:
        return any(all(h.holds(x) for h in conj) for conj in self.conjunctions)


_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|(?P<var>x_?\{?(?P<idx>\d+)\}?)"
    r"|(?P<cmp><=|>=|≤|≥|<|>)|(?P<op>[-+*/−]))"
)
_CANONICAL_CMP = {"≤": "<=", "≥": ">="}
MAX_INEQUALITY_TEXT = 2000


@dataclass
class _Relation:
    """One rubric item: sides (as text) joined by comparisons, and its half-spaces."""

    sides: list[str]
    ops: list[str]
    halfspaces: list[Halfspace] = field(default_factory=list)

    def text(self) -> str:
        parts = [self.sides[0]]
        for op, side in zip(self.ops, self.sides[1:], strict=True):
            parts += [op, side]
        return " ".join(parts)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(
                f"cannot read {text!r} at {text[pos:].strip()!r}: use x1..xn, numbers, "
                "+ - * / and one of < <= > >="
            )
        kind = next(k for k in ("num", "var", "cmp", "op") if match.group(k) is not None)
        value = match.group("idx") if kind == "var" else match.group(kind)
        tokens.append((kind, _CANONICAL_CMP.get(value, value).replace("−", "-")))
        pos = match.end()
    return tokens


def _linear(
    tokens: list[tuple[str, str]], inputs: int, text: str
) -> tuple[list[Fraction], Fraction]:
    """Coefficients and constant of a linear expression given as tokens."""
    if not tokens:
        raise ValueError(f"{text!r} has an empty side")
    coeffs = [Fraction(0)] * inputs
    constant = Fraction(0)
    i = 0
    while i < len(tokens):
        sign = 1
        if tokens[i][0] == "op" and tokens[i][1] in "+-":
            sign = -1 if tokens[i][1] == "-" else 1
            i += 1
        factor, var, i = _term(tokens, i, inputs, text)
        if var is None:
            constant += sign * factor
        else:
            coeffs[var] += sign * factor
        if i < len(tokens) and not (tokens[i][0] == "op" and tokens[i][1] in "+-"):
            raise ValueError(f"cannot read {text!r}: expected + or - before {tokens[i][1]!r}")
    return coeffs, constant


def _term(
    tokens: list[tuple[str, str]], i: int, inputs: int, text: str
) -> tuple[Fraction, int | None, int]:
    """A product of numbers and at most one variable, with divisions by numbers."""
    factor, var, expect_factor = Fraction(1), None, True
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "op" and value in "*/" and not expect_factor:
            if value == "/":
                if (
                    i + 1 >= len(tokens)
                    or tokens[i + 1][0] != "num"
                    or Fraction(tokens[i + 1][1]) == 0
                ):
                    raise ValueError(f"cannot read {text!r}: divide only by a non-zero number")
                factor /= Fraction(tokens[i + 1][1])
                i += 2
                continue
            expect_factor = True
            i += 1
            continue
        if kind == "num":
            factor *= Fraction(value)
        elif kind == "var":
            index = int(value)
            if not 1 <= index <= inputs:
                raise ValueError(f"{text!r} names x{index}, but the inputs are x1..x{inputs}")
            if var is not None:
                raise ValueError(
                    f"{text!r} multiplies two variables: only linear inequalities are allowed"
                )
            var = index - 1
        else:
            break
        expect_factor = False
        i += 1
    if expect_factor:
        raise ValueError(f"cannot read {text!r}: a term is missing")
    return factor, var, i


def _halfspace(
    lhs: tuple[list[Fraction], Fraction], op: str, rhs: tuple[list[Fraction], Fraction]
) -> Halfspace:
    """lhs op rhs as a half-space a·x (<|<=) b."""
    a = [left - right for left, right in zip(lhs[0], rhs[0], strict=True)]
    c = lhs[1] - rhs[1]  # a·x + c op 0
    if op in ("<", "<="):
        return Halfspace(tuple(a), -c, op == "<")
    return Halfspace(tuple(-v for v in a), c, op == ">")


def parse_relation(text: str, inputs: int) -> _Relation:
    """'x1 > x2', a chain 'x1 > x2 >= 0', or '2*x1 - x3/2 < 1' as half-spaces."""
    if len(text) > MAX_INEQUALITY_TEXT:
        raise ValueError(f"an inequality of {len(text)} characters is too long")
    tokens = _tokens(text)
    sides: list[list[tuple[str, str]]] = [[]]
    ops: list[str] = []
    for token in tokens:
        if token[0] == "cmp":
            ops.append(token[1])
            sides.append([])
        else:
            sides[-1].append(token)
    if not ops:
        raise ValueError(f"{text!r} has no comparison (<, <=, > or >=)")
    forms = [_linear(side, inputs, text) for side in sides]
    relation = _Relation([_side_text(side) for side in sides], ops)
    for left, op, right in zip(forms, ops, forms[1:], strict=False):
        h = _halfspace(left, op, right)
        if h.constant:
            raise ValueError(f"{text!r} does not involve any input")
        relation.halfspaces.append(h)
    return relation


def _side_text(tokens: list[tuple[str, str]]) -> str:
    out = ""
    for kind, value in tokens:
        piece = f"x{value}" if kind == "var" else value
        out += f" {piece} " if kind == "op" and value in "+-" and out else piece
    return out.strip()


def _render_linear(coeffs: Sequence[Fraction]) -> str:
    parts: list[str] = []
    for index, coef in enumerate(coeffs, start=1):
        if coef == 0:
            continue
        size = "" if abs(coef) == 1 else f"{format_exact(abs(coef))}*"
        sign = "-" if coef < 0 else "+"
        parts.append(
            f"{sign} {size}x{index}" if parts else f"{'-' if coef < 0 else ''}{size}x{index}"
        )
    return " ".join(parts) or "0"


class InequalityData(StrictParams):
    """coefficients·x op rhs, e.g. {coefficients: [1, -1, 0], op: '>', rhs: 0}."""

    coefficients: list[int | float | str] = Field(min_length=1, description="one per input")
    op: Literal["<", "<=", ">", ">="]
    rhs: int | float | str = 0

    def relation(self, inputs: int) -> _Relation:
        if len(self.coefficients) != inputs:
            raise ValueError(
                f"coefficients has {len(self.coefficients)} entries; the inputs are x1..x{inputs}"
            )
        coeffs = [exact_number(v) for v in self.coefficients]
        rhs = exact_number(self.rhs)
        h = _halfspace((coeffs, Fraction(0)), self.op, ([Fraction(0)] * inputs, rhs))
        if h.constant:
            raise ValueError("an inequality needs a non-zero coefficient")
        return _Relation([_render_linear(coeffs), format_exact(rhs)], [self.op], [h])


InequalityItem = str | InequalityData


class Conjunction(StrictParams):
    all_of: list[InequalityItem] = Field(description="inequalities that must all hold")


class TargetSpec(StrictParams):
    """The region where the output must be 1: `all_of` inequalities, or `any_of` several
    conjunctions (each a single inequality or {all_of: [...]})."""

    all_of: list[InequalityItem] | None = None
    any_of: list[Conjunction | InequalityItem] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> TargetSpec:
        if (self.all_of is None) == (self.any_of is None):
            raise ValueError("give exactly one of `all_of` or `any_of`")
        return self

    def compile(self, inputs: int) -> Target:
        groups: list[list[InequalityItem]]
        if self.all_of is not None:
            groups = [list(self.all_of)]
        else:
            groups = [
                list(g.all_of) if isinstance(g, Conjunction) else [g] for g in self.any_of or []
            ]
        relations = [[_relation(item, inputs) for item in group] for group in groups]
        conjunctions = tuple(tuple(h for r in group for h in r.halfspaces) for group in relations)
        texts = [_conjunction_text(group) for group in relations]
        text = texts[0] if len(texts) == 1 else " or ".join(f"({t})" if " and " in t else t for t in texts) or "never"
        return Target(inputs, conjunctions, text)


def _relation(item: InequalityItem, inputs: int) -> _Relation:
    return parse_relation(item, inputs) if isinstance(item, str) else item.relation(inputs)


def _direction(ops: list[str]) -> str | None:
    kinds = {op[0] for op in ops}
    return kinds.pop() if len(kinds) == 1 else None


def _conjunction_text(relations: list[_Relation]) -> str:
    """Relations joined by 'and', chains merged: 'x1 > x2' and 'x2 > x3' read 'x1 > x2 > x3'."""
    if not relations:
        return "always"
    merged: list[_Relation] = []
    for r in relations:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.sides[-1] == r.sides[0]
            and _direction(last.ops) is not None
            and _direction(last.ops) == _direction(r.ops)
        ):
            merged[-1] = _Relation(last.sides + r.sides[1:], last.ops + r.ops)
        else:
            merged.append(_Relation(list(r.sides), list(r.ops)))
    return " and ".join(r.text() for r in merged)


# --- networks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdNetwork:
    """h = σ(W1 x + b1), y = σ(w2·h + b2) with σ(z) = [z >= 0] ('ge') or [z > 0] ('gt')."""

    W1: tuple[tuple[Fraction, ...], ...]
    b1: tuple[Fraction, ...]
    w2: tuple[Fraction, ...]
    b2: Fraction
    threshold: Threshold = "ge"

    def __post_init__(self) -> None:
        hidden = len(self.b1)
        if len(self.W1) != hidden or len(self.w2) != hidden:
            raise ValueError("W1, b1 and w2 need one entry per hidden unit")
        if len({len(row) for row in self.W1}) > 1:
            raise ValueError("every row of W1 needs one weight per input")

    @property
    def inputs(self) -> int:
        return len(self.W1[0]) if self.W1 else 0

    def fires(self, z: Fraction) -> int:
        return int(z >= 0) if self.threshold == "ge" else int(z > 0)

    def hidden(self, x: Sequence[Fraction]) -> tuple[int, ...]:
        return tuple(
            self.fires(sum((w * xi for w, xi in zip(row, x, strict=True)), Fraction(0)) + b)
            for row, b in zip(self.W1, self.b1, strict=True)
        )

    def output_of_pattern(self, pattern: Sequence[int]) -> int:
        return self.fires(
            sum((w * h for w, h in zip(self.w2, pattern, strict=True)), Fraction(0)) + self.b2
        )

    def output(self, x: Sequence[Fraction]) -> int:
        return self.output_of_pattern(self.hidden(x))

    def unit_region(self, unit: int, fired: bool) -> Halfspace:
        """The inputs on which hidden unit `unit` fires (or stays silent), as a half-space."""
        row, bias = self.W1[unit], self.b1[unit]
        if fired:  # z >= 0 (or z > 0)  <=>  -row·x <= bias (or <)
            return Halfspace(tuple(-w for w in row), bias, self.threshold == "gt")
        return Halfspace(row, -bias, self.threshold == "ge")  # z < 0 (or z <= 0)

    def as_data(self) -> dict[str, Any]:
        """By role, JSON-friendly and exact when read back."""
        return {
            "hidden_weights": [[plain_number(w) for w in row] for row in self.W1],
            "hidden_bias": [plain_number(b) for b in self.b1],
            "output_weights": [plain_number(w) for w in self.w2],
            "output_bias": plain_number(self.b2),
        }


# --- the reference design ------------------------------------------------------------------------


class DesignError(ValueError):
    """No reference network is constructed for this target (a rubric problem)."""


class ThresholdNetworkParams(StrictParams):
    inputs: int = Field(ge=1, le=MAX_INPUTS, description="number of inputs x1..xn")
    hidden_units: int = Field(ge=1, le=MAX_HIDDEN, description="hidden units of the answer")
    threshold: Threshold = Field(
        "ge",
        description="σ(z) = 1 if z >= 0 ('ge', the usual sheet) or if z > 0 ('gt'), both layers",
    )
    target: TargetSpec = Field(description="where the output must be 1")

    @field_validator("target")
    @classmethod
    def _target_compiles(cls, target: TargetSpec, info: ValidationInfo) -> TargetSpec:
        if "inputs" in info.data:
            target.compile(info.data["inputs"])
        return target

    def compiled_target(self) -> Target:
        return self.target.compile(self.inputs)


def construct_design(p: ThresholdNetworkParams) -> ThresholdNetwork:
    """One hidden unit per inequality and an output unit that counts them.

    A unit can fire on a violation or on a satisfaction; it is chosen so that the threshold
    convention expresses it exactly (under z >= 0 a strict inequality's violation a·x - b >= 0, a
    non-strict one's satisfaction b - a·x >= 0; under z > 0 the other way round). The output
    fires when all are satisfied (a conjunction) or when one is (a union of single inequalities).
    """
    target = p.compiled_target()
    units, combine = _design_units(target)
    if len(units) > p.hidden_units:
        raise DesignError(
            f"the constructed design needs one hidden unit per inequality, {len(units)}, but the "
            f"question declares {p.hidden_units} hidden units"
        )
    rows: list[tuple[Fraction, ...]] = []
    biases: list[Fraction] = []
    weights: list[Fraction] = []
    for h in units:
        on_violation = h.strict if p.threshold == "ge" else not h.strict
        rows.append(h.a if on_violation else tuple(-a for a in h.a))
        biases.append(-h.b if on_violation else h.b)
        weights.append(Fraction(-1) if on_violation else Fraction(1))
    satisfied_units = weights.count(Fraction(1))
    violation_units = weights.count(Fraction(-1))
    half = Fraction(1, 2)
    b2 = half - satisfied_units if combine == "all" else violation_units - half
    for _ in range(p.hidden_units - len(units)):  # spare units never fire and weigh nothing
        rows.append(tuple(Fraction(0) for _ in range(p.inputs)))
        biases.append(Fraction(-1))
        weights.append(Fraction(0))
    return ThresholdNetwork(tuple(rows), tuple(biases), tuple(weights), b2, p.threshold)


def _design_units(target: Target) -> tuple[tuple[Halfspace, ...], Literal["all", "any"]]:
    conj = target.conjunctions
    if len(conj) == 1:
        return conj[0], "all"
    if all(len(c) == 1 for c in conj):
        return tuple(c[0] for c in conj), "any"
    raise DesignError(
        "no reference design is constructed for a union of conjunctions with several inequalities "
        "each (one hidden layer cannot always express it); state the target as one conjunction or "
        "a union of single inequalities"
    )


@reference(DESIGN_FUNCTION, ThresholdNetworkParams)
def threshold_network_design(p: ThresholdNetworkParams) -> dict[str, Any]:
    """A threshold network for the target, constructed from it (one hidden unit per inequality)."""
    return construct_design(p).as_data()


# --- exact verification --------------------------------------------------------------------------


class VerificationTooLarge(Exception):
    """The question needs more linear programs than the rubric allows."""


def work_bound(hidden_units: int, target: Target) -> int:
    """An upper bound on the linear programs `verify` solves (patterns x programs per pattern)."""
    sizes = [len(c) for c in target.conjunctions]
    count = len(sizes)
    choice_nodes = sum(math.prod(sizes[:level]) for level in range(1, count + 1))
    choice_leaves = math.prod(sizes) if count else 1
    per_firing = 2 * choice_nodes + choice_leaves + count
    per_pattern = max(per_firing, 2 * count)
    counterexamples = 2 * 4
    return int(2 ** (hidden_units + 1) + 2**hidden_units * per_pattern + count + counterexamples)


def too_large_message(hidden_units: int, target: Target, limit: int) -> str | None:
    bound = work_bound(hidden_units, target)
    if bound <= limit:
        return None
    return (
        f"too large for exact verification: up to {bound:,} linear programs "
        f"({2**hidden_units:,} activation patterns of {hidden_units} hidden units, each checked "
        f"against {len(target.conjunctions)} target conjunction(s)), more than "
        f"max_linear_programs = {limit:,}; use fewer hidden units or a simpler target, or "
        "raise max_linear_programs (each takes about a millisecond)"
    )


@dataclass(frozen=True)
class Counterexample:
    """An input where the network and the target disagree, and the kind of mistake it shows."""

    kind: MistakeKind
    x: Point
    hidden: tuple[int, ...]
    network_output: int
    target_output: int


@dataclass(frozen=True)
class Verification:
    correct: bool
    patterns: int
    linear_programs: int
    findings: tuple[Counterexample, ...] = ()

    @property
    def kinds(self) -> list[MistakeKind]:
        return [f.kind for f in self.findings]


@dataclass(frozen=True)
class _Piece:
    """A polyhedron where the network and the target disagree."""

    pattern: tuple[int, ...]
    constraints: tuple[Halfspace, ...]
    chosen: tuple[
        Halfspace, ...
    ]  # the target conditions that place it (violated ones, or a conjunction)
    preferred: tuple[Halfspace, ...] = ()  # other target inequalities a readable point should keep


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def maximize(
        self,
        c: list[Fraction],
        rows: list[list[Fraction]],
        rhs: list[Fraction],
        nonnegative: list[bool] | None = None,
    ) -> LPResult:
        if self.used >= self.limit:
            raise VerificationTooLarge(
                f"too large for exact verification: more than {self.limit:,} linear programs"
            )
        self.used += 1
        return maximize(c, rows, rhs, nonnegative)


class _Search:
    def __init__(self, net: ThresholdNetwork, target: Target, budget: _Budget) -> None:
        self.net = net
        self.target = target
        self.n = target.inputs
        self.budget = budget

    # -- linear programs ------------------------------------------------------------------------

    def max_slack(self, constraints: Sequence[Halfspace]) -> tuple[Fraction, Point] | None:
        """(t, x) with x meeting every constraint and the strict ones by t > 0 (t <= 1), or None."""
        live = []
        for h in constraints:
            if h.constant:
                if not (h.b > 0 if h.strict else h.b >= 0):
                    return None
            else:
                live.append(h)
        one, zero = Fraction(1), Fraction(0)
        rows = [[*h.a, one if h.strict else zero] for h in live] + [[zero] * self.n + [one]]
        rhs = [h.b for h in live] + [one]
        result = self.budget.maximize([zero] * self.n + [one], rows, rhs)
        if result.status != "optimal" or result.point is None:
            return None
        t = result.point[-1]
        if t <= 0 and any(h.strict for h in live):
            return None
        return t, result.point[:-1]

    def feasible(self, constraints: Sequence[Halfspace]) -> bool:
        return self.max_slack(constraints) is not None

    def small_point(self, constraints: Sequence[Halfspace], slack: Fraction) -> Point | None:
        """The point of least |x|_1 meeting the constraints, strict ones by at least `slack`."""
        n, zero, one = self.n, Fraction(0), Fraction(1)
        rows: list[list[Fraction]] = []
        rhs: list[Fraction] = []
        for h in constraints:
            if not h.constant:
                rows.append([*h.a, *([zero] * n)])
                rhs.append(h.b - slack if h.strict else h.b)
        for i in range(n):
            for sign in (one, -one):
                row = [zero] * (2 * n)
                row[i], row[n + i] = sign, -one
                rows.append(row)
                rhs.append(zero)
        result = self.budget.maximize([zero] * n + [-one] * n, rows, rhs, [False] * n + [True] * n)
        return result.point[:n] if result.point is not None else None

    # -- the search -----------------------------------------------------------------------------

    def patterns(self) -> list[tuple[tuple[int, ...], tuple[Halfspace, ...]]]:
        """Every feasible hidden activation pattern with its region, depth-first."""
        leaves: list[tuple[tuple[int, ...], tuple[Halfspace, ...]]] = []
        hidden = len(self.net.b1)

        def visit(unit: int, pattern: tuple[int, ...], region: tuple[Halfspace, ...]) -> None:
            if unit == hidden:
                leaves.append((pattern, region))
                return
            children = []
            for fired in (0, 1):
                h = self.net.unit_region(unit, bool(fired))
                children.append((fired, region if h.constant else (*region, h), h))
            silent, firing = children
            # the region is feasible, so if one side is empty the other is the whole region
            silent_ok = (
                _constant_holds(silent[2]) if silent[2].constant else self.feasible(silent[1])
            )
            firing_ok = not silent_ok or (
                _constant_holds(firing[2]) if firing[2].constant else self.feasible(firing[1])
            )
            for (fired, child_region, _), ok in ((silent, silent_ok), (firing, firing_ok)):
                if ok:
                    visit(unit + 1, (*pattern, fired), child_region)

        visit(0, (), ())
        return leaves

    def outside(
        self,
        region: tuple[Halfspace, ...],
        conjunctions: Sequence[tuple[Halfspace, ...]],
        negate: Callable[[Halfspace], Halfspace],
        originals: Sequence[tuple[Halfspace, ...]] | None = None,
    ) -> list[tuple[tuple[Halfspace, ...], tuple[Halfspace, ...], tuple[Halfspace, ...]]]:
        """Polyhedra of the region outside every conjunction: one violated inequality chosen per
        conjunction, infeasible choices pruned. Each comes with its chosen violations and the
        other inequalities of `originals` (the conjunctions as the target states them)."""
        stated = conjunctions if originals is None else originals
        found: list[tuple[tuple[Halfspace, ...], tuple[Halfspace, ...], tuple[Halfspace, ...]]] = []

        def visit(
            j: int,
            cons: tuple[Halfspace, ...],
            chosen: tuple[Halfspace, ...],
            others: tuple[Halfspace, ...],
        ) -> None:
            if j == len(conjunctions):
                found.append((cons, chosen, others))
                return
            for k, h in enumerate(conjunctions[j]):
                g = negate(h)
                extended = (*cons, g)
                if self.feasible(extended):
                    rest = stated[j][:k] + stated[j][k + 1 :]
                    visit(j + 1, extended, (*chosen, g), (*others, *rest))

        visit(0, region, (), ())
        return found

    def has_direction(self, constraints: Sequence[Halfspace], growing: Sequence[Halfspace]) -> bool:
        """Is there a direction d that stays in the constraints' closure and along which every
        `growing` half-space's a·d < 0 (so the piece extends arbitrarily far that way)?"""
        if not growing:
            return True
        cone = [h.homogeneous(False) for h in constraints if not h.constant]
        cone += [h.homogeneous(True) for h in growing if not h.constant]
        return self.feasible(cone)


def _constant_holds(h: Halfspace) -> bool:
    return h.b > 0 if h.strict else h.b >= 0


def verify(
    net: ThresholdNetwork, target: Target, max_linear_programs: int = DEFAULT_MAX_LINEAR_PROGRAMS
) -> Verification:
    """Decide exactly whether the network outputs 1 exactly on the target, over all of R^n."""
    if net.inputs != target.inputs:
        raise ValueError(f"the network has {net.inputs} inputs, the target {target.inputs}")
    message = too_large_message(len(net.b1), target, max_linear_programs)
    if message is not None:
        raise VerificationTooLarge(message)
    search = _Search(net, target, _Budget(max_linear_programs))
    leaves = search.patterns()
    false_pos: list[_Piece] = []
    false_neg: list[_Piece] = []
    for pattern, region in leaves:
        if net.output_of_pattern(pattern):
            for cons, chosen, others in search.outside(
                region, target.conjunctions, Halfspace.negation
            ):
                false_pos.append(_Piece(pattern, cons, chosen, others))
        else:
            for conj in target.conjunctions:
                if search.feasible((*region, *conj)):
                    false_neg.append(_Piece(pattern, (*region, *conj), conj))
    if not false_pos and not false_neg:
        return Verification(True, len(leaves), search.budget.used)
    findings = _classify(search, leaves, false_pos, false_neg)
    return Verification(False, len(leaves), search.budget.used, findings)


def _classify(
    search: _Search,
    leaves: list[tuple[tuple[int, ...], tuple[Halfspace, ...]]],
    false_pos: list[_Piece],
    false_neg: list[_Piece],
) -> tuple[Counterexample, ...]:
    net = search.net
    firing = [(p, r) for p, r in leaves if net.output_of_pattern(p)]
    found: dict[MistakeKind, _Piece] = {}
    if false_pos:
        kind, piece = _classify_false_positives(search, false_pos)
        found["always_fires" if len(firing) == len(leaves) else kind] = piece
    if false_neg:
        kind, piece = _classify_false_negatives(search, firing, false_neg)
        found["never_fires" if not firing else kind] = piece
    return tuple(
        _counterexample(search, kind, found[kind]) for kind in MISTAKE_KINDS if kind in found
    )


def _classify_false_positives(search: _Search, pieces: list[_Piece]) -> tuple[MistakeKind, _Piece]:
    """Outside the target's closure at all (and arbitrarily far), or only on its boundary?"""
    target = search.target
    nonempty = [conj for conj in target.conjunctions if search.feasible(conj)]
    closed = [tuple(h.closure() for h in conj) for conj in nonempty]
    near: _Piece | None = None
    seen: set[tuple[int, ...]] = set()
    for piece in pieces:
        if piece.pattern in seen:
            continue
        seen.add(piece.pattern)
        region = piece.constraints[: len(piece.constraints) - len(piece.chosen)]
        for cons, chosen, others in search.outside(region, closed, Halfspace.negation, nonempty):
            interior = _Piece(piece.pattern, cons, chosen, others)
            if search.has_direction(cons, chosen):
                return "accepts_outside", interior
            near = near or interior
    return ("accepts_near_boundary", near) if near is not None else ("accepts_boundary", pieces[0])


def _classify_false_negatives(
    search: _Search,
    firing: list[tuple[tuple[int, ...], tuple[Halfspace, ...]]],
    pieces: list[_Piece],
) -> tuple[MistakeKind, _Piece]:
    """Missed arbitrarily deep inside the target, or only within a margin of its boundary?"""
    for piece in pieces:
        if search.has_direction(piece.constraints, piece.chosen):
            return "misses_inside", piece
    fires_inside = any(
        search.feasible((*region, *conj))
        for _, region in firing
        for conj in search.target.conjunctions
    )
    return ("misses_near_boundary" if fires_inside else "misses_inside"), pieces[0]


SIMPLE_DENOMINATORS = (1, 2, 4, 5, 10, 20, 100, 1000, 2000, 10**4, 10**5, 10**6)


def _readable_point(search: _Search, piece: _Piece) -> Point:
    """A small, simple point of the piece, preferring one that breaks only the chosen conditions."""
    attempts = (
        [piece.constraints + piece.preferred, piece.constraints]
        if piece.preferred
        else [piece.constraints]
    )
    for constraints in attempts:
        found = search.max_slack(constraints)
        if found is None:
            continue
        slack, point = found
        point = search.small_point(constraints, slack) or point
        for denominator in SIMPLE_DENOMINATORS:
            rounded = tuple(Fraction(round(v * denominator), denominator) for v in point)
            if all(h.holds(rounded) for h in constraints):
                return rounded
        return point
    raise AssertionError("a disagreement piece is feasible by construction")


def _counterexample(search: _Search, kind: MistakeKind, piece: _Piece) -> Counterexample:
    x = _readable_point(search, piece)
    net, target = search.net, search.target
    got, want = net.output(x), int(target.holds(x))
    if got == want:  # the pieces are exact, so this is a bug, never a student's fault
        raise AssertionError(f"counterexample {x} does not separate the network from the target")
    return Counterexample(kind, x, net.hidden(x), got, want)
