"""Numeric evaluation of scalar trees: float64 over many points at once, and high precision at one.

Both walk the tree with fixed tables of functions. Floats cannot run away (they overflow to inf);
the high-precision path is only used at points where every float intermediate was finite, so its
numbers stay as small as the float ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.mathparse.ast import Bin, Call, Const, Deriv, Neg, Node, Num, Transpose, Var, children
from grader.mathparse.limits import Limits
from grader.parsing.errors import AnswerParseError

Array = NDArray[np.float64]


def _sigmoid_small_side(u: Array) -> Array:
    """σ(u) accurate in relative terms also where σ(u) is tiny."""
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(u))
        return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_prime(u: Array) -> Array:
    return _sigmoid_small_side(u) * _sigmoid_small_side(-u)


def _sech(u: Array) -> Array:
    return 1.0 / np.cosh(u)


FLOAT_FUNCTIONS: dict[str, Callable[[Array], Array]] = {
    "sigmoid": _sigmoid_small_side,
    "sigmoid_prime": _sigmoid_prime,
    "tanh": np.tanh,
    "tanh_prime": lambda u: _sech(u) ** 2,
    "sech": _sech,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "relu": lambda u: np.maximum(u, 0.0),
    "relu_prime": lambda u: (u > 0).astype(np.float64),
    "softplus": lambda u: np.logaddexp(0.0, u),
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
}

CONSTANT_VALUES = {"e": math.e, "pi": math.pi}


@dataclass
class FloatResult:
    values: Array
    scale: Array  # per point: the largest |intermediate| (how much cancellation could cost)
    clean: NDArray[np.bool_]  # per point: every intermediate finite


def eval_float(node: Node, env: dict[str, Array], n: int) -> FloatResult:
    scale = np.zeros(n)
    clean = np.ones(n, dtype=bool)

    def visit(current: Node) -> Array:
        nonlocal scale, clean
        value = _float_node(current, visit, env, n)
        finite = np.isfinite(value)
        clean &= finite
        scale = np.maximum(scale, np.where(finite, np.abs(value), 0.0))
        return value

    with np.errstate(all="ignore"):
        values = visit(node)
    return FloatResult(values, scale, clean)


def _float_node(node: Node, visit: Callable[[Node], Array], env: dict[str, Array], n: int) -> Array:
    if isinstance(node, Num):
        return np.full(n, float(node.value))
    if isinstance(node, Const):
        return np.full(n, CONSTANT_VALUES[node.name])
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Neg):
        return -visit(node.operand)
    if isinstance(node, Call):
        return FLOAT_FUNCTIONS[node.func](visit(node.args[0]))
    if isinstance(node, Bin):
        a, b = visit(node.left), visit(node.right)
        return _FLOAT_OPS[node.op](a, b)
    raise TypeError(f"cannot evaluate {type(node).__name__} as a scalar")


_FLOAT_OPS: dict[str, Callable[[Array, Array], Array]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "^": np.power,
}


# --- constant parts -----------------------------------------------------------------------------


def check_constants(node: Node, limits: Limits) -> None:
    """Every constant part of the tree has a finite value within the limits; powers are bounded.

    One bottom-up pass in float64. This is what keeps `9^9^9^9` and `exp(exp(exp(exp(100))))`
    from ever being built or evaluated exactly."""
    _constant_pass(node, limits)


def _constant_pass(node: Node, limits: Limits) -> float | None:
    """The node's float value when it is constant, else None; raises on a bad constant."""
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Const):
        return CONSTANT_VALUES[node.name]
    if isinstance(node, Var | Deriv):
        if isinstance(node, Deriv):
            _constant_pass(node.operand, limits)
        return None
    parts = [_constant_pass(child, limits) for child in children(node)]
    if isinstance(node, Call) and node.func not in FLOAT_FUNCTIONS:
        return None
    exponent = parts[1] if isinstance(node, Bin) and node.op == "^" else None
    if exponent is not None and abs(exponent) > limits.max_power:
        raise AnswerParseError(
            f"your answer raises something to the power {exponent:.6g}; powers are limited "
            f"to ±{limits.max_power}"
        )
    if isinstance(node, Bin) and node.op == "/" and parts[1] == 0:
        raise AnswerParseError("your answer divides by zero")
    if any(p is None for p in parts) or isinstance(node, Transpose):
        return None
    if isinstance(node, Bin) and node.op == "@":  # numbers have no matrix product: shapes say so
        return None
    with np.errstate(all="ignore"):
        value = float(_apply(node, [float(p) for p in parts if p is not None]))
    if math.isnan(value):
        raise AnswerParseError(
            "your answer has a constant part with no value (such as 1/0 or log(-1))"
        )
    if not math.isfinite(value) or abs(value) > limits.max_constant:
        raise AnswerParseError(
            "your answer has a constant part too large to work with (over 1e300); "
            "a derivative here is a modest function of the variables"
        )
    return value


def _apply(node: Node, values: list[float]) -> float:
    args = [np.array([v]) for v in values]
    if isinstance(node, Neg):
        return float(-args[0][0])
    if isinstance(node, Call):
        return float(FLOAT_FUNCTIONS[node.func](args[0])[0])
    assert isinstance(node, Bin)
    op = "*" if node.op == "dot" else node.op  # `2·3`, `(2)(3)`: between numbers, a product
    return float(_FLOAT_OPS[op](args[0], args[1])[0])
