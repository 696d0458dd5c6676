"""Formulas derived from forward definitions: derivatives of activations, and matrix gradients.

Nothing is typed in. `derivative` differentiates a function with sympy (σ is a sympy function
whose derivative is σ(1 − σ), so results stay in σ when the rubric asks for it);
`output_derivative` re-expresses a derivative through the unit's output; `matrix_gradient` runs
reverse-mode differentiation symbolically over the rubric's forward pass (numpy notation, read
by the grader's own safe parser) and checks the result against finite differences before
returning it; `affine_collapse` composes affine layers into one.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import Field

from grader.mathparse.ast import Bin, Call, Neg, Node, Num, Transpose, Var, to_text, walk
from grader.mathparse.differentiate import ONE, ZERO
from grader.mathparse.world import WorldSpec
from reference.params import StrictParams
from reference.registry import reference

# --- scalar derivatives --------------------------------------------------------------------------


class DerivativeParams(StrictParams):
    expression: str = Field(description="the function, e.g. tanh(x)")
    variable: str = "x"
    in_terms_of: Literal["sigmoid"] | None = Field(
        None, description="rewrite tanh through σ first (tanh(u) = 2σ(2u) − 1), so f' uses σ"
    )


class OutputDerivativeParams(StrictParams):
    forward: str = Field(
        description="the unit's output as a function of its input, e.g. sigmoid(z)"
    )
    input: str = "z"
    output: str = "y"


def _sympy_sigma() -> Any:
    import sympy

    class sigma(sympy.Function):  # type: ignore[misc]  # the printed name
        @classmethod
        def eval(cls, arg: Any) -> Any:  # safe: sympy's evaluation hook, not Python's eval
            return None

        def fdiff(self, argindex: int = 1) -> Any:
            return self * (1 - self)

    return sigma


def _to_sympy_keep_sigma(tree: Node, symbols: dict[str, Any]) -> Any:
    import sympy

    from grader.mathparse.symbolic import to_sympy

    sigma = _sympy_sigma()
    placeholder = sympy.Function("__sigmoid_placeholder")
    marked = _rename_calls(tree, {"sigmoid": "__sigmoid_placeholder"})
    expr = _build_with_placeholders(marked, symbols, placeholder, to_sympy)
    return expr.replace(placeholder, sigma), sigma


def _rename_calls(tree: Node, names: dict[str, str]) -> Node:
    if isinstance(tree, Call):
        return Call(
            names.get(tree.func, tree.func), tuple(_rename_calls(a, names) for a in tree.args)
        )
    if isinstance(tree, Neg):
        return Neg(_rename_calls(tree.operand, names))
    if isinstance(tree, Bin):
        return Bin(tree.op, _rename_calls(tree.left, names), _rename_calls(tree.right, names))
    return tree


def _build_with_placeholders(
    tree: Node, symbols: dict[str, Any], placeholder: Any, to_sympy: Any
) -> Any:
    import sympy

    if isinstance(tree, Call) and tree.func == "__sigmoid_placeholder":
        return placeholder(_build_with_placeholders(tree.args[0], symbols, placeholder, to_sympy))
    if isinstance(tree, Neg):
        return -_build_with_placeholders(tree.operand, symbols, placeholder, to_sympy)
    if isinstance(tree, Bin):
        a = _build_with_placeholders(tree.left, symbols, placeholder, to_sympy)
        b = _build_with_placeholders(tree.right, symbols, placeholder, to_sympy)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": sympy.Pow(a, b)}[tree.op]
    return to_sympy(tree, symbols)


def _from_sympy(expr: Any) -> str:
    """sympy back to the grader's plain syntax (read again by the safe parser)."""
    import sympy

    if expr.is_Integer or expr.is_Rational:
        return str(expr) if expr.q == 1 else f"({expr.p}/{expr.q})"
    if expr.is_Symbol:
        return str(expr.name)
    if expr == sympy.E:
        return "e"
    if expr.is_Add:
        terms = sorted(
            expr.args, key=lambda t: (t.could_extract_minus_sign(), sympy.default_sort_key(t))
        )
        text = _from_sympy(terms[0])
        for term in terms[1:]:
            text += (
                f" - {_factor(-term)}"
                if term.could_extract_minus_sign()
                else f" + {_from_sympy(term)}"
            )
        return text
    if expr.is_Mul:
        coeff, factors = expr.as_coeff_mul()
        factors = list(factors)
        for index, factor in enumerate(factors):  # −4·σ·(σ − 1) reads better as 4·σ·(1 − σ)
            if coeff < 0 and factor.is_Add and factor.as_coeff_Add()[0] < 0:
                factors[index], coeff = sympy.expand(-factor), -coeff
        sign = "-" if coeff < 0 else ""
        parts = [] if abs(coeff) == 1 else [_from_sympy(abs(coeff))]
        parts += [_factor(f) for f in factors]
        return sign + "*".join(parts)
    if expr.is_Pow:
        return f"{_factor(expr.base)}^{_factor(expr.exp)}"
    if expr.is_Function:
        name = {"sigma": "sigmoid", "exp": "exp", "log": "log", "tanh": "tanh"}.get(
            type(expr).__name__, type(expr).__name__
        )
        return f"{name}({', '.join(_from_sympy(a) for a in expr.args)})"
    raise ValueError(f"cannot write {expr} in the grader's syntax")


def _factor(expr: Any) -> str:
    text = _from_sympy(expr)
    simple = expr.is_Symbol or expr.is_Function or (expr.is_Integer and expr >= 0)
    return text if simple else f"({text})"


def _tidy(expr: Any) -> Any:
    import sympy

    return sympy.factor(expr)


@reference("derivative", DerivativeParams)
def derivative(p: DerivativeParams) -> str:
    """f'(x) of a formula, derived by sympy (optionally through σ)."""
    import sympy

    from grader.mathparse import parse_scalar

    tree = parse_scalar(p.expression, {p.variable})
    x = sympy.Symbol(p.variable, real=True)
    expr, sigma = _to_sympy_keep_sigma(tree, {p.variable: x})
    if p.in_terms_of == "sigmoid":
        expr = expr.replace(sympy.tanh, lambda u: 2 * sigma(2 * u) - 1)
    result = _tidy(sympy.diff(expr, x))
    return _from_sympy(result)


@reference("output_derivative", OutputDerivativeParams)
def output_derivative(p: OutputDerivativeParams) -> str:
    """d(output)/d(input) written with the output alone (e.g. the logistic unit's y(1 − y))."""
    import sympy

    from grader.mathparse import parse_scalar

    tree = parse_scalar(p.forward, {p.input})
    z, y = sympy.Symbol(p.input, real=True), sympy.Symbol(p.output, real=True)
    forward, _ = _to_sympy_keep_sigma(tree, {p.input: z})
    result = sympy.diff(forward, z).subs(forward, y)
    if z in result.free_symbols:
        solutions = sympy.solve(sympy.Eq(forward, y), z)
        if not solutions:
            raise ValueError(f"cannot write d{p.output}/d{p.input} with {p.output} alone")
        result = sympy.simplify(result.subs(z, solutions[0]))
    if z in result.free_symbols:
        raise ValueError(f"d{p.output}/d{p.input} still depends on {p.input}")
    return _from_sympy(_tidy(result))


# --- matrix gradients ----------------------------------------------------------------------------


class MatrixGradientParams(WorldSpec):
    of: str = Field(
        description="the scalar (a definition) to differentiate, or the node `seed` flows into"
    )
    wrt: str = Field(description="the symbol to differentiate by")
    seed: str | None = Field(
        None, description="a symbol holding ∂(loss)/∂(of) when `of` is not a scalar"
    )


class AffineCollapseParams(WorldSpec):
    input: str = Field(description="the input symbol, e.g. x")
    output: str = Field(description="the last layer's output, e.g. y2")
    part: Literal["weight", "bias"]


_DERIVATIVE_OF = {
    "sigmoid": "sigmoid_prime",
    "tanh": "tanh_prime",
    "relu": "relu_prime",
    "softplus": "sigmoid",
    "exp": "exp",
}


class _Reverse:
    """Symbolic reverse mode over the forward pass, in the grader's own tree."""

    def __init__(self, spec: WorldSpec) -> None:
        from grader.mathparse.matrix import infer_shape

        self.world = spec.world()
        self.shapes = self.world.shapes()
        self.definitions = dict(self.world.definitions)
        self._infer_shape = infer_shape
        self.adjoints: dict[str, Node] = {}
        generic = [n for n, impl in spec.functions.items() if impl == "generic_prime"]
        self.derivative_of = dict(_DERIVATIVE_OF)
        for name, impl in spec.functions.items():
            if impl == "generic" and generic:
                self.derivative_of[name] = generic[0]
            elif impl in _DERIVATIVE_OF:
                self.derivative_of[name] = _DERIVATIVE_OF[impl]
        self.functions = spec.functions
        self.one_hot = set(spec.one_hot)

    def infer(self, node: Node) -> tuple[int, ...]:
        return self._infer_shape(node, self.shapes, self.world)

    def gradient(self, of: str, wrt: str, seed: str | None) -> Node:
        self.relevant = self._depending_on(wrt)
        if of not in self.relevant:
            raise ValueError(f"{of} does not depend on {wrt}")
        start: Node = Var(seed) if seed else ONE
        if seed is None and self.shapes[of] != ():
            raise ValueError(f"{of} is not a scalar: give `seed`, the symbol holding ∂loss/∂{of}")
        self.adjoints = {of: start}
        for name, definition in reversed(self.world.definitions):
            if name in self.adjoints:
                self.backprop(definition, self.adjoints.pop(name))
        if wrt not in self.adjoints:
            raise ValueError(f"no path from {wrt} to {of}")
        return self.strip_vector_transposes(self.adjoints[wrt])

    def strip_vector_transposes(self, node: Node) -> Node:
        """`r.T` of a vector is `r`: drop transposes that do nothing."""
        if isinstance(node, Transpose):
            inner = self.strip_vector_transposes(node.operand)
            return inner if len(self.infer(inner)) < 2 else Transpose(inner)
        if isinstance(node, Call):
            return Call(node.func, tuple(self.strip_vector_transposes(a) for a in node.args))
        if isinstance(node, Neg):
            return Neg(self.strip_vector_transposes(node.operand))
        if isinstance(node, Bin):
            return Bin(
                node.op,
                self.strip_vector_transposes(node.left),
                self.strip_vector_transposes(node.right),
            )
        return node

    def _depending_on(self, wrt: str) -> set[str]:
        relevant = {wrt}
        for name, definition in self.world.definitions:
            if any(isinstance(n, Var) and n.name in relevant for n in walk(definition)):
                relevant.add(name)
        return relevant

    def depends(self, node: Node) -> bool:
        return any(isinstance(n, Var) and n.name in self.relevant for n in walk(node))

    def accumulate(self, name: str, g: Node) -> None:
        self.adjoints[name] = add(self.adjoints[name], g) if name in self.adjoints else g

    def backprop(self, node: Node, g: Node) -> None:
        if not self.depends(node):
            return
        if isinstance(node, Var):
            self.accumulate(node.name, g)
        elif isinstance(node, Neg):
            self.backprop(node.operand, neg(g))
        elif isinstance(node, Transpose):
            self.backprop(node.operand, self.transpose(g))
        elif isinstance(node, Call):
            self.call(node, g)
        elif isinstance(node, Bin):
            self.binary(node, g)
        else:
            raise ValueError(f"cannot differentiate {to_text(node)}")

    def transpose(self, node: Node) -> Node:
        if len(self.infer(node)) < 2:
            return node
        return node.operand if isinstance(node, Transpose) else Transpose(node)

    def call(self, node: Call, g: Node) -> None:
        (u,) = node.args
        if node.func == "sum":
            self.backprop(u, g)  # a scalar adjoint broadcasts over u
        elif node.func == "log" and self._softmax_of(u) is not None:
            self.log_softmax(self._softmax_of(u), g)  # type: ignore[arg-type]
        elif node.func == "log":
            self.backprop(u, div(g, u))
        elif node.func in self.derivative_of:
            self.backprop(u, mul(Call(self.derivative_of[node.func], (u,)), g))
        else:
            raise ValueError(f"cannot differentiate {node.func}")

    def _softmax_of(self, u: Node) -> Node | None:
        if isinstance(u, Call) and u.func == "softmax":
            return u.args[0]
        if isinstance(u, Var) and isinstance(self.definitions.get(u.name), Call):
            inner = self.definitions[u.name]
            assert isinstance(inner, Call)
            return inner.args[0] if inner.func == "softmax" else None
        return None

    def log_softmax(self, logits: Node, g: Node) -> None:
        """d/do of Σ g·log softmax(o) = g − softmax(o)·colsum(g); colsum is known for one-hot g."""
        coefficient, target = _coefficient(g)
        if not (isinstance(target, Var) and target.name in self.one_hot):
            raise ValueError("log(softmax(·)) is differentiated only against one-hot targets")
        probabilities = self._named(Call("softmax", (logits,)))
        self.backprop(logits, sub(g, mul(Num(coefficient), probabilities)))

    def _named(self, node: Node) -> Node:
        for name, definition in self.world.definitions:
            if definition == node:
                return Var(name)
        return node

    def binary(self, node: Bin, g: Node) -> None:
        a, b = node.left, node.right
        op = node.op
        if op == "dot":
            op = "*" if not self.infer(a) or not self.infer(b) else "@"
        if op in "+-":
            self.backprop(a, self.unbroadcast(g, a))
            self.backprop(b, self.unbroadcast(g if op == "+" else neg(g), b))
        elif op == "*":
            self.backprop(a, self.unbroadcast(mul(b, g), a))
            self.backprop(b, self.unbroadcast(mul(a, g), b))
        elif op == "/":
            self.backprop(a, div(g, b))
            self.backprop(b, neg(div(mul(a, g), Bin("^", b, Num(Fraction(2))))))
        elif op == "^":
            if self.depends(b) or not isinstance(b, Num):
                raise ValueError("only constant powers can be differentiated")
            self.backprop(a, mul(mul(b, power(a, b.value - 1)), g))
        elif op == "@":
            self.matmul(a, b, g)

    def matmul(self, a: Node, b: Node, g: Node) -> None:
        sa, sb = self.infer(a), self.infer(b)
        if len(sa) == 1 and len(sb) == 1:
            self.backprop(a, mul(g, b))
            self.backprop(b, mul(g, a))
        elif len(sa) == 2 and len(sb) == 1:
            self.backprop(a, Call("outer", (g, b)))
            self.backprop(b, matmul(self.transpose(a), g))
        elif len(sa) == 1:
            self.backprop(a, matmul(b, g))
            self.backprop(b, Call("outer", (a, g)))
        else:
            self.backprop(a, matmul(g, self.transpose(b)))
            self.backprop(b, matmul(self.transpose(a), g))

    def unbroadcast(self, g: Node, target: Node) -> Node:
        if self.depends(target) and self.infer(g) not in ((), self.infer(target)):
            raise ValueError(f"cannot sum a broadcast adjoint back onto {to_text(target)}")
        return g


def _coefficient(node: Node) -> tuple[Fraction, Node]:
    if isinstance(node, Neg):
        c, rest = _coefficient(node.operand)
        return -c, rest
    if isinstance(node, Bin) and node.op == "*" and isinstance(node.left, Num):
        c, rest = _coefficient(node.right)
        return node.left.value * c, rest
    return Fraction(1), node


# smart constructors: fold numbers and signs so that derived formulas read like hand-written ones


def add(a: Node, b: Node) -> Node:
    if a == ZERO:
        return b
    if b == ZERO:
        return a
    if isinstance(b, Neg):
        return sub(a, b.operand)
    if isinstance(a, Neg):
        return sub(b, a.operand)
    return Bin("+", a, b)


def sub(a: Node, b: Node) -> Node:
    if isinstance(b, Neg):
        return add(a, b.operand)
    if isinstance(b, Bin) and b.op == "*" and isinstance(b.left, Num) and b.left.value < 0:
        return add(a, mul(Num(-b.left.value), b.right))
    if a == ZERO:
        return neg(b)
    return Bin("-", a, b)


def neg(a: Node) -> Node:
    if isinstance(a, Neg):
        return a.operand
    if isinstance(a, Num):
        return Num(-a.value)
    if isinstance(a, Bin) and a.op == "-":
        return Bin("-", a.right, a.left)
    return Neg(a)


def mul(a: Node, b: Node) -> Node:
    if isinstance(b, Num) and not isinstance(a, Num):
        a, b = b, a
    if isinstance(a, Num):
        if a.value == 1:
            return b
        if isinstance(b, Num):
            return Num(a.value * b.value)
        if isinstance(b, Neg):
            return mul(Num(-a.value), b.operand)
        if isinstance(b, Bin) and b.op == "*" and isinstance(b.left, Num):
            return mul(Num(a.value * b.left.value), b.right)
        if a.value == -1:
            return neg(b)
        if a.value < 0:
            return neg(mul(Num(-a.value), b))
    if isinstance(b, Neg):
        return neg(mul(a, b.operand))
    if isinstance(a, Neg):
        return neg(mul(a.operand, b))
    if isinstance(b, Bin) and b.op == "*" and isinstance(b.left, Num):
        return mul(b.left, mul(a, b.right))
    return Bin("*", a, b)


def div(a: Node, b: Node) -> Node:
    return a if b == ONE else Bin("/", a, b)


def power(a: Node, exponent: Fraction) -> Node:
    return a if exponent == 1 else ONE if exponent == 0 else Bin("^", a, Num(exponent))


def matmul(a: Node, b: Node) -> Node:
    if isinstance(b, Neg):
        return neg(matmul(a, b.operand))
    if isinstance(a, Neg):
        return neg(matmul(a.operand, b))
    return Bin("@", a, b)


def _finite_difference_check(
    spec: WorldSpec, result: Node, of: str, wrt: str, seed: str | None
) -> None:
    """The derived gradient agrees with central differences of the forward pass at one draw."""
    import numpy as np

    from grader.mathparse.matrix import draw, evaluate

    world = spec.world()
    base = draw(world, 12345)
    inputs = {n: v for n, v in base.items() if n in world.symbols}

    def objective(env: dict[str, Any]) -> float:
        full = dict(env)
        for name, definition in world.definitions:
            full[name] = evaluate(definition, full, world)[0]
        value = full[of]
        return float(np.sum(value * full[seed]) if seed else value)

    derived = evaluate(result, base, world)[0]
    numeric = np.zeros_like(inputs[wrt])
    step = 1e-6
    for index in np.ndindex(*inputs[wrt].shape):
        for sign in (1, -1):
            moved = {n: v.copy() for n, v in inputs.items()}
            moved[wrt][index] += sign * step
            numeric[index] += sign * objective(moved) / (2 * step)
    if derived.shape != numeric.shape and derived.size == numeric.size:
        derived = derived.reshape(numeric.shape)
    if derived.shape != numeric.shape or not np.allclose(derived, numeric, rtol=1e-5, atol=1e-6):
        raise ValueError(
            f"the derived gradient {to_text(result)} fails the finite-difference check"
        )


@reference("matrix_gradient", MatrixGradientParams)
def matrix_gradient(p: MatrixGradientParams) -> str:
    """∂(of)/∂(wrt) by symbolic reverse mode over the forward pass, checked numerically."""
    reverse = _Reverse(p)
    result = reverse.gradient(p.of, p.wrt, p.seed)
    _finite_difference_check(p, result, p.of, p.wrt, p.seed)
    return to_text(result)


@reference("affine_collapse", AffineCollapseParams)
def affine_collapse(p: AffineCollapseParams) -> str:
    """The weight or bias of the single affine map that a stack of affine layers computes."""
    world = p.world()
    parts: dict[
        str, tuple[Node | None, Node]
    ] = {}  # name -> (linear part A or None for I, offset c)

    def split(node: Node) -> tuple[Node | Literal[0] | None, Node]:
        """node = A @ input + c, where A is None for the identity and 0 when it does not depend."""
        if isinstance(node, Var):
            if node.name == p.input:
                return None, ZERO
            if node.name in parts:
                return parts[node.name]
            return 0, node
        if isinstance(node, Bin) and node.op in "+-":
            (a1, c1), (a2, c2) = split(node.left), split(node.right)
            return _affine_sum(a1, a2, node.op), (add(c1, c2) if node.op == "+" else sub(c1, c2))
        if (
            isinstance(node, Bin)
            and node.op in ("@", "dot")
            and not _uses(node.left, p.input, parts)
        ):
            a, c = split(node.right)
            linear: Node | Literal[0] | None = (
                0 if a == 0 else node.left if a is None else matmul(node.left, a)
            )
            return linear, (ZERO if c == ZERO else matmul(node.left, c))
        raise ValueError(f"{to_text(node)} is not affine in {p.input}")

    for name, definition in world.definitions:
        linear, offset = split(definition)
        if linear == 0:
            raise ValueError(f"{name} does not depend on {p.input}")
        parts[name] = (linear, offset)
    if p.output not in parts:
        raise ValueError(f"{p.output} is not a definition")
    linear, offset = parts[p.output]
    if p.part == "bias":
        return to_text(offset)
    if linear is None:
        raise ValueError("the map's weight is the identity")
    return to_text(linear)


def _uses(node: Node, name: str, parts: dict[str, Any]) -> bool:
    return any(isinstance(n, Var) and (n.name == name or n.name in parts) for n in walk(node))


def _affine_sum(a1: Any, a2: Any, op: str) -> Any:
    if a1 == 0:
        if a2 == 0 or op == "+":
            return a2
        if a2 is None:
            raise ValueError("a negated identity map is not supported")
        return neg(a2)
    if a2 == 0:
        return a1
    raise ValueError("both sides of a sum depend on the input: not supported")
