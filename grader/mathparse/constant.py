"""Arithmetic written as a number's answer: `784*64 + 64`, `2\\sqrt{52321} - 398`, `\\frac{3}{8}`.

Exact `Fraction` arithmetic while everything stays rational and small; a float as soon as a root,
logarithm or exponential appears. Sizes are bounded before each step, so nothing here can build a
huge integer: a power is refused when its result would exceed `MAX_BITS` bits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

from grader.mathparse.ast import RING_OPERATIONS, Bin, Call, Const, Neg, Node, Num
from grader.mathparse.evaluate import check_constants
from grader.mathparse.limits import Limits
from grader.mathparse.parser import ParseConfig, parse
from grader.parsing.errors import AnswerParseError

MAX_BITS = 4000  # of a numerator or denominator
CONSTANT_LIMITS = Limits(max_length=300, max_tokens=150, max_nodes=100, max_depth=20)
_CONFIG = ParseConfig("scalar", frozenset(), limits=CONSTANT_LIMITS)
_FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
}

Value = Fraction | float


_TIMES_X = re.compile(r"(?<=\d)\s*[xX]\s*(?=\d)")


def evaluate_constant(text: str) -> Value:
    """The value of a constant arithmetic expression, or `AnswerParseError`."""
    if not isinstance(text, str):
        raise AnswerParseError("your answer is not text")
    tree = parse(_TIMES_X.sub("*", text), _CONFIG)
    check_constants(tree, CONSTANT_LIMITS)
    value = _value(tree)
    if isinstance(value, float) and not math.isfinite(value):
        raise AnswerParseError(f"your answer {text!r} has no finite value")
    return value


def _value(node: Node) -> Value:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Const):
        return math.e if node.name == "e" else math.pi
    if isinstance(node, Neg):
        return -_value(node.operand)
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Bin):
        return _binary(node.op, _value(node.left), _value(node.right))
    raise AnswerParseError("your answer is not plain arithmetic")


def _call(node: Call) -> Value:
    if node.func not in _FUNCTIONS_ALLOWED or len(node.args) != 1:
        raise AnswerParseError(f"your answer uses {node.func}, which a number answer does not take")
    arg = _value(node.args[0])
    if node.func == "abs":
        return -arg if arg < 0 else arg
    if node.func == "sqrt" and isinstance(arg, Fraction) and arg >= 0:
        exact = _exact_root(arg)
        if exact is not None:
            return exact
    try:
        return float(_FLOAT_FUNCTIONS[node.func](float(arg)))
    except (ValueError, OverflowError):
        raise AnswerParseError(
            f"your answer takes {node.func} of {float(arg):g}, which has no value"
        ) from None


_FUNCTIONS_ALLOWED = {*_FLOAT_FUNCTIONS, "abs"}


def _exact_root(value: Fraction) -> Fraction | None:
    top, bottom = math.isqrt(value.numerator), math.isqrt(value.denominator)
    if top * top == value.numerator and bottom * bottom == value.denominator:
        return Fraction(top, bottom)
    return None


def _binary(op: str, a: Value, b: Value) -> Value:
    if op in RING_OPERATIONS:
        result: Value = RING_OPERATIONS[op](a, b)
        return result
    if op == "/":
        if b == 0:
            raise AnswerParseError("your answer divides by zero")
        return a / b
    if op == "^":
        return _power(a, b)
    raise AnswerParseError(f"your answer uses `{op}`, which a number answer does not take")


def _power(base: Value, exponent: Value) -> Value:
    if isinstance(base, Fraction) and isinstance(exponent, Fraction) and exponent.denominator == 1:
        bits = max(base.numerator.bit_length(), base.denominator.bit_length()) * abs(
            exponent.numerator
        )
        if bits > MAX_BITS:
            raise AnswerParseError("your answer has a power too large to work with")
        if base == 0 and exponent < 0:
            raise AnswerParseError("your answer divides by zero")
        return base**exponent.numerator
    if base < 0:
        raise AnswerParseError("your answer takes a fractional power of a negative number")
    try:
        return math.pow(float(base), float(exponent))
    except (OverflowError, ValueError, ZeroDivisionError):
        raise AnswerParseError("your answer has a power with no finite value") from None
