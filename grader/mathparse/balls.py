"""Scalar trees evaluated in ball arithmetic (python-flint's `arb`): every value is an interval
guaranteed to contain the true real value, whatever the cancellation inside the formula.

A ball that excludes 0 proves a difference; a ball of tiny radius around 0 is evidence of
equality at that point. A point where a function has no real value raises `Undefined` when the
ball proves it (log of a ball entirely ≤ 0) and `Indeterminate` when the ball straddles the edge
(more precision may settle it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction

from flint import arb, ctx, fmpq

from grader.mathparse.ast import Bin, Call, Const, Neg, Node, Num, Var, count_nodes
from grader.mathparse.functions import sigmoid, sigmoid_prime


class Undefined(Exception):
    """The formula provably has no real value at this point."""


class Indeterminate(Exception):
    """The ball straddles a domain edge, a pole or a step, or is not finite: try more digits."""


class Unsupported(Exception):
    """A function this evaluator does not know (the check is then undecided, never passed)."""


def to_ball(value: Fraction) -> arb:
    return arb(fmpq(value.numerator, value.denominator))


class OverBudget(Exception):
    """A check used up its work budget (a count of operations, never a time)."""


class WorkBudget:
    """Operations a check may spend: tree nodes evaluated, weighted by working precision."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0


_BUDGETS: list[WorkBudget] = []


@contextmanager
def work_budget(limit: int) -> Iterator[WorkBudget]:
    budget = WorkBudget(limit)
    _BUDGETS.append(budget)
    try:
        yield budget
    finally:
        _BUDGETS.pop()


def charge(nodes: int, precision: int) -> None:
    if _BUDGETS:
        budget = _BUDGETS[-1]
        budget.spent += nodes * (1 + precision // 1024)
        if budget.spent > budget.limit:
            raise OverBudget(f"more than {budget.limit:,} operations")


class Compiled:
    """A tree compiled to closures, with its size for the work budget."""

    __slots__ = ("function", "size")

    def __init__(self, function: Callable[[dict[str, arb]], arb], size: int) -> None:
        self.function, self.size = function, size


def evaluate_ball(node: Node | Compiled, env: dict[str, Fraction | arb], precision: int) -> arb:
    """The value of `node` (a tree, or one compiled by `compile_ball`) at `env` as a ball computed
    with `precision` bits (exact rational coordinates become balls at that precision too)."""
    charge(node.size if isinstance(node, Compiled) else count_nodes(node), precision)
    with ctx.workprec(precision):
        balls = {k: to_ball(v) if isinstance(v, Fraction) else v for k, v in env.items()}
        value = node.function(balls) if isinstance(node, Compiled) else _ball(node, balls)
    if not value.is_finite():
        raise Indeterminate
    return value


def compile_ball(node: Node) -> Compiled:
    """The tree as nested closures: the same arithmetic as `_ball`, without dispatch per point."""
    return Compiled(_compile(node), count_nodes(node))


def _compile(node: Node) -> Callable[[dict[str, arb]], arb]:
    if isinstance(node, Num):
        rational = fmpq(node.value.numerator, node.value.denominator)
        return lambda env: arb(rational)
    if isinstance(node, Const):
        return (lambda env: arb.const_e()) if node.name == "e" else (lambda env: arb.pi())
    if isinstance(node, Var):
        name = node.name
        return lambda env: env[name]
    if isinstance(node, Neg):
        inner = _compile(node.operand)
        return lambda env: -inner(env)
    if isinstance(node, Call):
        rule = BALL_FUNCTIONS.get(node.func)
        if rule is None or len(node.args) != 1:
            raise Unsupported(node.func)
        argument = _compile(node.args[0])
        return lambda env: _finite(rule(argument(env)))
    if isinstance(node, Bin) and node.op in _COMPILED_OPS:
        left, right = _compile(node.left), _compile(node.right)
        op = _COMPILED_OPS[node.op]
        return lambda env: op(left(env), right(env))
    return lambda env: _ball(node, env)  # powers and anything rarer: the plain walk


_COMPILED_OPS: dict[str, Callable[[arb, arb], arb]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: _finite(a * b),
    "dot": lambda a, b: _finite(a * b),
    "/": lambda a, b: _finite(a / _nonzero(b)),
}


def _ball(node: Node, env: dict[str, arb]) -> arb:
    if isinstance(node, Num):
        return to_ball(node.value)
    if isinstance(node, Const):
        return arb.const_e() if node.name == "e" else arb.pi()
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Neg):
        return -_ball(node.operand, env)
    if isinstance(node, Call):
        rule = BALL_FUNCTIONS.get(node.func)
        if rule is None or len(node.args) != 1:
            raise Unsupported(node.func)
        return _finite(rule(_ball(node.args[0], env)))
    if isinstance(node, Bin):
        if node.op == "^":
            return _power(node, env)
        a, b = _ball(node.left, env), _ball(node.right, env)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op in ("*", "dot"):
            return _finite(a * b)
        if node.op == "/":
            return _finite(a / _nonzero(b))
    raise Unsupported(type(node).__name__)


def _finite(value: arb) -> arb:
    if not value.is_finite():
        raise Indeterminate
    return value


def _nonzero(b: arb) -> arb:
    if b.is_zero():
        raise Undefined
    if b.contains(0):
        raise Indeterminate
    return b


def _power(node: Bin, env: dict[str, arb]) -> arb:
    base = _ball(node.left, env)
    if isinstance(node.right, Num) and node.right.value.denominator == 1:
        exponent = int(node.right.value)
        if exponent < 0:
            base = _nonzero(base)
        return _finite(base**exponent)
    exponent_ball = _ball(node.right, env)
    if exponent_ball.is_exact() and exponent_ball.is_integer():
        whole = _whole(exponent_ball)
        if whole < 0:
            base = _nonzero(base)
        return _finite(base**whole)
    if base > 0:
        return _finite(base**exponent_ball)
    if base.is_zero() and exponent_ball > 0:
        return arb(0)
    if base < 0 or base.is_zero():
        raise Undefined  # a fractional power of a negative number, or 0 to a power ≤ 0
    raise Indeterminate


def _whole(exact_integer: arb) -> int:
    value = exact_integer.unique_fmpz()
    assert value is not None  # the caller checked: an exact integer ball
    return int(value)


def _positive(u: arb) -> arb:
    if u > 0:
        return u
    if u < 0 or u.is_zero() or u.upper() <= 0:
        raise Undefined
    raise Indeterminate


def _nonnegative(u: arb) -> arb:
    if u >= 0:
        return u
    if u.upper() < 0:
        raise Undefined
    raise Indeterminate


def _relu(u: arb) -> arb:
    if u >= 0:
        return u
    if u <= 0:
        return arb(0)
    return u.nonnegative_part()


def _step(u: arb) -> arb:
    if u > 0:
        return arb(1)
    if u <= 0:
        return arb(0)
    raise Indeterminate


def _tan(u: arb) -> arb:
    return u.sin() / _nonzero(u.cos())


BALL_FUNCTIONS: dict[str, Callable[[arb], arb]] = {
    "sigmoid": lambda u: sigmoid(u, arb.exp),
    "sigmoid_prime": lambda u: sigmoid_prime(u, arb.exp),
    "tanh": lambda u: u.tanh(),
    "tanh_prime": lambda u: u.sech() ** 2,
    "sech": lambda u: u.sech(),
    "sinh": lambda u: u.sinh(),
    "cosh": lambda u: u.cosh(),
    "exp": lambda u: u.exp(),
    "log": lambda u: _positive(u).log(),
    "log2": lambda u: _positive(u).log() / arb(2).log(),
    "log10": lambda u: _positive(u).log() / arb(10).log(),
    "sqrt": lambda u: _nonnegative(u).nonnegative_part().sqrt(),
    "abs": abs,
    "relu": _relu,
    "relu_prime": _step,
    "softplus": lambda u: (1 + u.exp()).log(),
    "sin": lambda u: u.sin(),
    "cos": lambda u: u.cos(),
    "tan": _tan,
}

# Functions analytic on the whole real line (no kinks, edges or poles of their own).
ENTIRE = frozenset(
    {"sigmoid", "sigmoid_prime", "tanh", "tanh_prime", "sech", "sinh", "cosh", "exp", "softplus",
     "sin", "cos"}
)
# Functions whose argument's zeros are kinks, steps or domain edges.
EDGED = frozenset({"log", "log2", "log10", "sqrt", "abs", "relu", "relu_prime"})
