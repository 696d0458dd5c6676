"""The parser's own expression tree: small frozen nodes, a printer that round-trips, and walks.

Nothing here evaluates anything. Numbers are exact `Fraction`s of what the student wrote.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Num:
    value: Fraction


@dataclass(frozen=True)
class Const:
    name: str  # "e" or "pi"


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Call:
    func: str  # a canonical function name from `functions.py` or a declared element-wise one
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Bin:
    op: str  # + - * / ^ @, and `dot`: `·` or juxtaposition in matrix answers (either product)
    left: Node
    right: Node


@dataclass(frozen=True)
class Transpose:
    operand: Node


@dataclass(frozen=True)
class Deriv:
    """d/dvar of operand, written `d/dx σ(2x)` or `\\frac{d}{dx}…`; expanded before evaluation."""

    operand: Node
    var: str


Node = Num | Const | Var | Call | Neg | Bin | Transpose | Deriv

# + − × mean the same in every number type the evaluators use (fractions, arrays of them, balls):
# the evaluators look these up and differ only where it matters (division, powers, `@`).
RING_OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}

_PRECEDENCE = {"+": 10, "-": 10, "*": 20, "/": 20, "@": 20, "dot": 20, "^": 40}
_NEG = 30
_ATOM = 100


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Neg | Transpose | Deriv):
        return (node.operand,)
    if isinstance(node, Bin):
        return (node.left, node.right)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node, parents first (iterative: trees are depth-limited, but walks need no stack)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def count_nodes(node: Node) -> int:
    return sum(1 for _ in walk(node))


def free_variables(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Var)}


def functions_used(node: Node) -> set[str]:
    return {n.func for n in walk(node) if isinstance(n, Call)}


# --- printing ----------------------------------------------------------------------------------


def format_fraction(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    as_float = float(value)
    if Fraction(repr(as_float)) == value:
        return repr(as_float)
    return f"({value.numerator}/{value.denominator})"


def _precedence(node: Node) -> int:
    if isinstance(node, Bin):
        return _PRECEDENCE[node.op]
    if isinstance(node, Neg):
        return _NEG
    if isinstance(node, Num) and (node.value < 0 or node.value.denominator != 1):
        return _NEG if node.value < 0 else _ATOM
    return _ATOM


_SHOW_FUNC = {"sigmoid": "σ", "sigmoid_prime": "σ'"}


def to_text(node: Node, *, pretty: bool = False) -> str:
    """Plain syntax that the parser reads back to the same tree (`pretty` uses σ and ·)."""
    if isinstance(node, Num):
        return format_fraction(node.value)
    if isinstance(node, Const | Var):
        return node.name
    if isinstance(node, Call):
        name = _SHOW_FUNC.get(node.func, node.func) if pretty else node.func
        return f"{name}({', '.join(to_text(a, pretty=pretty) for a in node.args)})"
    if isinstance(node, Neg):
        return "-" + _wrap(node.operand, _NEG, pretty, strict=True)
    if isinstance(node, Transpose):
        return _wrap(node.operand, _ATOM, pretty, strict=False) + ".T"
    if isinstance(node, Deriv):
        return f"d/d{node.var}({to_text(node.operand, pretty=pretty)})"
    prec = _PRECEDENCE[node.op]
    right_assoc = node.op == "^"
    left = _wrap(node.left, prec, pretty, strict=right_assoc)
    right = _wrap(node.right, prec, pretty, strict=not right_assoc)
    op = {"dot": "·", "^": "^"}.get(node.op, node.op)
    if node.op in ("*", "dot") and pretty:
        op = "·" if node.op == "dot" else "*"
    if node.op == "^":
        return f"{left}^{right}"
    return f"{left} {op} {right}" if node.op in "+-@" or node.op == "dot" else f"{left}{op}{right}"


def _wrap(node: Node, outer: int, pretty: bool, *, strict: bool) -> str:
    text = to_text(node, pretty=pretty)
    inner = _precedence(node)
    needs = inner < outer or (strict and inner == outer)
    return f"({text})" if needs else text


def depth(node: Node) -> int:
    """The tree's depth, computed without recursion."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(current))
    return deepest
