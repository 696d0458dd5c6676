"""Backpropagation in general: ∂L/∂θ of a scalar loss written as a sequence of definitions over
given numbers, exact or with every step rounded the way a student does it on paper, and the
symbolic derivative of such a definition for expression questions.

Definitions are parsed by the grader's own safe parser (`grader.mathparse`), never by sympify or
eval; the names they may use are the given values and the definitions before them.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from reference.params import StrictParams
from reference.registry import reference


class ChainParams(StrictParams):
    """`definitions` in order (name: formula), the last one the loss; `values` the given numbers."""

    definitions: dict[str, str] = Field(min_length=1, description="name: formula, in order; the last is the loss")
    values: dict[str, float] = Field(description="the given numbers: weights, inputs, labels")
    wrt: str = Field(description="the value (or definition) to differentiate the loss by")
    round_decimals: int | None = Field(None, ge=0, le=12, description="round every forward value, local "
                                                                      "derivative and product to this many decimals")
    replace: dict[str, str] = Field(default_factory=dict, description="known mistakes: a definition's formula "
                                                                      "replaced by another (e.g. σ(−z) for σ(z))")

    @model_validator(mode="after")
    def _names(self) -> ChainParams:
        clash = set(self.definitions) & set(self.values)
        if clash:
            raise ValueError(f"{sorted(clash)} are both given and defined")
        if self.wrt not in self.values and self.wrt not in self.definitions:
            raise ValueError(f"wrt {self.wrt!r} is neither a given value nor a definition")
        unknown = set(self.replace) - set(self.definitions)
        if unknown:
            raise ValueError(f"replace names no definition: {sorted(unknown)}")
        return self


def _parse_all(p: ChainParams) -> list[tuple[str, Any]]:
    """(name, tree) per definition, each over the values and the definitions before it."""
    from grader.mathparse.parser import ParseConfig, parse

    known = set(p.values)
    trees = []
    for name, text in p.definitions.items():
        tree = parse(p.replace.get(name, text), ParseConfig(variables=frozenset(known)))
        trees.append((name, tree))
        known.add(name)
    return trees


def _evaluate(tree: Any, point: dict[str, float]) -> float:
    from grader.mathparse.evaluate import eval_float

    env = {k: np.array([v], dtype=np.float64) for k, v in point.items()}
    value = float(eval_float(tree, env, 1).values[0])
    if not np.isfinite(value):
        raise ValueError(f"a definition is not finite at the given values ({value})")
    return value


def _rounder(decimals: int | None) -> Any:
    if decimals is None:
        return lambda v: v
    quantum = Decimal(1).scaleb(-decimals)
    return lambda v: float(Decimal(repr(v)).quantize(quantum, rounding=ROUND_HALF_UP))


@reference("chain_rule_gradient", ChainParams)
def chain_rule_gradient(p: ChainParams) -> float:
    """Forward through the definitions, then reverse: each definition's adjoint times its local
    derivative (differentiated symbolically, evaluated at the forward values) flows to its inputs."""
    from grader.mathparse.ast import free_variables
    from grader.mathparse.differentiate import differentiate

    r = _rounder(p.round_decimals)
    trees = _parse_all(p)
    point = dict(p.values)
    for name, tree in trees:
        point[name] = r(_evaluate(tree, point))
    adjoint = {trees[-1][0]: 1.0}
    for name, tree in reversed(trees):
        upstream = adjoint.get(name, 0.0)
        if upstream == 0.0:
            continue
        for var in sorted(free_variables(tree)):
            local = r(_evaluate(differentiate(tree, var), point))
            adjoint[var] = r(adjoint.get(var, 0.0) + r(upstream * local))
    return adjoint.get(p.wrt, 0.0)


class DerivativeParams(StrictParams):
    """A formula built from definitions (inlined into the last one) differentiated by a variable;
    the answer is the formula, for expression questions."""

    definitions: dict[str, str] = Field(min_length=1, description="name: formula, in order; the last is differentiated")
    variables: list[str] = Field(min_length=1, description="the free variables of the answer")
    wrt: str


def _substitute(tree: Any, bound: dict[str, Any]) -> Any:
    from grader.mathparse.ast import Var

    if isinstance(tree, Var):
        return bound.get(tree.name, tree)
    if not dataclasses.is_dataclass(tree) or isinstance(tree, type):
        return tree
    changes = {}
    for f in dataclasses.fields(tree):
        value = getattr(tree, f.name)
        if isinstance(value, tuple):
            changes[f.name] = tuple(_substitute(v, bound) for v in value)
        elif dataclasses.is_dataclass(value):
            changes[f.name] = _substitute(value, bound)
    return dataclasses.replace(tree, **changes)


@reference("chain_rule_derivative", DerivativeParams)
def chain_rule_derivative(p: DerivativeParams) -> str:
    """d(last definition)/d(wrt) with every definition inlined, as a formula."""
    from grader.mathparse.ast import to_text
    from grader.mathparse.differentiate import differentiate
    from grader.mathparse.parser import ParseConfig, parse

    known, bound = set(p.variables), dict[str, Any]()
    for name, text in p.definitions.items():
        bound[name] = _substitute(parse(text, ParseConfig(variables=frozenset(known | set(bound)))), bound)
    last = bound[list(p.definitions)[-1]]
    return to_text(differentiate(last, p.wrt))
