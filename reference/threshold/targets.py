"""Targets as data: the region where the output must be 1, a union of conjunctions of strict and
non-strict linear inequalities, written as text ("x1 > x2", "x1 >= x2 >= 0", "2*x1 - x3/2 < 1")
or as coefficients, parsed into half-spaces with a readable text of the whole target."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from pydantic import Field, model_validator

from reference.params import StrictParams
from reference.threshold.exact_numbers import exact_number, format_exact


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
