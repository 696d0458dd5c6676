"""The tree as sympy objects, built node by node (no `sympify`), and a bounded proof attempt.

Constant parts were checked to be small before we get here, so building never evaluates a
huge number. Simplification can still be slow: it runs under a soft deadline (SIGALRM in the
main thread) and, in the worker, under the worker's hard time limit as well.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from grader.mathparse.ast import Bin, Call, Const, Neg, Node, Num, Var

Verdict = Literal["zero", "nonzero", "unknown"]


class SymbolicTimeout(Exception):
    """The soft deadline of a symbolic step passed."""


@contextmanager
def soft_deadline(seconds: float) -> Iterator[None]:
    """Interrupt Python code after `seconds` (main thread only; elsewhere a no-op)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise SymbolicTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
    sigmoid = 1 / (1 + sympy.exp(-u))
    table = {
        "sigmoid": lambda: sigmoid,
        "sigmoid_prime": lambda: sigmoid * (1 - sigmoid),
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


def symbolic_difference(
    got: Node, expected: Node, definitions: dict[str, Node], seconds: float
) -> Verdict:
    """`zero` when sympy proves got − expected = 0; `nonzero` when the difference simplifies to a
    non-zero rational function of the variables; else `unknown`."""
    import sympy

    with soft_deadline(seconds):
        names = _names(got, expected, definitions)
        symbols = {n: sympy.Symbol(n, real=True) for n in names}
        for name, definition in definitions.items():
            symbols[name] = to_sympy(definition, symbols)
        difference = to_sympy(got, symbols) - to_sympy(expected, symbols)
        if difference == 0:
            return "zero"
        rewritten = difference.rewrite(sympy.exp)
        base = [s for s in symbols.values() if isinstance(s, sympy.Symbol)]
        if rewritten.is_rational_function(*base):
            return "zero" if sympy.cancel(sympy.together(rewritten)) == 0 else "nonzero"
        simplified = sympy.simplify(rewritten)
        if simplified == 0:
            return "zero"
        if simplified.is_rational_function(*base) and sympy.cancel(simplified) != 0:
            return "nonzero"
        return "unknown"


def _names(got: Node, expected: Node, definitions: dict[str, Node]) -> set[str]:
    from grader.mathparse.ast import free_variables

    names = free_variables(got) | free_variables(expected)
    for definition in definitions.values():
        names |= free_variables(definition)
    return names - set(definitions)
