"""Backpropagation numerics: a gradient computed from the network, its weights, input and label.

The exact value comes from sympy differentiation of the loss. The "round every step" value
replays backpropagation node by node, rounding each forward value and each backward product,
the way a student does it on paper.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.mathparse.functions import sigmoid
from reference.registry import reference

Node = Literal["h1", "h2", "y_hat"]
Weight = Literal["w1", "w2", "w3", "w4", "w5", "w6"]


class TwoLayerSigmoidParams(BaseModel):
    """h1 = σ(w1 x1 + w2 x2), h2 = σ(w3 x3 + w4 x4), ŷ = σ(w5 h1 + w6 h2), L = (y − ŷ)²."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    w: list[float] = Field(min_length=6, max_length=6, description="weights w1..w6")
    x: list[float] = Field(min_length=4, max_length=4, description="inputs x1..x4")
    y: float = Field(description="label")
    wrt: Weight = Field("w3", description="the weight to differentiate by")
    round_decimals: int | None = Field(None, ge=0, le=12, description="round every step")
    negate_preactivation: list[Node] = Field(
        default_factory=list, description="mistake: take σ(−z) instead of σ(z) at these units"
    )


@lru_cache(maxsize=64)
def _symbolic_grad(wrt: str, negated: tuple[str, ...]) -> tuple[Any, tuple[Any, ...]]:
    """∂L/∂w_k as a sympy expression in the symbols w1..w6, x1..x4, y (derived once per shape)."""
    import sympy

    w = sympy.symbols("w1:7")
    x = sympy.symbols("x1:5")
    y = sympy.Symbol("y")
    sign = {n: (-1 if n in negated else 1) for n in ("h1", "h2", "y_hat")}

    def sigma(z: sympy.Expr) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-z))

    h1 = sigma(sign["h1"] * (w[0] * x[0] + w[1] * x[1]))
    h2 = sigma(sign["h2"] * (w[2] * x[2] + w[3] * x[3]))
    y_hat = sigma(sign["y_hat"] * (w[4] * h1 + w[5] * h2))
    loss = (y - y_hat) ** 2
    return sympy.diff(loss, w[int(wrt[1]) - 1]), (*w, *x, y)


def _exact(p: TwoLayerSigmoidParams) -> float:
    import sympy

    grad, symbols = _symbolic_grad(p.wrt, tuple(sorted(p.negate_preactivation)))
    values = [sympy.Rational(str(v)) for v in (*p.w, *p.x, p.y)]
    return float(grad.evalf(30, subs=dict(zip(symbols, values, strict=True))))


class _Rounder:
    def __init__(self, decimals: int) -> None:
        self.quantum = Decimal(1).scaleb(-decimals)

    def __call__(self, value: Decimal) -> Decimal:
        return value.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def sigmoid(self, z: Decimal) -> Decimal:
        return self(sigmoid(z, Decimal.exp))


def _rounded(p: TwoLayerSigmoidParams, decimals: int) -> float:
    r = _Rounder(decimals)
    w = [Decimal(str(v)) for v in p.w]
    x = [Decimal(str(v)) for v in p.x]
    sign = {n: Decimal(-1 if n in p.negate_preactivation else 1) for n in ("h1", "h2", "y_hat")}
    # forward, every value rounded
    h1 = r.sigmoid(sign["h1"] * r(w[0] * x[0] + w[1] * x[1]))
    h2 = r.sigmoid(sign["h2"] * r(w[2] * x[2] + w[3] * x[3]))
    y_hat = r.sigmoid(sign["y_hat"] * r(w[4] * h1 + w[5] * h2))
    # backward, every product rounded; σ'(z) = σ(z)(1 − σ(z)), times the sign for σ(−z)
    d_y_hat = r(-2 * (Decimal(str(p.y)) - y_hat))
    d_z3 = r(d_y_hat * r(sign["y_hat"] * y_hat * (1 - y_hat)))
    hidden = {"h1": (h1, w[4], (x[0], x[1])), "h2": (h2, w[5], (x[2], x[3]))}
    index = int(p.wrt[1])
    if index >= 5:
        return float(r(d_z3 * (h1 if index == 5 else h2)))
    unit = "h1" if index <= 2 else "h2"
    h, w_out, inputs = hidden[unit]
    d_h = r(d_z3 * w_out)
    d_z = r(d_h * r(sign[unit] * h * (1 - h)))
    return float(r(d_z * inputs[(index - 1) % 2]))


@reference("two_layer_sigmoid_grad", TwoLayerSigmoidParams)
def two_layer_sigmoid_grad(p: TwoLayerSigmoidParams) -> float:
    """∂L/∂w_k of the two-hidden-unit sigmoid network, exact or with every step rounded."""
    if p.round_decimals is None:
        return _exact(p)
    return _rounded(p, p.round_decimals)
