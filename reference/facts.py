"""References for yes/no, interval and graph questions, each derived from its definition."""

from __future__ import annotations

import ast
from typing import Any, Literal

from pydantic import Field, model_validator

from reference.params import StrictParams
from reference.registry import reference

# --- the range of an activation function ---------------------------------------------------------

Activation = Literal["tanh", "sigmoid", "relu", "softplus", "identity"]


class RangeParams(StrictParams):
    function: Activation


def _pieces(name: Activation, x: Any) -> list[tuple[Any, Any]]:
    """The activation as (expression, domain) pieces, so that kinks like ReLU's are handled."""
    import sympy

    reals = sympy.S.Reals
    return {
        "tanh": lambda: [(sympy.tanh(x), reals)],
        "sigmoid": lambda: [(1 / (1 + sympy.exp(-x)), reals)],
        "relu": lambda: [(sympy.S.Zero, sympy.Interval.open(-sympy.oo, 0)),
                         (x, sympy.Interval(0, sympy.oo))],
        "softplus": lambda: [(sympy.log(1 + sympy.exp(x)), reals)],
        "identity": lambda: [(x, reals)],
    }[name]()


def _end(value: object) -> str:
    text = str(value)
    return {"oo": "inf", "-oo": "-inf"}.get(text, text)


@reference("activation_range", RangeParams)
def activation_range(p: RangeParams) -> dict[str, object]:
    """The set of values an activation takes over all real inputs (sympy's function_range)."""
    import sympy
    from sympy.calculus.util import function_range

    x = sympy.Symbol("x", real=True)
    interval = sympy.Union(*(function_range(f, x, domain) for f, domain in _pieces(p.function, x)))
    return {
        "low": _end(interval.start),
        "high": _end(interval.end),
        "low_open": bool(interval.left_open),
        "high_open": bool(interval.right_open),
    }


# --- which gradients a dead ReLU unit forces to zero ---------------------------------------------


class ReluGradParams(StrictParams):
    weights: dict[str, tuple[str, str]] = Field(description="weight name -> (from unit, to unit)")
    outputs: list[str] = Field(min_length=1, description="units the loss reads")
    dead_units: list[str] = Field(description="ReLU units whose input is negative")
    asked: list[str] = Field(min_length=1, description="the weights the question asks about")

    @model_validator(mode="after")
    def _asked_are_weights(self) -> ReluGradParams:
        unknown = [w for w in self.asked if w not in self.weights]
        if unknown:
            raise ValueError(f"asked names unknown weights: {unknown}")
        return self


def _silent_units(p: ReluGradParams) -> set[str]:
    """Units whose error signal δ is zero whatever the other values are."""
    units = {u for edge in p.weights.values() for u in edge}
    successors = {u: [b for a, b in p.weights.values() if a == u] for u in units}
    silent = set(p.dead_units)
    changed = True
    while changed:
        changed = False
        for unit in units - silent - set(p.outputs):
            if successors[unit] and all(s in silent for s in successors[unit]):
                silent.add(unit)
                changed = True
    return silent


@reference("relu_zero_grads", ReluGradParams)
def relu_zero_grads(p: ReluGradParams) -> list[str]:
    """For each asked weight a -> b: YES when ∂L/∂w = δ_b · a is zero for every other value."""
    silent = _silent_units(p)
    dead = set(p.dead_units)
    answers = []
    for name in p.asked:
        source, target = p.weights[name]
        answers.append("yes" if source in dead or target in silent else "no")
    return answers


# --- the computation graph of a forward definition ----------------------------------------------


class GraphParams(StrictParams):
    nodes: list[str] = Field(min_length=2, description="the node names the question uses")
    definitions: dict[str, str] = Field(
        description="node -> its forward definition in numpy notation, e.g. 'W1 @ x + b1'"
    )

    @model_validator(mode="after")
    def _defined_nodes_known(self) -> GraphParams:
        unknown = [n for n in self.definitions if n not in self.nodes]
        if unknown:
            raise ValueError(f"definitions for nodes not in nodes: {unknown}")
        return self


def _names_in(definition: str) -> set[str]:
    # Rubric text, not student input: parsed to a syntax tree, never evaluated.
    tree = ast.parse(definition, mode="eval")
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


@reference("computation_graph", GraphParams)
def computation_graph(p: GraphParams) -> list[str]:
    """Edges `a -> b` for every node a that b's definition reads."""
    edges = []
    for target, definition in p.definitions.items():
        for source in p.nodes:
            if source in _names_in(definition):
                edges.append(f"{source} -> {target}")
    return edges
