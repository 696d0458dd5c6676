"""Randomised per-student parameters.

A question's params can be drawn per student from distributions declared in the rubric. The draw
is a pure function of (salt, student id, variant group, attempt): the random stream is SHA-256 in
counter mode, so it is the same on every machine and every Python version. Constraints between
params (and on the computed answer) are rubric expressions evaluated by a small AST whitelist;
a draw that breaks one, or for which the reference cannot compute, is drawn again.
"""

from __future__ import annotations

import ast
import hashlib
import json
import operator
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_ATTEMPTS = 500


class VariantError(ValueError):
    """No draw satisfied the constraints: a rubric problem."""


class RandomStream:
    """Uniform integers from SHA-256 of (key, counter): portable and reproducible."""

    def __init__(self, *key: str) -> None:
        self._key = "\x00".join(key).encode()
        self._counter = 0

    def _next64(self) -> int:
        block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
        self._counter += 1
        return int.from_bytes(block[:8], "big")

    def below(self, n: int) -> int:
        """Uniform in [0, n) by rejection, so no value is favoured."""
        if n <= 0:
            raise ValueError("empty range")
        limit = (1 << 64) - (1 << 64) % n
        while (value := self._next64()) >= limit:
            pass
        return value % n


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    size: int | None = Field(None, ge=1, le=1000, description="draw a list of this many values")

    def draw(self, stream: RandomStream) -> Any:
        if self.size is None:
            return self.one(stream)
        return [self.one(stream) for _ in range(self.size)]

    def one(self, stream: RandomStream) -> Any:
        raise NotImplementedError


class Choice(_Dist):
    """One of a list of values."""

    dist: Literal["choice"] = "choice"
    values: list[Any] = Field(min_length=1)

    def one(self, stream: RandomStream) -> Any:
        return self.values[stream.below(len(self.values))]


class Integers(_Dist):
    """An integer in [low, high] on a grid of `step`."""

    dist: Literal["integers"] = "integers"
    low: int
    high: int
    step: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Integers:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self

    def one(self, stream: RandomStream) -> int:
        return self.low + self.step * stream.below((self.high - self.low) // self.step + 1)


class Decimals(_Dist):
    """A decimal in [low, high] with `places` decimal places (optionally never zero)."""

    dist: Literal["decimals"] = "decimals"
    low: Decimal
    high: Decimal
    places: int = Field(ge=0, le=8)
    nonzero: bool = False

    def one(self, stream: RandomStream) -> float:
        unit = Decimal(1).scaleb(-self.places)
        low, high = int(self.low / unit), int(self.high / unit)
        while True:
            value = (low + stream.below(high - low + 1)) * unit
            if value != 0 or not self.nonzero:
                return float(value)


Distribution = Annotated[Choice | Integers | Decimals, Field(discriminator="dist")]


class Randomisation(BaseModel):
    """How a question's params vary by student."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    params: dict[str, Distribution] = Field(
        description="param (dotted path into lists: layers.0.kernel) -> distribution")
    constraints: list[str] = Field(
        default_factory=list,
        description="expressions that must hold, over the params and `answer` (the reference output)")
    group: str | None = Field(None, description="questions of one group share one draw (default: the id)")

    @model_validator(mode="after")
    def _constraints_parse(self) -> Randomisation:
        for text in self.constraints:
            compile_constraint(text)
        return self


def override_params(params: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of params with `a.b.3.c`-style keys replaced (a variant's or a draw's values)."""
    result: Any = json.loads(json.dumps(params, default=str))
    for dotted, value in overrides.items():
        *path, last = dotted.split(".")
        node = result
        for part in path:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return dict(result)


def draw(
    randomisation: Randomisation, base: dict[str, Any], *, salt: str, student: str, question_id: str,
    compute: Callable[[dict[str, Any]], Any],
) -> dict[str, Any]:
    """The student's params: the first draw that satisfies every constraint and computes."""
    group = randomisation.group or question_id
    checks = [compile_constraint(c) for c in randomisation.constraints]
    for attempt in range(MAX_ATTEMPTS):
        stream = RandomStream(salt, student, group, str(attempt))
        drawn = {path: dist.draw(stream) for path, dist in sorted(randomisation.params.items())}
        params = override_params(base, drawn)
        try:
            answer = compute(params)
        except (ValueError, ArithmeticError):
            continue
        names = {**params, "answer": answer}
        if all(check(names) for check in checks):
            return params
    raise VariantError(f"no draw of {question_id} satisfied its constraints in {MAX_ATTEMPTS} attempts")


# --- feedback placeholders: `{pool_kernel * pool_kernel}` filled per student ---------------------

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def fill_placeholders(text: str, names: dict[str, Any]) -> str:
    """Each `{expression}` of a rubric text evaluated over `names` (the same whitelist as
    constraints); one that cannot be evaluated stays as written (`rubric validate` reports it)."""
    def value(match: re.Match[str]) -> str:
        try:
            return show_value(compile_constraint_value(match.group(1))(names))
        except (ValueError, ArithmeticError, TypeError, KeyError, IndexError):
            return match.group(0)

    return _PLACEHOLDER.sub(value, text)


def placeholder_problems(text: str, names: dict[str, Any]) -> list[str]:
    problems = []
    for match in _PLACEHOLDER.finditer(text):
        try:
            compile_constraint_value(match.group(1))(names)
        except (ValueError, ArithmeticError, TypeError, KeyError, IndexError) as err:
            problems.append(f"placeholder {match.group(0)} cannot be filled: {err}")
    return problems


def show_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.6g}"


# --- constraint expressions: an AST whitelist, never eval ------------------------------------------

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: lambda a, b: _bounded_power(a, b),
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
def _bounded_power(base: Any, exponent: Any) -> Any:
    if abs(exponent) > 64 or abs(base) > 1e6:
        raise ValueError("a power too large for a rubric expression")
    return base**exponent


_FUNCTIONS: dict[str, Callable[..., Any]] = {"abs": abs, "min": min, "max": max, "len": len, "sum": sum}


def compile_constraint(text: str) -> Callable[[dict[str, Any]], bool]:
    """A rubric constraint such as `(in_size + 2*padding - kernel) % stride == 0`."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"constraint {text!r} is not an expression: {err.msg}") from None
    _check_nodes(tree, text)
    return lambda names: bool(_evaluate(tree.body, names))


def compile_constraint_value(text: str) -> Callable[[dict[str, Any]], Any]:
    """The same whitelist, for a value (a feedback placeholder) rather than a truth."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"{text!r} is not an expression: {err.msg}") from None
    _check_nodes(tree, text)
    return lambda names: _evaluate(tree.body, names)


_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, ast.Not, ast.BoolOp, ast.And, ast.Or,
            ast.Compare, ast.Name, ast.Load, ast.Constant, ast.Call, ast.Subscript, ast.Attribute,
            *_BINARY, *_COMPARE)


def _check_nodes(tree: ast.AST, text: str) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"constraint {text!r} uses {type(node).__name__}, which is not allowed")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
            raise ValueError(f"constraint {text!r} calls something other than {', '.join(_FUNCTIONS)}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ValueError(f"constraint {text!r} reads a private name")


def _evaluate(node: ast.AST, names: dict[str, Any]) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name not in names:
                raise ValueError(f"unknown name {name!r} in a constraint")
            return names[name]
        case ast.Attribute(value=inner, attr=attr):
            return _evaluate(inner, names)[attr]
        case ast.Subscript(value=inner, slice=index):
            return _evaluate(inner, names)[_evaluate(index, names)]
        case ast.UnaryOp(op=op, operand=operand):
            value = _evaluate(operand, names)
            return -value if isinstance(op, ast.USub) else (not value) if isinstance(op, ast.Not) else +value
        case ast.BinOp(left=left, op=op, right=right):
            return _BINARY[type(op)](_evaluate(left, names), _evaluate(right, names))
        case ast.BoolOp(op=op, values=values):
            results = (_evaluate(v, names) for v in values)
            return all(results) if isinstance(op, ast.And) else any(results)
        case ast.Compare(left=left, ops=ops, comparators=rights):
            current = _evaluate(left, names)
            for comparison, right in zip(ops, rights, strict=True):
                value = _evaluate(right, names)
                if not _COMPARE[type(comparison)](current, value):
                    return False
                current = value
            return True
        case ast.Call(func=ast.Name(id=name), args=args):
            return _FUNCTIONS[name](*(_evaluate(a, names) for a in args))
    raise ValueError(f"cannot evaluate {type(node).__name__}")
