"""Matrix answers compared in exact rational or ball arithmetic, on seeded rational draws.

Symbols are drawn as matrices of rationals. While an answer uses only matrix products, sums,
transposes, element-wise products, integer powers, divisions, relu and abs, its value is computed
exactly (`fmpq`): equal polynomials agree on every draw and different ones disagree except on a
set of probability ~0 (Schwartz–Zippel). Element-wise transcendental functions (σ, exp, log,
softmax, a declared f) switch the whole draw to ball arithmetic (`arb`), with the precision raised
until every entry of the difference is proved non-zero or bounded below 2^-1100 · max(1, |e|).
No tolerance depends on the size of intermediate values: `W.T @ d + 1e15 - 1e15` is exact.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
from flint import arb, ctx, fmpq

from grader.mathparse.ast import RING_OPERATIONS, Bin, Call, Const, Neg, Node, Num, Transpose, Var
from grader.mathparse.balls import BALL_FUNCTIONS, Indeterminate, Undefined, _whole

TOLERANCE_BITS = 1100
PRECISIONS = (1216, 2432, 4864, 9728)
TOLERANCE = arb(2) ** (-TOLERANCE_BITS)  # exact: a power of two
_ONE = arb(1)
DRAW_SCALES = (1, 1, 40)  # the last draw reaches further out (exp, σ saturate there)
_ENVIRONMENTS: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}  # forward passes, reused
DENOMINATOR = 2**12


class NeedBalls(Exception):
    """A step exact rationals cannot take (σ, exp, π, …): use ball arithmetic."""


def rational_draw(world: Any, seed: int, scale: int) -> dict[str, Any]:
    """One draw of the symbols as object arrays of `fmpq` (one-hot columns where declared)."""
    rng = random.Random(seed)
    env: dict[str, Any] = {}
    for name in sorted(world.symbols):
        shape = world.symbols[name]
        size = math.prod(shape)
        if name in world.one_hot:
            values = np.zeros(shape, dtype=np.int64)
            rows = shape[0]
            if len(shape) == 1:
                values[rng.randrange(rows)] = 1
            else:
                for column in range(shape[1]):
                    values[rng.randrange(rows), column] = 1
            array = np.array([fmpq(int(v)) for v in values.flat], dtype=object).reshape(shape)
        else:
            top = 3 * scale * DENOMINATOR
            entries = [fmpq(rng.randint(-top, top), DENOMINATOR) for _ in range(size)]
            array = np.array(entries, dtype=object).reshape(shape)
        env[name] = array
    return env


def evaluate_exact(node: Node, env: dict[str, Any], world: Any, balls: bool) -> Any:
    """The value as an object array (or a scalar) of fmpq, or of arb when `balls`."""

    def visit(current: Node) -> Any:
        return _value(current, visit, env, world, balls)

    return visit(node)


def cached_definitions(world: Any, draw_key: tuple[int, int], env: dict[str, Any], balls: bool,
                       needed: frozenset[str]) -> dict[str, Any]:
    """`with_definitions`, remembered for the other candidates of the same answer (a draw is a
    pure function of its seed, so reuse cannot change a result)."""
    key = (id(world), draw_key, ctx.prec if balls else 0, needed)
    hit = _ENVIRONMENTS.get(key)
    if hit is not None and hit[0] is world:
        return hit[1]
    if len(_ENVIRONMENTS) > 64:
        _ENVIRONMENTS.clear()
    computed = with_definitions(world, env, balls, needed)
    _ENVIRONMENTS[key] = (world, computed)
    return computed


def with_definitions(world: Any, env: dict[str, Any], balls: bool,
                     needed: frozenset[str] | None = None) -> dict[str, Any]:
    """The draw with the forward pass computed (only the definitions `needed` ones use)."""
    wanted = _closure(world, needed) if needed is not None else None
    out = {k: (_to_arb(v) if balls else v) for k, v in env.items()}
    for name, definition in world.definitions:
        if wanted is None or name in wanted:
            out[name] = evaluate_exact(definition, out, world, balls)
    return out


def _closure(world: Any, needed: frozenset[str]) -> set[str]:
    from grader.mathparse.ast import free_variables

    wanted = set(needed)
    for name, definition in reversed(world.definitions):
        if name in wanted:
            wanted |= free_variables(definition)
    return wanted


def _to_arb(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _elementwise(lambda v: arb(v) if isinstance(v, fmpq) else v)(value)
    return arb(value) if isinstance(value, fmpq) else value


def _elementwise(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    vectorised = np.frompyfunc(func, 1, 1)

    def apply(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return vectorised(value).astype(object)
        return func(value)

    return apply


def _number(value: Any, balls: bool) -> Any:
    return arb(value) if balls else value


def _value(node: Node, visit: Callable[[Node], Any], env: dict[str, Any], world: Any,
           balls: bool) -> Any:
    if isinstance(node, Num):
        return _number(fmpq(node.value.numerator, node.value.denominator), balls)
    if isinstance(node, Const):
        if not balls:
            raise NeedBalls
        return arb.const_e() if node.name == "e" else arb.pi()
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Neg):
        return -visit(node.operand)
    if isinstance(node, Transpose):
        value = visit(node.operand)
        return value.T if isinstance(value, np.ndarray) else value
    if isinstance(node, Call):
        return _call(node.func, [visit(a) for a in node.args], world, balls)
    assert isinstance(node, Bin)
    a, b = visit(node.left), visit(node.right)
    op = node.op
    if op == "dot":
        op = "*" if np.ndim(a) == 0 or np.ndim(b) == 0 else "@"
    if op in RING_OPERATIONS:
        return RING_OPERATIONS[op](a, b)
    if op == "@":
        return np.matmul(a, b)
    if op == "/":
        return a * _elementwise(lambda v: 1 / _nonzero(v))(b)
    if op == "^":
        return _power(a, b, balls)
    raise TypeError(op)


def _nonzero(value: Any) -> Any:
    if value == 0:
        raise Undefined
    if isinstance(value, arb) and value.contains(0):
        raise Indeterminate
    return value


def _power(a: Any, b: Any, balls: bool) -> Any:
    if isinstance(b, fmpq) and b.q == 1:
        exponent = int(b.p)
    elif isinstance(b, arb) and b.is_exact() and b.is_integer():
        exponent = _whole(b)
    else:
        if not balls:
            raise NeedBalls
        return _elementwise(lambda v: _real_power(v, b))(a)
    if exponent < 0:
        a = _elementwise(_nonzero)(a)
    return _elementwise(lambda v: v**exponent)(a)


def _real_power(base: Any, exponent: Any) -> Any:
    if base > 0:
        return base**exponent
    if base < 0:
        raise Undefined
    raise Indeterminate


_EXACT: dict[str, Callable[[Any], Any]] = {
    "relu": lambda v: v if v > 0 else fmpq(0),
    "abs": lambda v: v if v >= 0 else -v,
    "relu_prime": lambda v: fmpq(1) if v > 0 else fmpq(0),
}


def _call(func: str, args: list[Any], world: Any, balls: bool) -> Any:
    impl = world.functions.get(func, func)
    u = args[0]
    if impl == "sum":
        return np.sum(u) if isinstance(u, np.ndarray) else u
    if impl == "outer":
        return np.multiply.outer(u, args[1])
    if not balls:
        if impl not in _EXACT:
            raise NeedBalls
        return _elementwise(_EXACT[impl])(u)
    if impl == "softmax":
        exps = _elementwise(lambda v: v.exp())(u)
        return exps / np.sum(exps, axis=0, keepdims=True)
    rule = GENERIC_BALLS.get(impl) or BALL_FUNCTIONS.get(impl)
    if rule is None:
        raise NeedBalls(impl)
    return _elementwise(lambda v: _checked(rule(v)))(u)


def _checked(value: arb) -> arb:
    if not value.is_finite():
        raise Indeterminate
    return value


GENERIC_BALLS: dict[str, Callable[[arb], arb]] = {
    "generic": lambda u: u / 2 + arb("0.2") * (arb("1.7") * u + arb("0.3")).sin(),
    "generic_prime": lambda u: arb("0.5") + arb("0.34") * (arb("1.7") * u + arb("0.3")).cos(),
}


# --- one draw, compared ----------------------------------------------------------------------------


def evaluate_pair(got: Node, expected: Node, world: Any, draw: dict[str, Any],
                  draw_key: tuple[int, int]) -> tuple[Any, Any, int | None]:
    """Both values on one draw: exactly when possible, else as balls at the first precision
    that settles them (the precision is returned; None for exact)."""

    needed = frozenset(name for name, _ in world.definitions)  # the whole pass, shared by candidates
    try:
        env = cached_definitions(world, draw_key, draw, False, needed)
        return (np.asarray(evaluate_exact(got, env, world, False), dtype=object),
                np.asarray(evaluate_exact(expected, env, world, False), dtype=object), None)
    except NeedBalls:
        pass
    last: Exception = Indeterminate()
    for precision in PRECISIONS:
        with ctx.workprec(precision):
            try:
                env = cached_definitions(world, draw_key, draw, True, needed)
                e = np.asarray(evaluate_exact(expected, env, world, True), dtype=object)
            except (Undefined, Indeterminate) as err:
                last = err
                continue
            try:
                g = np.asarray(evaluate_exact(got, env, world, True), dtype=object)
            except Undefined:
                return None, e, precision
            except Indeterminate as err:
                last = err
                continue
            if settled(g, e) and (g.ndim != 2 or settled(g.T, e)):
                return g, e, precision
    raise last


def settled(g: Any, e: Any) -> bool:
    """Every entry of g − e either provably non-zero or provably tiny."""
    if g.size != e.size:
        return True
    g = g.reshape(e.shape)
    return all(_entry(a, b) != "unresolved" for a, b in zip(g.flat, e.flat, strict=True))


def _entry(g: Any, e: Any) -> str:
    if not isinstance(g, arb) and not isinstance(e, arb):
        return "agree" if g == e else "different"
    g, e = arb(g), arb(e)
    difference = g - e
    if not difference.contains(0):
        return "different"
    tolerance = TOLERANCE * max(_ONE, abs(e).upper())
    return "agree" if difference.rad() <= tolerance else "unresolved"


def agreement(g: Any, e: Any) -> str:
    """`agree`, `different` or `unresolved` for whole arrays of the same size."""
    if g.size != e.size:
        return "different"
    verdicts = {_entry(a, b) for a, b in zip(g.reshape(e.shape).flat, e.flat, strict=True)}
    if "different" in verdicts:
        return "different"
    return "unresolved" if "unresolved" in verdicts else "agree"


def as_floats(value: Any) -> Any:
    def one(v: Any) -> float:
        try:
            number = float(v.mid()) if isinstance(v, arb) else float(v.p) / float(v.q)
        except (OverflowError, ValueError, ZeroDivisionError):
            return math.nan
        return number

    return np.array([one(v) for v in value.flat], dtype=np.float64).reshape(value.shape)
