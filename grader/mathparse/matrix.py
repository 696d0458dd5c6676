"""Matrix answers in numpy notation: shapes checked first, then values on random draws.

A `World` is what the question declares: symbols with shapes, symbols defined by a forward pass
(`z = W1 @ x + b1`), and element-wise functions. Shapes are inferred on the tree before any array
exists, so a shape error gets its own message and sizes cannot blow up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from grader.mathparse.ast import Bin, Call, Const, Deriv, Neg, Node, Num, Transpose, Var, to_text
from grader.mathparse.evaluate import CONSTANT_VALUES, FLOAT_FUNCTIONS, Array, check_constants
from grader.mathparse.limits import DEFAULT_LIMITS, Limits
from grader.mathparse.parser import ParseConfig, parse
from grader.parsing.errors import AnswerParseError

Shape = tuple[int, ...]

# Stand-ins for a declared but unspecified element-wise function f and its derivative f'.
GENERIC_FUNCTIONS: dict[str, Callable[[Array], Array]] = {
    "generic": lambda u: 0.5 * u + 0.2 * np.sin(1.7 * u + 0.3),
    "generic_prime": lambda u: 0.5 + 0.34 * np.cos(1.7 * u + 0.3),
}


class ShapeError(AnswerParseError):
    """The answer's shapes do not fit together (a verdict, reported as `incorrect`)."""


@dataclass(frozen=True)
class World:
    symbols: dict[str, Shape]  # drawn at random
    definitions: tuple[tuple[str, Node], ...] = ()  # computed from the drawn ones, in order
    functions: dict[str, str] = field(default_factory=dict)  # declared name -> builtin or generic
    one_hot: frozenset[str] = frozenset()  # symbols drawn as one-hot columns (axis 0)
    dim_names: dict[int, str] = field(default_factory=dict)  # 4 -> "K" for messages
    aliases: dict[str, str] = field(default_factory=dict)
    limits: Limits = DEFAULT_LIMITS

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.symbols) | {n for n, _ in self.definitions}

    def config(self) -> ParseConfig:
        derivatives = [n for n, impl in self.functions.items() if impl == "generic_prime"]
        primes = {
            n: derivatives[0]
            for n, impl in self.functions.items()
            if impl == "generic" and derivatives
        }
        return ParseConfig(
            "matrix",
            self.names,
            functions={n: n for n in self.functions},
            primes=primes,
            aliases=self.aliases,
            limits=self.limits,
        )

    def squared(self, size: int = 4) -> World:
        """The same world with every dimension (other than 1) of one size: anything computes."""
        symbols = {n: tuple(1 if d == 1 else size for d in s) for n, s in self.symbols.items()}
        return World(
            symbols, self.definitions, self.functions, self.one_hot, {}, self.aliases, self.limits
        )

    def shapes(self) -> dict[str, Shape]:
        shapes = dict(self.symbols)
        for name, definition in self.definitions:
            shapes[name] = infer_shape(definition, shapes, self)
        return shapes


def parse_matrix(text: str, world: World) -> Node:
    tree = parse(text, world.config())
    check_constants(tree, world.limits)
    return tree


# --- shapes --------------------------------------------------------------------------------------


def describe_shape(shape: Shape, world: World | None = None) -> str:
    if not shape:
        return "a number"
    names = world.dim_names if world else {}
    text = "×".join(str(d) for d in shape)
    if names and all(d in names for d in shape):
        text += " (" + "×".join(names[d] for d in shape) + ")"
    return f"a vector of length {text}" if len(shape) == 1 else f"a {text} matrix"


def infer_shape(node: Node, shapes: dict[str, Shape], world: World) -> Shape:
    budget = _Budget(world.limits)
    return _infer(node, shapes, world, budget)


@dataclass
class _Budget:
    limits: Limits
    flops: int = 0
    elements: int = 0  # summed over every intermediate: the element-wise work

    def size(self, shape: Shape, node: Node) -> Shape:
        self.elements += math.prod(shape)
        if math.prod(shape) > self.limits.max_array_elements:
            raise ShapeError(
                f"your answer builds {to_text(node)[:60]}, an array far too large for this question"
            )
        return shape


def _infer(node: Node, shapes: dict[str, Shape], world: World, budget: _Budget) -> Shape:
    if isinstance(node, Num | Const):
        return ()
    if isinstance(node, Var):
        return shapes[node.name]
    if isinstance(node, Neg):
        return _infer(node.operand, shapes, world, budget)
    if isinstance(node, Transpose):
        return tuple(reversed(_infer(node.operand, shapes, world, budget)))
    if isinstance(node, Deriv):
        raise AnswerParseError("your answer uses d/dx, which matrix answers do not take")
    if isinstance(node, Call):
        args = [_infer(a, shapes, world, budget) for a in node.args]
        return budget.size(_call_shape(node, args, world), node)
    assert isinstance(node, Bin)
    left = _infer(node.left, shapes, world, budget)
    right = _infer(node.right, shapes, world, budget)
    op = node.op
    if op == "dot":
        op = "*" if not left or not right else "@"
    if op == "@":
        return budget.size(_matmul_shape(node, left, right, world, budget), node)
    if op == "^" and right:
        raise ShapeError(
            f"your answer raises to a power that is not a number in {to_text(node)[:60]}"
        )
    return budget.size(_broadcast(node, left, right, world), node)


def _call_shape(node: Call, args: list[Shape], world: World) -> Shape:
    if node.func == "sum":
        return ()
    if node.func == "outer":
        if any(len(a) != 1 for a in args):
            raise ShapeError("your answer takes outer(…) of something that is not a vector")
        return (args[0][0], args[1][0])
    return args[0]


def _matmul_shape(node: Bin, a: Shape, b: Shape, world: World, budget: _Budget) -> Shape:
    text = to_text(node)
    if not a or not b:
        raise ShapeError(
            f"your answer uses @ with a number in `{_clip(text)}`; @ multiplies matrices and "
            "vectors, write * to scale by a number"
        )
    if len(a) > 2 or len(b) > 2 or a[-1] != b[0]:
        raise ShapeError(
            f"your answer cannot be computed: `{_clip(text)}` multiplies "
            f"{describe_shape(a, world)} by {describe_shape(b, world)}, and {a[-1]} ≠ {b[0]}"
        )
    budget.flops += math.prod(a) * (b[-1] if len(b) == 2 else 1)
    if budget.flops > budget.limits.max_matmul_flops:
        raise ShapeError("your answer needs far more arithmetic than this question can take")
    return a[:-1] + b[1:]


def _broadcast(node: Bin, a: Shape, b: Shape, world: World) -> Shape:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        word = {"+": "adds", "-": "subtracts", "*": "multiplies element-wise", "/": "divides"}[
            node.op
        ]
        raise ShapeError(
            f"your answer cannot be computed: `{_clip(to_text(node))}` {word} "
            f"{describe_shape(a, world)} and {describe_shape(b, world)}"
        ) from None


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


# --- values --------------------------------------------------------------------------------------


def draw(world: World, seed: int) -> dict[str, Array]:
    """One random draw of the symbols, with the defined ones computed from it."""
    rng = np.random.default_rng(seed)
    env: dict[str, Array] = {}
    for name in sorted(world.symbols):
        shape = world.symbols[name]
        if name in world.one_hot:
            env[name] = _one_hot(rng, shape)
        else:
            env[name] = rng.standard_normal(shape)
    for name, definition in world.definitions:
        env[name] = evaluate(definition, env, world)[0]
    return env


def _one_hot(rng: np.random.Generator, shape: Shape) -> Array:
    out = np.zeros(shape)
    if len(shape) == 1:
        out[rng.integers(shape[0])] = 1.0
    else:
        out[rng.integers(shape[0], size=shape[1]), np.arange(shape[1])] = 1.0
    return out


def evaluate(node: Node, env: dict[str, Array], world: World) -> tuple[Array, float]:
    """The value and the largest |intermediate| (for a cancellation-aware tolerance)."""
    scale = 0.0

    def visit(current: Node) -> Any:
        nonlocal scale
        value = _value(current, visit, env, world)
        finite = np.abs(np.asarray(value, dtype=np.float64)[np.isfinite(value)])
        if finite.size:
            scale = max(scale, float(finite.max()))
        return value

    with np.errstate(all="ignore"):
        result = np.asarray(visit(node), dtype=np.float64)
    return result, scale


def _value(node: Node, visit: Callable[[Node], Any], env: dict[str, Array], world: World) -> Any:
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Const):
        return CONSTANT_VALUES[node.name]
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Neg):
        return -visit(node.operand)
    if isinstance(node, Transpose):
        return np.asarray(visit(node.operand)).T
    if isinstance(node, Call):
        return _call(node.func, [visit(a) for a in node.args], world)
    assert isinstance(node, Bin)
    a, b = visit(node.left), visit(node.right)
    op = node.op
    if op == "dot":
        op = "*" if np.ndim(a) == 0 or np.ndim(b) == 0 else "@"
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+": np.add,
        "-": np.subtract,
        "*": np.multiply,
        "/": np.divide,
        "^": np.power,
        "@": np.matmul,
    }
    return ops[op](a, b)


def _call(func: str, args: list[Any], world: World) -> Any:
    impl = world.functions.get(func, func)
    u = np.asarray(args[0], dtype=np.float64)
    if impl in GENERIC_FUNCTIONS:
        return GENERIC_FUNCTIONS[impl](u)
    if impl == "sum":
        return np.sum(u)
    if impl == "outer":
        return np.outer(u, np.asarray(args[1], dtype=np.float64))
    if impl == "softmax":
        shifted = np.exp(u - np.max(u, axis=0, keepdims=True))
        return shifted / np.sum(shifted, axis=0, keepdims=True)
    return FLOAT_FUNCTIONS[impl](u)


# --- comparison ----------------------------------------------------------------------------------

MatrixOutcome = Literal["equal", "different", "transposed", "shape", "undefined", "undecided"]
RTOL = 1e-9  # only for naming a constant factor in feedback, never for a verdict


@dataclass
class MatrixComparison:
    outcome: MatrixOutcome
    message: str = ""
    factor: float | None = None  # got = factor · expected on every draw (a hint for feedback)
    details: dict[str, Any] = field(default_factory=dict)


def compare_matrix(got: Node, expected: Node, world: World, **_ignored: Any) -> MatrixComparison:
    """Exact (rational) or ball-arithmetic comparison on seeded rational draws (`matrix_exact`)."""
    from grader.mathparse.balls import Indeterminate, Undefined
    from grader.mathparse.matrix_exact import (
        DRAW_SCALES,
        agreement,
        as_floats,
        evaluate_pair,
        rational_draw,
    )

    shapes = world.shapes()
    got_shape = infer_shape(got, shapes, world)  # ShapeError propagates: the caller words it
    want_shape = infer_shape(expected, shapes, world)
    if not _same_shape(got_shape, want_shape) and not _same_shape(got_shape[::-1], want_shape):
        return MatrixComparison(
            "shape",
            f"your answer is {describe_shape(got_shape, world)}; the answer should be "
            f"{describe_shape(want_shape, world)}",
        )
    transposed_only = not _same_shape(got_shape, want_shape)
    work = arithmetic(got, shapes, world) + arithmetic(expected, shapes, world) + sum(
        arithmetic(definition, shapes, world) for _, definition in world.definitions
    )
    if work > EXACT_WORK:
        return MatrixComparison(
            "undecided", f"beyond the checker's budgets (about {work:,} exact operations)"
        )
    seed = _seed(got)
    straight: set[str] = set()
    flipped: set[str] = set()
    ratios: list[float] = []
    usable = 0
    for index, scale in enumerate(DRAW_SCALES):
        try:
            draw = rational_draw(world, seed + index, scale)
            g, e, _precision = evaluate_pair(got, expected, world, draw, (seed + index, scale))
        except Undefined:  # the reference has no value on this draw: it says nothing
            continue
        except Indeterminate:
            straight.add("unresolved")
            continue
        if g is None:
            return MatrixComparison(
                "undefined",
                "your answer has no value on some inputs where the correct result has one "
                "(a log or square root of a negative number, or a division by 0?)",
            )
        usable += 1
        straight.add("different" if transposed_only else agreement(g, e))
        flipped.add(agreement(g.T, e) if g.ndim == 2 else "different")
        ratios.append(_ratio(as_floats(g), as_floats(e), 0.0))
        if "different" in straight and "different" in flipped and math.isnan(ratios[0]):
            break  # nothing further to learn from more draws
    if "different" not in straight and ("unresolved" in straight or usable < 2):
        return MatrixComparison("undecided", "the draws could not be evaluated precisely enough")
    if straight == {"agree"}:
        return MatrixComparison("equal", f"equal on {usable} rational draws")
    if flipped == {"agree"}:
        return MatrixComparison("transposed", "your answer is the transpose of the expected matrix")
    factor = (
        ratios[0]
        if ratios and all(math.isclose(r, ratios[0], rel_tol=1e-7) for r in ratios)
        else None
    )
    if factor is not None and (factor == 0 or math.isclose(factor, 1, rel_tol=1e-7)):
        factor = None
    return MatrixComparison("different", "", factor=factor)


EXACT_WORK = 100_000  # element operations of one exact or ball draw (a count, never a time)


def arithmetic(node: Node, shapes: dict[str, Shape], world: World) -> int:
    """Multiply-adds of the matrix products plus elements of every intermediate."""
    budget = _Budget(world.limits)
    _infer(node, shapes, world, budget)
    return budget.flops + budget.elements


def _seed(got: Node) -> int:
    """Draws depend on the answer (not fixed in the source), the same for every candidate."""
    import hashlib

    text = to_text(got)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")


def _same_shape(a: Shape, b: Shape) -> bool:
    """Equal shapes; a vector also matches a column or row of the same length."""
    if a == b:
        return True
    squeeze_a = tuple(d for d in a if d != 1)
    squeeze_b = tuple(d for d in b if d != 1)
    return (len(a) == 1 or len(b) == 1) and squeeze_a == squeeze_b


def _close(g: Array, e: Array, tol: float) -> bool:
    if g.shape != e.shape:
        if g.size != e.size:
            return False
        g = g.reshape(e.shape)
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(g - e) <= RTOL * np.abs(e) + tol))


def _ratio(g: Array, e: Array, tol: float) -> float:
    """The constant c with g = c·e, or nan when there is none."""
    if g.size != e.size:
        return math.nan
    g = g.reshape(e.shape)
    big = np.abs(e) > 1e-6 * max(float(np.max(np.abs(e))), 1e-300)
    if not big.any():
        return math.nan
    ratios = g[big] / e[big]
    c = float(np.median(ratios))
    return c if _close(g, c * e, tol * max(1.0, abs(c))) else math.nan
