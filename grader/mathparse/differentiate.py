"""d/dx on the parser's tree, for answers written as `2·d/dx σ(2x)`. Rules only, no evaluation."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from grader.mathparse.ast import Bin, Call, Const, Deriv, Neg, Node, Num, Transpose, Var, children
from grader.parsing.errors import AnswerParseError

ZERO = Num(Fraction(0))
ONE = Num(Fraction(1))
TWO = Num(Fraction(2))


def add(a: Node, b: Node) -> Node:
    if a == ZERO:
        return b
    if b == ZERO:
        return a
    return Bin("+", a, b)


def sub(a: Node, b: Node) -> Node:
    if b == ZERO:
        return a
    if a == ZERO:
        return neg(b)
    return Bin("-", a, b)


def neg(a: Node) -> Node:
    if a == ZERO:
        return ZERO
    if isinstance(a, Neg):
        return a.operand
    return Neg(a)


def mul(a: Node, b: Node) -> Node:
    if ZERO in (a, b):
        return ZERO
    if a == ONE:
        return b
    if b == ONE:
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value * b.value)
    return Bin("*", a, b)


def div(a: Node, b: Node) -> Node:
    if a == ZERO:
        return ZERO
    if b == ONE:
        return a
    return Bin("/", a, b)


def power(a: Node, b: Node) -> Node:
    if b == ONE:
        return a
    return Bin("^", a, b)


def call(name: str, arg: Node) -> Node:
    return Call(name, (arg,))


# f'(u) for each whitelisted scalar function, as a tree in u
_DERIVATIVES: dict[str, Callable[[Node], Node]] = {
    "sigmoid": lambda u: call("sigmoid_prime", u),
    "sigmoid_prime": lambda u: mul(
        call("sigmoid_prime", u), sub(ONE, mul(TWO, call("sigmoid", u)))
    ),
    "tanh": lambda u: call("tanh_prime", u),
    "tanh_prime": lambda u: mul(Num(Fraction(-2)), mul(call("tanh", u), call("tanh_prime", u))),
    "sech": lambda u: neg(mul(call("sech", u), call("tanh", u))),
    "sinh": lambda u: call("cosh", u),
    "cosh": lambda u: call("sinh", u),
    "exp": lambda u: call("exp", u),
    "log": lambda u: div(ONE, u),
    "sqrt": lambda u: div(ONE, mul(TWO, call("sqrt", u))),
    "abs": lambda u: div(u, call("abs", u)),
    "relu": lambda u: call("relu_prime", u),
    "relu_prime": lambda u: ZERO,
    "softplus": lambda u: call("sigmoid", u),
    "sin": lambda u: call("cos", u),
    "cos": lambda u: neg(call("sin", u)),
    "tan": lambda u: add(ONE, power(call("tan", u), TWO)),
}


def differentiate(node: Node, var: str) -> Node:
    """d(node)/d(var), with trivial zeros and ones folded away."""
    if isinstance(node, Num | Const):
        return ZERO
    if isinstance(node, Var):
        return ONE if node.name == var else ZERO
    if isinstance(node, Neg):
        return neg(differentiate(node.operand, var))
    if isinstance(node, Deriv):
        return differentiate(expand_derivatives(node), var)
    if isinstance(node, Call):
        rule = _DERIVATIVES.get(node.func)
        if rule is None or len(node.args) != 1:
            raise AnswerParseError(
                f"your answer differentiates {node.func}, which the grader cannot do"
            )
        (u,) = node.args
        return mul(rule(u), differentiate(u, var))
    if isinstance(node, Transpose):
        raise AnswerParseError("your answer differentiates a transpose, which the grader cannot do")
    return _binary(node, var)


def _binary(node: Bin, var: str) -> Node:
    a, b = node.left, node.right
    da, db = differentiate(a, var), differentiate(b, var)
    if node.op == "+":
        return add(da, db)
    if node.op == "-":
        return sub(da, db)
    if node.op == "*":
        return add(mul(da, b), mul(a, db))
    if node.op == "/":
        return div(sub(mul(da, b), mul(a, db)), power(b, TWO))
    if node.op == "^":
        if db == ZERO:
            if isinstance(b, Num):
                return mul(mul(b, power(a, Num(b.value - 1))), da)
            return mul(mul(b, power(a, sub(b, ONE))), da)
        if a == Const("e"):
            return mul(node, db)
        return mul(node, add(mul(db, call("log", a)), div(mul(b, da), a)))
    raise AnswerParseError(
        f"your answer differentiates a `{node.op}` product, which the grader cannot do"
    )


def expand_derivatives(node: Node) -> Node:
    """The tree with every d/dx replaced by its result (innermost first)."""
    if isinstance(node, Deriv):
        return differentiate(expand_derivatives(node.operand), node.var)
    if not children(node):
        return node
    if isinstance(node, Call):
        return Call(node.func, tuple(expand_derivatives(a) for a in node.args))
    if isinstance(node, Neg):
        return Neg(expand_derivatives(node.operand))
    if isinstance(node, Transpose):
        return Transpose(expand_derivatives(node.operand))
    assert isinstance(node, Bin)
    return Bin(node.op, expand_derivatives(node.left), expand_derivatives(node.right))
