"""The tree as sympy objects, built node by node (no `sympify`).

Used by the reference derivations (rubric data, not student input) and to isolate the real roots
of polynomial arguments exactly. No verdict waits on sympy: the decision procedure
(`equivalence.py`) is numeric with guaranteed error bounds, so nothing here runs under a clock.
"""

from __future__ import annotations

from typing import Any

from grader.mathparse.ast import Bin, Call, Const, Neg, Node, Num, Var
from grader.mathparse.functions import sigmoid, sigmoid_prime


def to_sympy(node: Node, symbols: dict[str, Any]) -> Any:
    import sympy

    def build(current: Node) -> Any:
        if isinstance(current, Num):
            return sympy.Rational(current.value.numerator, current.value.denominator)
        if isinstance(current, Const):
            return sympy.E if current.name == "e" else sympy.pi
        if isinstance(current, Var):
            return symbols[current.name]
        if isinstance(current, Neg):
            return -build(current.operand)
        if isinstance(current, Call):
            return _function(current.func, build(current.args[0]), sympy)
        if isinstance(current, Bin):
            a, b = build(current.left), build(current.right)
            ops = {
                "+": lambda: a + b,
                "-": lambda: a - b,
                "*": lambda: a * b,
                "/": lambda: a / b,
                "^": lambda: sympy.Pow(a, b),
            }
            return ops[current.op]()
        raise TypeError(f"{type(current).__name__} has no scalar sympy form")

    return build(node)


def _function(name: str, u: Any, sympy: Any) -> Any:
    table = {
        "sigmoid": lambda: sigmoid(u, sympy.exp),
        "sigmoid_prime": lambda: sigmoid_prime(u, sympy.exp),
        "tanh": lambda: sympy.tanh(u),
        "tanh_prime": lambda: 1 - sympy.tanh(u) ** 2,
        "sech": lambda: sympy.sech(u),
        "sinh": lambda: sympy.sinh(u),
        "cosh": lambda: sympy.cosh(u),
        "exp": lambda: sympy.exp(u),
        "log": lambda: sympy.log(u),
        "sqrt": lambda: sympy.sqrt(u),
        "abs": lambda: sympy.Abs(u),
        "relu": lambda: sympy.Max(0, u),
        "relu_prime": lambda: sympy.Heaviside(u, 0),
        "softplus": lambda: sympy.log(1 + sympy.exp(u)),
        "sin": lambda: sympy.sin(u),
        "cos": lambda: sympy.cos(u),
        "tan": lambda: sympy.tan(u),
    }
    return table[name]()
